"""Builders for database tests: a file-less video registered the way ``process`` registers one."""

from __future__ import annotations

import duckdb

from pipeline.config import CameraConfig
from pipeline.db import tracks as db


def begin_virtual_video(
    conn: duckdb.DuckDBPyConnection,
    camera: CameraConfig,
    *,
    fps: float,
    n_frames: int,
    run_id: int,
    size: tuple[int, int] = (640, 480),
    path: str | None = None,
) -> int:
    """Register ``camera`` (image ``size``) and begin a video of it with no file behind it; returns its id."""
    db.upsert_camera(conn, camera.name, camera.homography, *size)
    return db.begin_video(
        conn,
        camera=camera.name,
        path=path or f"/virtual/{camera.name}.mp4",
        sha256=None,
        fps=fps,
        n_frames=n_frames,
        start_time=camera.start_time,
        run_id=run_id,
        settings={},
    )
