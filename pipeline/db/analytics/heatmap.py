"""Heatmaps: shopper-seconds per floor cell and per camera image cell, per hour."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.db.analytics.tables import registered
from pipeline.db.tracks import POINT_PART_JOIN, POINT_SHOPPER


def insert_heatmap_floor(conn: duckdb.DuckDBPyConnection, cells: pd.DataFrame, cell_m: float) -> None:
    """``cells``: hour_us, ix, iy, x0_m, y0_m (grid origin), shopper_seconds."""
    with registered(conn, "_cells", cells):
        conn.execute(
            "INSERT INTO heatmap_floor SELECT make_timestamp(hour_us), ix, iy, x0_m + (ix + 0.5) * $cell_m, "
            "y0_m + (iy + 0.5) * $cell_m, $cell_m, shopper_seconds FROM _cells",
            {"cell_m": cell_m},
        )


def insert_heatmap_camera(
    conn: duckdb.DuckDBPyConnection, cell_px: float, max_step_s: float, fallback_s: float
) -> None:
    """Shopper-seconds per image cell per camera and hour from ``track_points`` of finished videos (staff,
    judged per tracklet part as every per-box reader does, and static tracklets, e.g. mannequins, excluded).

    Each point stands for the time to the track's next point (or from its previous one, for the last),
    capped: a step longer than ``max_step_s`` counts as ``fallback_s``.
    """
    conn.execute(
        f"""
        INSERT INTO heatmap_camera
        WITH tp AS (
            SELECT p.camera, p.ts, p.foot_u, p.foot_v, coalesce(s.is_staff, false) AS is_staff,
                   t.is_static,
                   lead(p.t_sec) OVER w - p.t_sec AS next_step, p.t_sec - lag(p.t_sec) OVER w AS prev_step
            FROM track_points p
                 JOIN tracklets t ON t.video_id = p.video_id AND t.track_id = p.track_id
                 JOIN videos v ON v.video_id = p.video_id
                 {POINT_PART_JOIN}
                 LEFT JOIN shoppers s ON s.shopper_id = {POINT_SHOPPER}
            WHERE v.status = 'done'
            WINDOW w AS (PARTITION BY p.video_id, p.track_id ORDER BY p.frame)),
        c AS (
            SELECT camera, date_trunc('hour', ts) AS hour,
                   CAST(floor(foot_u / $cell_px) AS INTEGER) AS iu, CAST(floor(foot_v / $cell_px) AS INTEGER) AS iv,
                   CASE WHEN next_step <= $max_step_s THEN next_step WHEN prev_step <= $max_step_s THEN prev_step
                        ELSE $fallback_s END AS w
            FROM tp WHERE NOT is_staff AND NOT is_static)
        SELECT camera, hour, iu, iv, (iu + 0.5) * $cell_px, (iv + 0.5) * $cell_px, $cell_px, sum(w)
        FROM c GROUP BY camera, hour, iu, iv
        """,
        {"cell_px": cell_px, "max_step_s": max_step_s, "fallback_s": fallback_s},
    )
