"""SQL for writing and reading the tracking tables (runs, cameras, videos, track points, tracklets).

Every multi-statement write runs in one transaction, so readers and interrupted runs never see a
half-written batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

CHUNK_COLUMNS = ["track_id", "chunk", "t_start", "t_end", "first_frame", "last_frame", "n_embedded", "embedding"]

# A track point's shopper: its tracklet part's (identity-switch splitting), else its tracklet's. Use as
# ``FROM track_points p JOIN tracklets t ON ... {POINT_PART_JOIN}`` and select ``POINT_SHOPPER``.
POINT_PART_JOIN = """LEFT JOIN tracklet_parts q ON q.video_id = p.video_id AND q.track_id = p.track_id
             AND p.frame BETWEEN q.first_frame AND q.last_frame"""
POINT_SHOPPER = "coalesce(q.shopper_id, t.shopper_id)"

TRACK_POINT_COLUMNS = [
    "video_id", "camera", "frame", "t_sec", "ts", "track_id", "x1", "y1", "x2", "y2", "score",
    "foot_u", "foot_v", "floor_x", "floor_y", "keypoints",
]


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` on any exception (including Ctrl-C)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def save_store_config(conn: duckdb.DuckDBPyConnection, yaml_text: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO store_config (id, yaml, updated_at) VALUES (1, ?, now())", [yaml_text]
    )


def load_store_config(conn: duckdb.DuckDBPyConnection) -> str | None:
    row = conn.execute("SELECT yaml FROM store_config WHERE id = 1").fetchone()
    return None if row is None else row[0]


def start_run(conn: duckdb.DuckDBPyConnection, store_name: str, config_path: str | None, settings: dict) -> int:
    return conn.execute(
        "INSERT INTO runs (store_name, config_path, settings) VALUES (?, ?, ?) RETURNING run_id",
        [store_name, config_path, json.dumps(settings)],
    ).fetchone()[0]


def finish_run(conn: duckdb.DuckDBPyConnection, run_id: int) -> None:
    conn.execute("UPDATE runs SET finished_at = now() WHERE run_id = ?", [run_id])


def upsert_camera(
    conn: duckdb.DuckDBPyConnection, name: str, homography: np.ndarray | None, width: int, height: int
) -> None:
    flat = None if homography is None else [float(v) for v in np.asarray(homography).ravel()]
    conn.execute(
        "INSERT OR REPLACE INTO cameras (name, homography, width, height) VALUES (?, ?, ?, ?)",
        [name, flat, width, height],
    )


def find_video(conn: duckdb.DuckDBPyConnection, camera: str, path: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT video_id, status, settings, sha256 FROM videos WHERE camera = ? AND path = ?", [camera, path]
    ).fetchone()
    if row is None:
        return None
    return {"video_id": row[0], "status": row[1], "settings": json.loads(row[2] or "{}"), "sha256": row[3]}


def delete_video_rows(conn: duckdb.DuckDBPyConnection, video_id: int) -> None:
    """Remove everything derived from one video (call inside a transaction)."""
    for table in ("track_points", "tracklets", "trajectory", "tracklet_chunks", "tracklet_parts"):
        conn.execute(f"DELETE FROM {table} WHERE video_id = ?", [video_id])
    # A split track's smaller parts name their shopper only in tracklet_parts: keep those shoppers too.
    conn.execute(
        "DELETE FROM shoppers WHERE shopper_id NOT IN (SELECT shopper_id FROM tracklets WHERE shopper_id IS NOT NULL "
        "UNION SELECT shopper_id FROM tracklet_parts WHERE shopper_id IS NOT NULL)"
    )


def begin_video(
    conn: duckdb.DuckDBPyConnection,
    *,
    camera: str,
    path: str,
    sha256: str | None,
    fps: float,
    n_frames: int,
    start_time: datetime,
    run_id: int,
    settings: dict,
) -> int:
    """Register a video for (re)processing: old rows of it are deleted, status = 'processing'."""
    with transaction(conn):
        existing = find_video(conn, camera, path)
        if existing is not None:
            video_id = existing["video_id"]
            delete_video_rows(conn, video_id)
            conn.execute(
                "UPDATE videos SET sha256 = ?, fps = ?, n_frames = ?, start_time = ?, status = 'processing', "
                "frames_done = 0, run_id = ?, settings = ?, error = NULL WHERE video_id = ?",
                [sha256, fps, n_frames, start_time, run_id, json.dumps(settings), video_id],
            )
        else:
            video_id = conn.execute(
                "INSERT INTO videos (camera, path, sha256, fps, n_frames, start_time, status, run_id, settings) "
                "VALUES (?, ?, ?, ?, ?, ?, 'processing', ?, ?) RETURNING video_id",
                [camera, path, sha256, fps, n_frames, start_time, run_id, json.dumps(settings)],
            ).fetchone()[0]
    return video_id


def write_batch(
    conn: duckdb.DuckDBPyConnection, video_id: int, points: pd.DataFrame, frames_done: int
) -> None:
    """Insert one batch of track points and advance the video's progress, atomically."""
    with transaction(conn):
        if len(points):
            frame = points[TRACK_POINT_COLUMNS]  # noqa: F841 - referenced by name in SQL
            conn.execute("INSERT INTO track_points SELECT * FROM frame")
        conn.execute("UPDATE videos SET frames_done = ? WHERE video_id = ?", [frames_done, video_id])


def finish_video(
    conn: duckdb.DuckDBPyConnection,
    video_id: int,
    embedder: str | None,
    embeddings: dict[int, np.ndarray],
    frames_done: int,
    chunks: pd.DataFrame | None = None,
) -> None:
    """Write tracklets (and their appearance chunks), one shopper per tracklet, and the trajectory; mark
    the video done.

    Cross-camera identity may later reassign ``shopper_id``; until then each tracklet is a shopper.

    Args:
        chunks: columns track_id, chunk, t_start, t_end, first_frame, last_frame, n_embedded, embedding
            (list of floats or None), see :class:`pipeline.track_video.TrackChunks`.
    """
    emb = pd.DataFrame(
        {
            "track_id": np.array(list(embeddings), dtype=np.int64),
            "embedding": [np.asarray(v, np.float32).tolist() for v in embeddings.values()],
        }
    )
    if emb.empty:
        emb = pd.DataFrame({"track_id": pd.Series(dtype="int64"), "embedding": pd.Series(dtype=object)})
    with transaction(conn):
        conn.register("track_embeddings", emb)
        try:
            conn.execute(
                """
                INSERT INTO tracklets
                SELECT p.video_id, any_value(p.camera), p.track_id, NULL,
                       min(p.frame), max(p.frame), min(p.ts), max(p.ts), count(*), avg(p.score),
                       ?, any_value(e.embedding)::REAL[]
                FROM track_points p LEFT JOIN track_embeddings e USING (track_id)
                WHERE p.video_id = ?
                GROUP BY p.video_id, p.track_id
                """,
                [embedder, video_id],
            )
        finally:
            conn.unregister("track_embeddings")
        if chunks is not None and len(chunks):
            chunk_df = chunks[CHUNK_COLUMNS]  # noqa: F841 - referenced by name in SQL
            conn.execute(
                "INSERT INTO tracklet_chunks SELECT ?, track_id, chunk, t_start, t_end, first_frame, last_frame, "
                "n_embedded, embedding::REAL[] FROM chunk_df",
                [video_id],
            )
        conn.execute(
            """
            UPDATE tracklets SET shopper_id = s.new_id
            FROM (SELECT track_id, nextval('shopper_id_seq') AS new_id FROM tracklets
                  WHERE video_id = ? ORDER BY track_id) s
            WHERE tracklets.video_id = ? AND tracklets.track_id = s.track_id
            """,
            [video_id, video_id],
        )
        conn.execute(
            "INSERT INTO shoppers (shopper_id, first_ts, last_ts) "
            "SELECT shopper_id, first_ts, last_ts FROM tracklets WHERE video_id = ?",
            [video_id],
        )
        write_trajectory(conn, video_id)
        conn.execute(
            "UPDATE videos SET status = 'done', frames_done = ? WHERE video_id = ?", [frames_done, video_id]
        )


def write_trajectory(conn: duckdb.DuckDBPyConnection, video_id: int | None = None, smooth: int = 2) -> None:
    """(Re)build trajectory rows from track points and the tracklets' shopper ids.

    Floor metres where the camera has a homography, else image pixels (``space = 'image'``). Positions
    are smoothed with a centred moving average of ``2 * smooth + 1`` points per track (foot points
    jitter). ``video_id`` limits it to one video; ``None`` rebuilds every finished video.
    """
    conn.execute("DELETE FROM trajectory WHERE ? IS NULL OR video_id = ?", [video_id, video_id])
    conn.execute(
        f"""
        INSERT INTO trajectory
        SELECT {POINT_SHOPPER}, p.camera, p.video_id, p.frame, p.ts,
               avg(coalesce(p.floor_x, p.foot_u)) OVER w,
               avg(coalesce(p.floor_y, p.foot_v)) OVER w,
               CASE WHEN p.floor_x IS NULL THEN 'image' ELSE 'floor' END
        FROM track_points p
        JOIN tracklets t ON t.video_id = p.video_id AND t.track_id = p.track_id
        JOIN videos v ON v.video_id = p.video_id
        {POINT_PART_JOIN}
        WHERE ($video_id IS NULL AND v.status = 'done') OR p.video_id = $video_id
        WINDOW w AS (PARTITION BY p.video_id, p.track_id ORDER BY p.frame
                     ROWS BETWEEN $smooth PRECEDING AND $smooth FOLLOWING)
        """,
        {"video_id": video_id, "smooth": smooth},
    )


def mark_failed(conn: duckdb.DuckDBPyConnection, video_id: int, error: str) -> None:
    conn.execute("UPDATE videos SET status = 'failed', error = ? WHERE video_id = ?", [error, video_id])


def mark_incomplete(conn: duckdb.DuckDBPyConnection, video_id: int, warning: str) -> None:
    """Record why a finished video is incomplete (a cut file): its decoded part stays 'done' and used."""
    conn.execute("UPDATE videos SET error = ? WHERE video_id = ?", [f"incomplete: {warning}", video_id])


def camera_track_rows(conn: duckdb.DuckDBPyConnection, camera: str, use_shopper_id: bool = True) -> pd.DataFrame:
    """One camera's track points as MOT rows (1-based frame, id, x, y, w, h, score).

    ``id`` is the global shopper id when known (``use_shopper_id``), else the camera-local track id.
    """
    return conn.execute(
        f"""
        SELECT p.frame + 1 AS frame,
               CASE WHEN ? THEN coalesce({POINT_SHOPPER}, p.track_id) ELSE p.track_id END AS id,
               p.x1 AS x, p.y1 AS y, p.x2 - p.x1 AS w, p.y2 - p.y1 AS h, p.score
        FROM track_points p
        JOIN videos v ON v.video_id = p.video_id
        LEFT JOIN tracklets t ON t.video_id = p.video_id AND t.track_id = p.track_id
        {POINT_PART_JOIN}
        WHERE p.camera = ? AND v.status = 'done'
        ORDER BY frame, id
        """,
        [use_shopper_id, camera],
    ).df()


def camera_names(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM cameras ORDER BY name").fetchall()]
