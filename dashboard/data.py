"""The dashboard's one data-access module: connections, cached queries, the few writes pages make.

* One read-write DuckDB connection per database file, held for the life of the server
  (a module-level registry); every query runs on its own ``cursor()`` so pages, flag reviews and the
  background processing thread (``pipeline.jobs``) share it safely. See ``pipeline/jobs.py`` for why
  processing runs in-process instead of in a second process.
* Queries are :func:`cached_query` functions (``st.cache_data(ttl=...)``) keyed by the database path and a per-database
  *version* that every write through this module (and every finished processing job) bumps, so a
  finished run or a saved review is visible on the next rerun while repeated renders hit the cache.
* Numbers shown as KPIs come from the analytics tables that ``zones.analyse`` materialises
  (``pipeline/db/migrations/v0002_analytics.py``); the queries only filter them to the selected period and
  sum counts across days. Pages do no maths.
* No SQL text lives here: every query is a named constant in ``pipeline/db/dashboard.py`` (the path
  queries shared with the analytics are in ``pipeline/db/analytics/paths.py``), run with ``?`` parameters.

Periods are half-open ``[start, end)`` naive store-local timestamps.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import streamlit as st
import yaml

import zones as zones_api
from pipeline.config import StoreConfig, config_to_dict, parse_config
from pipeline.db import connect
from pipeline.db import dashboard as dashboard_sql
from pipeline.db import shoppers as shoppers_db
from pipeline.db import tracks as tracks_db
from pipeline.db.analytics import paths as paths_sql
from pipeline.db.connection import DatabaseLockedError
from pipeline.db.store_config import stored_config
from pipeline.errors import ConfigError, UserError

TTL_S = 600
REPORT_CACHE_ENTRIES = 16  # whole CSV sets are large: keep a few
ENV_DATA_DIR = "SHOPPER_DATA_DIR"
ENV_DB = "SHOPPER_DB"
DEMO_DB_NAME = "demo.duckdb"
NOT_SHOPPER_FLOW = ("staff_only", "restricted")  # zone kinds left out of the shopper flow diagram
MAX_PATH_POINTS = 4000  # a shopper's path on the floor plan is thinned to this many points


T = TypeVar("T")


class DatabaseBusyError(UserError):
    """Another program holds the database file open for writing."""


# -- where the data lives --------------------------------------------------------------------------


def data_dir() -> Path:
    """The data folder: ``$SHOPPER_DATA_DIR`` or ``./data``. Uploads and databases live under it."""
    return Path(os.environ.get(ENV_DATA_DIR) or "data").resolve()


def default_db() -> str:
    """``$SHOPPER_DB`` if set, else the demo database in the data folder."""
    configured = os.environ.get(ENV_DB)
    return str(Path(configured).resolve()) if configured else str(data_dir() / DEMO_DB_NAME)


def databases() -> list[str]:
    """Databases the sidebar offers: the default one and every ``*.duckdb`` in the data folder."""
    found = {default_db()}
    folder = data_dir()
    if folder.is_dir():
        found.update(str(p.resolve()) for p in folder.glob("*.duckdb"))
    return sorted(found, key=lambda p: (p != default_db(), p))


def store_db_path(name: str) -> Path:
    """``<data folder>/<name as a safe file name>.duckdb`` for a new store called ``name``.

    Raises:
        UserError: no letters or digits in the name.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name)
    if not slug.strip("-"):
        raise UserError("the store needs a name with letters or digits")
    return data_dir() / f"{slug.strip('-')[:60]}.duckdb"


def create_store_db(config: StoreConfig) -> str:
    """A new, empty store database in the data folder holding ``config``; returns its path.

    Raises:
        UserError: a database of that name already exists.
    """
    path = store_db_path(config.name)
    if path.exists():
        raise UserError(
            f"{path.name} already exists in {path.parent}: pick another name, or open it in the sidebar"
        )
    save_store_config(str(path), config)
    return str(path)


# -- connection and cache versions -----------------------------------------------------------------

_versions: dict[str, int] = {}
_versions_lock = threading.Lock()


def version(db: str) -> int:
    """The cache version of ``db``; queries are cached per (db, version)."""
    return _versions.get(db, 0)


def bump(db: str) -> None:
    """Invalidate every cached query of ``db`` (after a write or a finished processing job)."""
    with _versions_lock:
        _versions[db] = _versions.get(db, 0) + 1


def cached_query(
    fn: Callable[..., T] | None = None, *, max_entries: int | None = None
) -> Callable[..., T] | Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache ``fn(db, *args)`` per database, its :func:`version` and the arguments (``st.cache_data``,
    keeping at most ``max_entries`` results; ``None`` = no bound).

    A write through this module bumps the version, so the next call misses the cache and sees the write.
    Use as ``@cached_query`` or ``@cached_query(max_entries=16)``.
    """
    if fn is None:
        return functools.partial(cached_query, max_entries=max_entries)

    def at_version(db: str, ver: int, *args: Any, **kwargs: Any) -> T:
        return fn(db, *args, **kwargs)

    # Streamlit keys a cache by the function's module and qualified name: one per query, not per closure.
    at_version.__qualname__ = at_version.__name__ = f"{fn.__qualname__}_at_version"
    cached = st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=max_entries)(at_version)

    @functools.wraps(fn)
    def query(db: str, *args: Any, **kwargs: Any) -> T:
        return cached(db, version(db), *args, **kwargs)

    return query


# Held in a module-level registry, not st.cache_resource: a browser's `clear_cache` message clears that
# cache, which would drop the connection a running job and other sessions still use (issue 13).
_connections: dict[str, duckdb.DuckDBPyConnection] = {}
_connections_lock = threading.Lock()


def connection(db: str) -> duckdb.DuckDBPyConnection:
    """The server's one read-write connection to ``db``, opened once (see :func:`_open`)."""
    with _connections_lock:
        if db not in _connections:
            _connections[db] = _open(db)
        return _connections[db]


def _open(db: str) -> duckdb.DuckDBPyConnection:
    """The server's one read-write connection to ``db`` (created and migrated if needed).

    The demo database in the data folder is built (simulated store day, about a second) when it is
    missing, so ``streamlit run streamlit_app.py`` on a fresh checkout opens on the demo store rather
    than on an empty file.

    Raises:
        DatabaseBusyError: another process has the file open (e.g. a running ``python -m pipeline``).
        SchemaError: not a Shopper ReID database, or one from a newer version.
    """
    if Path(db) == data_dir() / DEMO_DB_NAME and not Path(db).exists():
        from pipeline.simulate import build_demo

        build_demo(db)
    try:
        return connect(db)
    except DatabaseLockedError as exc:
        raise DatabaseBusyError(
            f"{Path(db).name} is open in another program (for example a running `python -m pipeline` "
            "command). Wait for it to finish, or pick another database in the sidebar."
        ) from exc


def _df(db: str, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    cur = connection(db).cursor()
    try:
        return cur.execute(sql, params or []).df()
    finally:
        cur.close()


def _one(db: str, sql: str, params: list[Any] | None = None) -> tuple | None:
    cur = connection(db).cursor()
    try:
        return cur.execute(sql, params or []).fetchone()
    finally:
        cur.close()


def _has_table(db: str, name: str) -> bool:
    row = _one(db, dashboard_sql.TABLE_COUNT_BY_NAME, [name])
    return bool(row and row[0])


# -- store config and status -----------------------------------------------------------------------


@cached_query
def store_config(db: str) -> StoreConfig | None:
    """The store config saved in ``db`` (``None`` when none is saved yet)."""
    cur = connection(db).cursor()
    try:
        return stored_config(cur)
    finally:
        cur.close()


def config_from_yaml(text: str) -> StoreConfig:
    """Validate YAML text as a store config (video files need not exist here).

    Raises:
        ConfigError: YAML syntax error or any invalid entry.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from exc
    return parse_config(raw, data_dir(), check_files=False)


def config_yaml(config: StoreConfig) -> str:
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)


def save_store_config(db: str, config: StoreConfig) -> None:
    """Store ``config`` (re-validated) and its cameras' calibration in one transaction."""
    text = config_yaml(config)
    config_from_yaml(text)  # the round trip must parse: never store what cannot be read back
    cur = connection(db).cursor()
    try:
        with tracks_db.transaction(cur):
            tracks_db.save_store_config(cur, text)
            for cam in config.cameras:
                size = cur.execute(dashboard_sql.CAMERA_SIZE, [cam.name]).fetchone()
                tracks_db.upsert_camera(cur, cam.name, cam.homography, *(size or (None, None)))
            cur.execute(dashboard_sql.DELETE_UNUSED_CAMERAS, [[c.name for c in config.cameras]])
    finally:
        cur.close()
    bump(db)


@cached_query
def summary(db: str) -> dict[str, Any]:
    """``analysis_summary`` (``analysed_at`` None when never analysed) plus trajectory/video counts."""
    out: dict[str, Any] = {"analysed_at": None}
    if _has_table(db, "analysis_summary"):
        row = _df(db, dashboard_sql.ANALYSIS_SUMMARY_ROW)
        if len(row):
            out = row.iloc[0].to_dict()
    out["trajectory_points"] = int(_one(db, dashboard_sql.TRAJECTORY_POINT_COUNT)[0])
    out["videos_done"] = int(_one(db, dashboard_sql.DONE_VIDEO_COUNT)[0])
    return out


@cached_query
def day_range(db: str) -> tuple[date, date] | None:
    """First and last day with analysed traffic (or with trajectory points), ``None`` when empty."""
    row = _one(db, dashboard_sql.STORE_HOURLY_DAY_RANGE) if _has_table(db, "store_hourly") else None
    if row is None or row[0] is None:
        row = _one(db, dashboard_sql.TRAJECTORY_DAY_RANGE)
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def period(start_day: date, end_day: date) -> tuple[datetime, datetime]:
    """Half-open timestamps ``[start_day 00:00, end_day + 1 day 00:00)``."""
    return datetime.combine(start_day, datetime.min.time()), datetime.combine(
        end_day + timedelta(days=1), datetime.min.time()
    )


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before ``[start, end)``."""
    return start - (end - start), start


# -- overview --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    """Headline numbers for a period (``None``: nothing to show, e.g. no sales imported).

    Attributes:
        visitors: sum of ``store_metrics.visitors`` over the period's days.
        median_time_in_store_s: ``store_metrics.time_in_store_median_s`` for a one-day period; for
            longer periods the median over ``shopper_paths`` of non-staff shoppers arriving in it.
        checkout_share: share of the period's non-staff shoppers with a visit to a checkout zone.
        has_checkout: whether the store has a checkout zone at all (else the share means nothing).
        conversion: sales transactions / visitors (``conversion_daily``), when sales are imported.
        busiest_hour: the hour with most visitors (``store_hourly``).
        open_flags: flags in the period not yet reviewed.
    """

    visitors: int
    median_time_in_store_s: float | None
    checkout_share: float | None
    has_checkout: bool
    conversion: float | None
    busiest_hour: datetime | None
    busiest_hour_visitors: int | None
    open_flags: int


@cached_query
def kpis(db: str, start: datetime, end: datetime) -> Kpis:
    days = _df(db, dashboard_sql.STORE_METRICS_DAYS, [start, end])
    visitors = int(days["visitors"].sum()) if len(days) else 0
    if len(days) == 1:
        median = days["time_in_store_median_s"].iloc[0]
    else:
        median = _one(db, dashboard_sql.MEDIAN_TIME_IN_STORE, [start, end])[0]
    share = _one(db, dashboard_sql.CHECKOUT_SHARE, [start, end])[0]
    sales = _one(db, dashboard_sql.SALES_TRANSACTIONS_AND_VISITORS, [start, end])
    has_sales = bool(_one(db, dashboard_sql.SALES_COUNT, [start, end])[0])
    conversion = sales[0] / sales[1] if has_sales and sales[1] else None
    busiest = _one(db, dashboard_sql.BUSIEST_HOUR, [start, end])
    open_flags = _one(db, dashboard_sql.OPEN_FLAG_COUNT, [start, end])[0]
    return Kpis(
        visitors=visitors,
        median_time_in_store_s=None if median is None or pd.isna(median) else float(median),
        checkout_share=None if share is None else float(share),
        has_checkout=bool(_one(db, dashboard_sql.TILL_ZONE_COUNT)[0]),
        conversion=None if conversion is None else float(conversion),
        busiest_hour=None if busiest is None else busiest[0],
        busiest_hour_visitors=None if busiest is None else int(busiest[1]),
        open_flags=int(open_flags),
    )


@cached_query
def hourly(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """``store_hourly`` rows of the period, with sales transactions and conversion when imported."""
    return _df(db, dashboard_sql.HOURLY_WITH_CONVERSION, [start, end])


@cached_query
def occupancy(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """``occupancy_minute`` rows of the period."""
    return _df(db, dashboard_sql.OCCUPANCY_MINUTES, [start, end])


# -- zones and heatmaps ----------------------------------------------------------------------------


@cached_query
def zones(db: str) -> pd.DataFrame:
    """Analysed zones with their floor polygon as WKT (metres)."""
    if not _has_table(db, "zones"):
        return pd.DataFrame(columns=["zone", "kinds", "is_till", "wkt"])
    return _df(db, dashboard_sql.ZONES)


@cached_query
def heatmap_cells(db: str, camera: str | None, start: datetime, end: datetime) -> pd.DataFrame:
    """Shopper-seconds per cell during the period: floor cells (``x_m, y_m, cell_m``) when ``camera`` is
    ``None``, else that camera's image cells (``u_px, v_px, cell_px``)."""
    cur = connection(db).cursor()
    try:
        return zones_api.heatmap_cells(cur, camera, start, end)
    finally:
        cur.close()


def heatmap_floor(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Floor cells (``x_m, y_m, cell_m``) with the shopper-seconds spent in them during the period."""
    return heatmap_cells(db, None, start, end)


def heatmap_camera(db: str, camera: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Image cells (``u_px, v_px, cell_px``) of one camera with shopper-seconds during the period."""
    return heatmap_cells(db, camera, start, end)


@cached_query
def simulated_cameras(db: str) -> list[str]:
    """Cameras of the simulated demo store (no real footage can be added to them)."""
    return [r[0] for r in _df(db, dashboard_sql.SIMULATED_CAMERAS).itertuples(index=False)]


@cached_query
def cameras(db: str) -> pd.DataFrame:
    """Cameras known to the database with image size and processed-video count."""
    return _df(db, dashboard_sql.CAMERAS_WITH_VIDEO_COUNTS)


@cached_query
def camera_frame(db: str, camera: str) -> tuple[str | None, int, pd.DataFrame]:
    """A representative frame of ``camera``: (video path, frame index, every person's box there).

    The busiest frame of a processed video, so its people can be blurred before it is shown.
    """
    row = _one(db, dashboard_sql.BUSIEST_FRAME_OF_CAMERA, [camera])
    if row is None:
        path = _one(db, dashboard_sql.DONE_VIDEO_PATH_OF_CAMERA, [camera])
        return (path[0] if path else None), 0, pd.DataFrame(columns=["x1", "y1", "x2", "y2", "keypoints"])
    video_id, path, frame = row
    return path, int(frame), frame_people(db, video_id, int(frame))


def busiest_frame(db: str, video_id: int) -> int | None:
    """The frame of a video with most tracked people (``None``: nobody was tracked in it)."""
    row = _one(db, dashboard_sql.BUSIEST_FRAME_OF_VIDEO, [video_id])
    return None if row is None else int(row[0])


@cached_query
def camera_still(db: str, camera: str) -> bytes | None:
    """The camera's kept still (JPEG, every face blurred), or ``None``: shown where its footage is gone."""
    row = _one(db, dashboard_sql.CAMERA_STILL, [camera])
    return None if row is None or row[0] is None else bytes(row[0])


def save_camera_still(db: str, camera: str, jpeg: bytes) -> None:
    """Keep ``jpeg`` (already blurred: see ``dashboard.evidence.still_of``) as the camera's still."""
    cur = connection(db).cursor()
    try:
        cur.execute(dashboard_sql.SET_CAMERA_STILL, [jpeg, camera])
    finally:
        cur.close()
    bump(db)


def frame_people(db: str, video_id: int, frame: int) -> pd.DataFrame:
    """Every tracked person in one frame: ``x1, y1, x2, y2, keypoints`` (for blurring) and the frame's
    ``t_sec`` (to find the frame in a variable frame rate file)."""
    return _df(db, dashboard_sql.FRAME_PEOPLE, [video_id, frame])


# -- sections --------------------------------------------------------------------------------------


@cached_query
def sections(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Per zone over the period: ``section_metrics`` for one day; counts summed and visit-weighted
    means across several days (medians and p90 are per-day figures, so they are left empty then)."""
    return _df(db, dashboard_sql.SECTIONS_OVER_PERIOD, [start, end])


@cached_query
def dwell_samples(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Every non-staff section visit's dwell in the period (for the distribution chart)."""
    return _df(db, dashboard_sql.SECTION_DWELL_SAMPLES, [start, end])


@cached_query
def section_hourly(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """``section_hourly`` rows of the period (the hour-by-section matrix)."""
    return _df(db, dashboard_sql.SECTION_HOURLY_ROWS, [start, end])


# -- paths -----------------------------------------------------------------------------------------


@cached_query
def paths_tables(
    db: str, start: datetime, end: datetime, top: int = 20, steps: int = 6
) -> dict[str, pd.DataFrame]:
    """Sankey edges (first ``steps`` zones, zones of a :data:`NOT_SHOPPER_FLOW` kind left out), the ``top``
    zone sequences and the transition table of the period, by the same SQL that fills ``sankey_edges``,
    ``zone_sequences`` and ``transitions``."""
    window = [start, end, None]
    table = zones(db)
    flow = [z for z, kinds in zip(table["zone"], table["kinds"]) if not set(kinds) & set(NOT_SHOPPER_FLOW)]
    return {
        "sankey": _df(db, paths_sql.SANKEY_SQL, [start, end, flow or None, steps]),
        "sequences": _df(db, paths_sql.SEQUENCES_SQL, [*window, top]),
        "transitions": _df(db, paths_sql.TRANSITIONS_SQL, window),
    }


# -- queues ----------------------------------------------------------------------------------------


@cached_query
def queues(db: str, start: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    """Queue length per minute, waits per hour and each wait, per checkout, in the period."""
    return {
        "minute": _df(db, dashboard_sql.QUEUE_MINUTES, [start, end]),
        "hourly": _df(db, dashboard_sql.QUEUE_HOURLY, [start, end]),
        "waits": _df(db, dashboard_sql.QUEUE_WAITS, [start, end]),
    }


# -- flags -----------------------------------------------------------------------------------------

from zones.flags import REVIEW_STATES  # noqa: E402 - one list of review states


@cached_query
def flags(db: str, start: datetime, end: datetime, states: tuple[str, ...] = REVIEW_STATES) -> pd.DataFrame:
    """Flags of the period with their review, highest score first."""
    return _df(db, dashboard_sql.FLAGS_WITH_REVIEWS, [start, end, list(states)])


@cached_query
def shopper_path(
    db: str, shopper_id: int, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """A shopper's floor trajectory (``ts, x, y, camera``), optionally within ``[start, end]``."""
    shopper_id = int(shopper_id)
    points = _df(db, dashboard_sql.SHOPPER_FLOOR_PATH, [shopper_id, start, start, end, end])
    if len(points) > MAX_PATH_POINTS:  # thin evenly: a drawn path needs no more points than pixels
        points = points.iloc[np.linspace(0, len(points) - 1, MAX_PATH_POINTS).astype(int)]
    return points.reset_index(drop=True)


@cached_query
def shopper_visits(db: str, shopper_id: int) -> pd.DataFrame:
    """A shopper's zone visits in time order (the evidence timeline)."""
    return _df(db, dashboard_sql.SHOPPER_ZONE_VISITS, [int(shopper_id)])


@cached_query
def evidence_frames(db: str, shopper_id: int, start: datetime, end: datetime, n: int = 6) -> pd.DataFrame:
    """Up to ``n`` evenly spaced sightings of a shopper in ``[start, end]``: video, frame and box."""
    rows = _df(db, dashboard_sql.SHOPPER_SIGHTINGS, [int(shopper_id), start, end])
    if len(rows) > n:
        rows = rows.iloc[np.linspace(0, len(rows) - 1, n).round().astype(int)]
    return rows.reset_index(drop=True)


def set_flag_review(db: str, flag_key: str, state: str, note: str | None, reviewer: str | None) -> None:
    """Record a review of one flag (kept across re-analysis, keyed by ``flag_key``).

    Raises:
        UserError: unknown state or flag.
    """
    cur = connection(db).cursor()
    try:
        zones_api.set_flag_review(cur, flag_key, state, note or None, reviewer or None)
    finally:
        cur.close()
    bump(db)


def set_staff(db: str, shopper_id: int, is_staff: bool, config: StoreConfig | None) -> None:
    """Mark (or unmark) a shopper as staff by hand, then re-analyse so shopper metrics exclude them.

    The mark (``staff_source = 'manual'``) survives re-identification and the staff zone rule.
    """
    cur = connection(db).cursor()
    try:
        shoppers_db.set_manual_staff(cur, shopper_id, is_staff)
        zones_api.analyse(cur, config)
    finally:
        cur.close()
    bump(db)


# -- footage ---------------------------------------------------------------------------------------


@cached_query
def videos(db: str) -> pd.DataFrame:
    """Every video in the database with its processing status."""
    return _df(db, dashboard_sql.VIDEOS_WITH_STATUS)


@cached_query
def reid_calibration(db: str) -> pd.DataFrame:
    """The cross-camera match threshold fitted on this store's footage, per embedder, with its evidence."""
    return _df(db, dashboard_sql.REID_CALIBRATION)


def processed_video_with_hash(db: str, sha256: str) -> dict[str, Any] | None:
    """The processed video with these bytes, if any (uncached: it guards against double processing)."""
    row = _one(db, dashboard_sql.DONE_VIDEO_BY_HASH, [sha256])
    return None if row is None else {"video_id": row[0], "camera": row[1], "path": row[2], "status": row[3]}


# -- reports ---------------------------------------------------------------------------------------


@cached_query(max_entries=REPORT_CACHE_ENTRIES)
def reports(db: str, start: datetime, end: datetime, zone_names: tuple[str, ...] = ()) -> dict[str, bytes]:
    """CSV exports of the period (file name -> bytes); ``zone_names`` empty means every zone."""
    cur = connection(db).cursor()
    try:
        with tempfile.TemporaryDirectory(prefix="shopper-reports-") as tmp:
            zones_api.write_reports(cur, Path(tmp), start, end, list(zone_names) or None)
            return {p.name: p.read_bytes() for p in sorted(Path(tmp).glob("*.csv"))}
    finally:
        cur.close()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """One ZIP archive of ``files``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def hourly_previous(db: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The previous period's ``store_hourly`` rows with ``aligned_hour`` moved onto ``[start, end)``."""
    prev_start, prev_end = previous_period(start, end)
    prev = hourly(db, prev_start, prev_end).copy()
    prev["aligned_hour"] = prev["hour"] + (start - prev_start)
    return prev


@cached_query(max_entries=REPORT_CACHE_ENTRIES)
def reports_zip(db: str, start: datetime, end: datetime, zone_names: tuple[str, ...] = ()) -> bytes:
    """All CSV exports of the period in one ZIP archive."""
    return zip_bytes(reports(db, start, end, zone_names))
