"""SQL of cross-camera identity: read tracklets for assignment, write global shopper ids.

:func:`write_assignment` rewrites ``tracklets.shopper_id``, ``shoppers``, ``shopper_embeddings``,
``trajectory`` and ``reid_state`` in one transaction, so readers see either the old or the new
identities, never a mix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from pipeline.db.connection import fetch_record
from pipeline.db.tracks import transaction, write_trajectory

PART_COLUMNS = ["video_id", "track_id", "part", "first_frame", "last_frame", "shopper_id"]


def _nulls_as_none(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """SQL NULLs of a list column as ``None`` (DuckDB's pandas export gives ``pd.NA``, which has no ``len``)."""
    values = frame[column].astype(object)
    frame[column] = [None if v is None or v is pd.NA else v for v in values]
    return frame


def done_tracklets(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Tracklets of finished videos, in a stable order; static ones (mannequins) are no shoppers and left out.

    Columns: video_id, track_id, camera, t_start, t_end (seconds since the epoch of the store clock),
    first_frame, last_frame, n_points, embedder, embedding (list or None), shopper_id (current).
    """
    return _nulls_as_none(
        conn.execute(
            """
        SELECT t.video_id, t.track_id, t.camera, epoch(t.first_ts) AS t_start, epoch(t.last_ts) AS t_end,
               t.first_frame, t.last_frame, t.n_points, t.embedder, t.embedding, t.shopper_id
        FROM tracklets t JOIN videos v USING (video_id)
        WHERE v.status = 'done' AND NOT t.is_static
        ORDER BY t.video_id, t.track_id
        """
        ).df(),
        "embedding",
    )


def tracklet_positions(conn: duckdb.DuckDBPyConnection, smooth: int = 2) -> pd.DataFrame:
    """Foot positions of every finished tracklet, smoothed by a centred moving average.

    Floor metres where the point has them, else image pixels (``on_floor`` false).

    Returns:
        Columns video_id, track_id, frame, t (seconds since the epoch), x, y, on_floor, observed (false for
        a box filled in over a detector miss, whose score is 0); in time order.
    """
    return conn.execute(
        """
        SELECT p.video_id, p.track_id, p.frame, epoch(p.ts) AS t,
               avg(coalesce(p.floor_x, p.foot_u)) OVER w AS x,
               avg(coalesce(p.floor_y, p.foot_v)) OVER w AS y,
               p.floor_x IS NOT NULL AS on_floor,
               p.score > 0 AS observed
        FROM track_points p JOIN videos v USING (video_id)
        WHERE v.status = 'done'
        WINDOW w AS (PARTITION BY p.video_id, p.track_id ORDER BY p.frame
                     ROWS BETWEEN ? PRECEDING AND ? FOLLOWING)
        ORDER BY p.video_id, p.track_id, p.frame
        """,
        [smooth, smooth],
    ).df()


def tracklet_chunks(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Appearance chunks of finished tracklets: video_id, track_id, chunk, t_start, t_end (seconds since the
    start of the video), first_frame, last_frame, n_embedded, embedding (list or None); ordered by track and
    chunk."""
    return _nulls_as_none(
        conn.execute(
            """
        SELECT c.video_id, c.track_id, c.chunk, c.t_start, c.t_end, c.first_frame, c.last_frame, c.n_embedded,
               c.embedding
        FROM tracklet_chunks c JOIN videos v USING (video_id)
        WHERE v.status = 'done'
        ORDER BY c.video_id, c.track_id, c.chunk
        """
        ).df(),
        "embedding",
    )


def chunk_contacts(conn: duckdb.DuckDBPyConnection, tracks: pd.DataFrame) -> pd.DataFrame:
    """Which appearance chunks of ``tracks`` (columns video_id, track_id) had a box touching another track's
    box in its frame, or the frame's border: the places where a tracker can switch people.

    Returns:
        Columns video_id, track_id, chunk, contact (bool); one row per chunk with boxes.
    """
    conn.register("contact_tracks", tracks[["video_id", "track_id"]].astype("int64"))
    try:
        return conn.execute(
            """
            SELECT c.video_id, c.track_id, c.chunk,
                   coalesce(bool_or(o.track_id IS NOT NULL
                                    OR p.x1 <= 1 OR p.y1 <= 1
                                    OR p.x2 >= cam.width - 1 OR p.y2 >= cam.height - 1), false) AS contact
            FROM tracklet_chunks c
            JOIN contact_tracks USING (video_id, track_id)
            JOIN track_points p ON p.video_id = c.video_id AND p.track_id = c.track_id
                               AND p.frame BETWEEN c.first_frame AND c.last_frame
            LEFT JOIN cameras cam ON cam.name = p.camera
            LEFT JOIN track_points o ON o.video_id = p.video_id AND o.frame = p.frame
                                    AND o.track_id <> p.track_id
                                    AND o.x1 < p.x2 AND p.x1 < o.x2 AND o.y1 < p.y2 AND p.y1 < o.y2
            GROUP BY c.video_id, c.track_id, c.chunk
            ORDER BY c.video_id, c.track_id, c.chunk
            """
        ).df()
    finally:
        conn.unregister("contact_tracks")


def current_parts(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last assignment's tracklet parts: video_id, track_id, part, first_frame, last_frame, shopper_id."""
    return conn.execute(
        "SELECT video_id, track_id, part, first_frame, last_frame, shopper_id FROM tracklet_parts "
        "ORDER BY video_id, track_id, part"
    ).df()


def current_shoppers(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns shopper_id, is_staff, staff_source of the shoppers table."""
    return conn.execute("SELECT shopper_id, is_staff, staff_source FROM shoppers ORDER BY shopper_id").df()


def next_shopper_ids(conn: duckdb.DuckDBPyConnection, count: int) -> list[int]:
    """``count`` fresh shopper ids from the shared sequence."""
    if count <= 0:
        return []
    rows = conn.execute("SELECT nextval('shopper_id_seq') FROM range(?)", [count]).fetchall()
    return [int(r[0]) for r in rows]


def write_assignment(
    conn: duckdb.DuckDBPyConnection,
    tracklets: pd.DataFrame,
    shoppers: pd.DataFrame,
    views: pd.DataFrame,
    state: dict,
    parts: pd.DataFrame | None = None,
) -> None:
    """Replace every global identity with a new assignment, atomically.

    Args:
        tracklets: columns video_id, track_id, shopper_id (every finished tracklet; for a split one, the
            shopper of its largest part).
        shoppers: columns shopper_id, is_staff, staff_source (one row per shopper in ``tracklets``).
        views: columns shopper_id, view, weight, embedding (list of floats); may be empty.
        state: mode, refine, settings (dict), n_tracklets, n_shoppers.
        parts: columns video_id, track_id, part, first_frame, last_frame, shopper_id of the tracklets
            split at an identity switch (their points take the part's shopper id); may be empty.
    """
    if parts is None or not len(parts):
        parts = pd.DataFrame({c: pd.Series(dtype="int64") for c in PART_COLUMNS})
    part_df = parts[PART_COLUMNS].astype("int64")  # noqa: F841 - used in SQL
    assign_df = tracklets[["video_id", "track_id", "shopper_id"]].astype("int64")  # noqa: F841 - used in SQL
    shopper_df = shoppers[["shopper_id", "is_staff", "staff_source"]].copy()
    shopper_df["shopper_id"] = shopper_df["shopper_id"].astype("int64")
    shopper_df["is_staff"] = shopper_df["is_staff"].astype(bool)
    shopper_df["staff_source"] = (
        shopper_df["staff_source"].astype(object).where(shopper_df["staff_source"].notna(), None)
    )
    view_df = (  # noqa: F841 - used in SQL
        views[["shopper_id", "view", "weight", "embedding"]]
        if len(views)
        else pd.DataFrame(
            {
                "shopper_id": pd.Series(dtype="int64"),
                "view": pd.Series(dtype="int64"),
                "weight": pd.Series(dtype="float64"),
                "embedding": pd.Series(dtype=object),
            }
        )
    )
    with transaction(conn):
        conn.execute(
            """
            UPDATE tracklets SET shopper_id = a.shopper_id
            FROM assign_df a WHERE tracklets.video_id = a.video_id AND tracklets.track_id = a.track_id
            """
        )
        conn.execute("DELETE FROM tracklet_parts")
        conn.execute("INSERT INTO tracklet_parts SELECT * FROM part_df")
        write_trajectory(conn)
        # A mark set by hand since ``shoppers`` was read (the dashboard, while identities were computed)
        # wins for a shopper who keeps its id: it is the newest word on that person.
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _manual AS "
            "SELECT shopper_id, is_staff FROM shoppers WHERE staff_source = 'manual'"
        )
        conn.execute("DELETE FROM shoppers")
        conn.execute(
            """
            INSERT INTO shoppers (shopper_id, first_ts, last_ts, is_staff, staff_source)
            SELECT s.shopper_id, min(t.ts), max(t.ts),
                   coalesce(any_value(m.is_staff), any_value(s.is_staff)),
                   CASE WHEN any_value(m.shopper_id) IS NOT NULL THEN 'manual' ELSE any_value(s.staff_source) END
            FROM shopper_df s JOIN trajectory t ON t.shopper_id = s.shopper_id
                 LEFT JOIN _manual m ON m.shopper_id = s.shopper_id
            GROUP BY s.shopper_id
            """
        )
        conn.execute("DROP TABLE _manual")
        conn.execute("DELETE FROM shopper_embeddings")
        conn.execute(
            "INSERT INTO shopper_embeddings SELECT shopper_id, view, weight, embedding::REAL[] FROM view_df"
        )
        conn.execute(
            "INSERT OR REPLACE INTO reid_state (id, mode, refine, settings, n_tracklets, n_shoppers, updated_at) "
            "VALUES (1, ?, ?, ?, ?, ?, now())",
            [
                state["mode"],
                state["refine"],
                json.dumps(state["settings"]),
                state["n_tracklets"],
                state["n_shoppers"],
            ],
        )


def reid_state(conn: duckdb.DuckDBPyConnection) -> dict | None:
    """The last assignment's mode, settings and counts, or ``None`` if it never ran."""
    return fetch_record(
        conn,
        "SELECT mode, refine, settings, n_tracklets, n_shoppers, updated_at FROM reid_state WHERE id = 1",
        json_columns=("settings",),
    )


def shopper_views(conn: duckdb.DuckDBPyConnection) -> dict[int, np.ndarray]:
    """Shopper id -> (K, D) gallery views, as stored by the last assignment."""
    out: dict[int, list] = {}
    for sid, emb in conn.execute(
        "SELECT shopper_id, embedding FROM shopper_embeddings ORDER BY shopper_id, view"
    ).fetchall():
        out.setdefault(int(sid), []).append(emb)
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


def staff_shopper_ids(conn: duckdb.DuckDBPyConnection) -> Sequence[int]:
    """Ids of shoppers flagged as staff (by zone rule or by hand)."""
    return [
        int(r[0])
        for r in conn.execute("SELECT shopper_id FROM shoppers WHERE is_staff ORDER BY 1").fetchall()
    ]


def set_manual_staff(conn: duckdb.DuckDBPyConnection, shopper_id: int, is_staff: bool) -> None:
    """Flag (or un-flag) a shopper as staff by hand; the flag survives re-assignment."""
    conn.execute(
        "UPDATE shoppers SET is_staff = ?, staff_source = 'manual' WHERE shopper_id = ?",
        [is_staff, shopper_id],
    )


CALIBRATION_COLUMNS = (
    "threshold",
    "source",
    "target_false_join",
    "n_same",
    "n_diff",
    "est_false_join",
    "est_join",
    "note",
)


def save_calibration(conn: duckdb.DuckDBPyConnection, embedder: str, values: dict) -> None:
    """Store the cross-camera threshold calibration of ``embedder`` (replacing the previous one).

    Args:
        values: the :data:`CALIBRATION_COLUMNS` (see :class:`pipeline.reid.calibrate.Calibration`).
    """
    row = [values[c] for c in CALIBRATION_COLUMNS]
    conn.execute(
        f"INSERT OR REPLACE INTO reid_calibration (embedder, {', '.join(CALIBRATION_COLUMNS)}, computed_at) "
        f"VALUES (?, {', '.join('?' * len(CALIBRATION_COLUMNS))}, now()::TIMESTAMP)",
        [embedder, *row],
    )


def load_calibration(conn: duckdb.DuckDBPyConnection, embedder: str | None = None) -> pd.DataFrame:
    """Stored calibrations (all embedders, or one): embedder, the :data:`CALIBRATION_COLUMNS`, computed_at."""
    where, params = ("WHERE embedder = ?", [embedder]) if embedder is not None else ("", [])
    return conn.execute(
        f"SELECT embedder, {', '.join(CALIBRATION_COLUMNS)}, computed_at FROM reid_calibration {where} "
        "ORDER BY embedder",
        params,
    ).df()
