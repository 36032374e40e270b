"""``analyse(conn, config)``: recompute every analytics table from the trajectories, in one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from pipeline.config import StoreConfig
from pipeline.db import transaction
from pipeline.db.analytics import flags as flags_sql
from pipeline.db.analytics import heatmap as heatmap_sql
from pipeline.db.analytics import metrics as metrics_sql
from pipeline.db.analytics import paths as paths_sql
from pipeline.db.analytics import queues as queues_sql
from pipeline.db.analytics import sales as sales_sql
from pipeline.db.analytics import summary as summary_sql
from pipeline.db.analytics import tables
from pipeline.db.analytics import visits as visits_sql
from pipeline.db.store_config import stored_config
from pipeline.errors import ConfigError
from pipeline.store.rules import AnalyticsSettings, FlagRules, settings_from_config
from zones import flags, heatmap, metrics, paths, pose, visits
from zones.geometry import Zone, ZoneIndex, build_zones
from zones.trajectory import US, Points, sample_interval_us, step_weights


def _zone_frame(zones, analytics) -> pd.DataFrame:
    till_queue = {}
    queue_zones = set(analytics.queues.values())
    for z in zones:
        if z.has("checkout") and (z.name in analytics.queues or z.name not in queue_zones):
            till_queue[z.name] = analytics.queues.get(z.name, z.name)
    return pd.DataFrame(
        {
            "zone": [z.name for z in zones],
            "kinds": [list(z.kinds) for z in zones],
            "is_till": [z.name in till_queue for z in zones],
            "queue_zone": [till_queue.get(z.name) for z in zones],
            "source_camera": [z.camera for z in zones],
            "min_dwell_s": [analytics.min_dwell_for(z.kinds) for z in zones],
            "area_m2": [z.polygon.area for z in zones],
            "wkt": [z.polygon.wkt for z in zones],
        }
    )


@dataclass
class Run:
    """What the stages of one ``analyse`` share: the inputs, and what earlier stages computed."""

    conn: duckdb.DuckDBPyConnection
    config: StoreConfig
    analytics: AnalyticsSettings
    rules: FlagRules
    zones: list[Zone]
    index: ZoneIndex
    pts: Points | None = None
    dt_us: int = 0
    max_step_us: int = 0
    is_staff: npt.NDArray[np.bool_] | None = None


def load(run: Run) -> None:
    """Zones table, floor trajectory points, the sampling interval and the longest step counted as one."""
    tables.insert_zones(run.conn, _zone_frame(run.zones, run.analytics))
    raw = tables.floor_points(run.conn)
    run.pts = Points.from_arrays(raw["shopper_id"], raw["ts_us"], raw["x"], raw["y"])
    a = run.analytics
    run.dt_us = int(a.sample_interval_s * US) if a.sample_interval_s else sample_interval_us(run.pts)
    run.max_step_us = int(a.max_step_s * US) if a.max_step_s else 3 * run.dt_us


def zone_visits(run: Run) -> None:
    """Point-in-zone runs (numpy) -> visits with hysteresis and minimum dwell (SQL) -> the staff zone rule."""
    masks = run.index.masks(run.pts.x, run.pts.y)
    seg = visits.zone_segments(run.pts, masks, len(run.zones), run.dt_us, run.max_step_us)
    del masks
    names = np.array([z.name for z in run.zones], dtype=object)
    segments = pd.DataFrame(
        {"shopper_id": seg["shopper_id"], "zone": names[seg["zone_index"]] if len(run.zones) else [],
         "start_us": seg["start_us"], "end_us": seg["end_us"]}
    )  # fmt: skip
    visits_sql.insert_visits(run.conn, segments, int(run.analytics.merge_gap_s * US))
    visits_sql.apply_staff_zone_rule(run.conn, run.analytics.staff_zone_s)
    starts = run.pts.shopper_starts()
    counts = np.diff(np.r_[starts, len(run.pts)])
    run.is_staff = np.repeat(np.isin(run.pts.shopper_id[starts], visits_sql.staff_ids(run.conn)), counts)


def store_metrics(run: Run) -> None:
    """Shopper paths, occupancy per minute and hour, store and section metrics, queues."""
    a = run.analytics
    paths_sql.insert_shopper_paths(
        run.conn, paths.shopper_paths(run.pts, run.dt_us, run.max_step_us, a.walking_min_mps)
    )
    minutes = metrics.presence(run.pts, run.is_staff, metrics.MINUTE_US)
    hours = metrics.presence(run.pts, run.is_staff, metrics.HOUR_US)
    metrics_sql.insert_occupancy(
        run.conn,
        minutes.rename(columns={"period_us": "minute_us"}),
        hours.rename(columns={"period_us": "hour_us", "shoppers": "visitors"})[["hour_us", "visitors"]],
    )
    metrics_sql.insert_store_metrics(run.conn)
    metrics_sql.insert_section_metrics(run.conn, a.bounce_s)
    queues_sql.insert_queues(run.conn, a.till_link_s)


def zone_paths(run: Run) -> None:
    """Transitions, common sequences, Sankey edges."""
    paths_sql.insert_paths(run.conn, run.analytics.top_sequences, run.analytics.sankey_steps)


def heatmaps(run: Run) -> None:
    """Floor and camera heatmaps, then conversion (sales per visitor)."""
    a = run.analytics
    weights = step_weights(run.pts, run.dt_us, run.max_step_us)
    fp = run.config.floor_plan
    bounds = (0.0, 0.0, fp.width, fp.height) if fp else None
    heatmap_sql.insert_heatmap_floor(
        run.conn,
        heatmap.floor_cells(run.pts, weights, ~run.is_staff, a.heatmap_cell_m, bounds),
        a.heatmap_cell_m,
    )
    heatmap_sql.insert_heatmap_camera(run.conn, a.heatmap_cell_px, run.max_step_us / US, run.dt_us / US)
    sales_sql.refresh_conversion(run.conn)


def review_flags(run: Run) -> None:
    """Every enabled flag rule (SQL), plus pose-cue leads when that experimental rule is on."""
    leads = None
    if run.rules.enabled("pose_concealment"):
        leads = pose.pose_leads(
            flags_sql.pose_points(run.conn), run.index, run.rules["pose_concealment"], run.max_step_us / US
        )
    flags_sql.insert_flags(run.conn, flags.rule_params(run.rules), leads)


# The analysis, in order; each stage's seconds are reported under its name.
STAGES: tuple[tuple[str, Callable[[Run], None]], ...] = (
    ("load", load),
    ("visits", zone_visits),
    ("metrics", store_metrics),
    ("paths", zone_paths),
    ("heatmaps", heatmaps),
    ("flags", review_flags),
)


def analyse(conn: duckdb.DuckDBPyConnection, config: StoreConfig | None = None) -> dict[str, Any]:
    """Recompute zones, visits, staff zone rule, metrics, occupancy, queues, paths, heatmaps, conversion and
    flags from ``trajectory`` / ``track_points`` by running :data:`STAGES`. Idempotent; one transaction
    (readers never see a half-written state); ``flag_reviews`` and ``sales`` are kept.

    Args:
        conn: an open store database (``pipeline.db.connect``).
        config: the store config; ``None`` reads the one saved in the database.

    Returns:
        The ``analysis_summary`` row as a dict (points, shoppers, staff, visits, flags, seconds, ...) with
        ``timings``: seconds per stage and in total.

    Raises:
        ConfigError: invalid zones, ``analytics:`` or ``flags:`` settings.
    """
    t_start = time.perf_counter()
    if config is None:
        config = stored_config(conn)
        if config is None:
            raise ConfigError("the database has no store config; pass one with --config")
    analytics, rules = settings_from_config(config)
    zones = build_zones(config)
    run = Run(conn, config, analytics, rules, zones, ZoneIndex.build(zones))
    timings: dict[str, float] = {}
    with transaction(conn):
        tables.clear_derived(conn)
        for name, stage in STAGES:
            started = time.perf_counter()
            stage(run)
            timings[name] = round(time.perf_counter() - started, 4)
        settings = {"analytics": asdict(analytics), "flags": rules.rules, "zones": [z.name for z in zones]}
        summary = summary_sql.write_summary(
            conn,
            json.dumps(settings),
            len(run.pts),
            run.dt_us / US if len(run.pts) else None,
            time.perf_counter() - t_start,
        )
    summary["timings"] = {**timings, "total": round(time.perf_counter() - t_start, 4)}
    return summary
