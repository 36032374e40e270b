"""The simulated demo store's raw tables, written as the video pipeline would (``pipeline.simulate``)."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.db.analytics.tables import registered


def write_simulated_store(
    conn: duckdb.DuckDBPyConnection,
    store_name: str,
    settings_json: str,
    cameras: pd.DataFrame,
    shoppers: pd.DataFrame,
    trajectory: pd.DataFrame,
    track_points: pd.DataFrame,
) -> dict[str, int]:
    """Write what the video pipeline would: a run, cameras, one finished (file-less) video per camera,
    shoppers, floor trajectory, track points and the tracklets they form. Returns camera -> video_id.

    Frames: ``cameras`` (name, homography list[9], width, height, path, fps, n_frames, start_time);
    ``shoppers`` (shopper_id, first_ts, last_ts, is_staff, staff_source); ``trajectory`` (shopper_id,
    camera, frame, ts, x, y); ``track_points`` (camera, frame, t_sec, ts, track_id, shopper_id, x1, y1, x2,
    y2, score, foot_u, foot_v, floor_x, floor_y, keypoints list[51] or None).
    """
    run_id = conn.execute(
        "INSERT INTO runs (store_name, config_path, settings, finished_at) VALUES (?, 'simulated', ?, now()) "
        "RETURNING run_id",
        [store_name, settings_json],
    ).fetchone()[0]
    with registered(conn, "_cameras", cameras):
        conn.execute(
            "INSERT INTO cameras (name, homography, width, height) "
            "SELECT name, CAST(homography AS DOUBLE[9]), width, height FROM _cameras"
        )
        conn.execute(
            "INSERT INTO videos (camera, path, fps, n_frames, start_time, status, frames_done, run_id) "
            "SELECT name, path, fps, n_frames, CAST(start_time AS TIMESTAMP), 'done', n_frames, ? FROM _cameras",
            [run_id],
        )
    video_ids = dict(conn.execute("SELECT camera, video_id FROM videos").fetchall())
    with registered(conn, "_shoppers", shoppers):
        conn.execute(
            "INSERT INTO shoppers SELECT shopper_id, CAST(first_ts AS TIMESTAMP), CAST(last_ts AS TIMESTAMP), "
            "is_staff, staff_source FROM _shoppers"
        )
    with registered(conn, "_trajectory", trajectory):
        conn.execute(
            "INSERT INTO trajectory SELECT t.shopper_id, t.camera, v.video_id, t.frame, CAST(t.ts AS TIMESTAMP), "
            "t.x, t.y, 'floor' FROM _trajectory t JOIN videos v ON v.camera = t.camera"
        )
    with registered(conn, "_track_points", track_points):
        conn.execute(
            """
            INSERT INTO track_points
            SELECT v.video_id, p.camera, p.frame, p.t_sec, CAST(p.ts AS TIMESTAMP), p.track_id, p.x1, p.y1, p.x2,
                   p.y2, p.score, p.foot_u, p.foot_v, p.floor_x, p.floor_y, CAST(p.keypoints AS REAL[])
            FROM _track_points p JOIN videos v ON v.camera = p.camera
            """
        )
        conn.execute(
            """
            INSERT INTO tracklets
            SELECT v.video_id, p.camera, p.track_id, any_value(p.shopper_id), min(p.frame), max(p.frame),
                   min(CAST(p.ts AS TIMESTAMP)), max(CAST(p.ts AS TIMESTAMP)), count(*), avg(p.score), NULL, NULL,
                   false
            FROM _track_points p JOIN videos v ON v.camera = p.camera
            GROUP BY v.video_id, p.camera, p.track_id
            """
        )
    return video_ids
