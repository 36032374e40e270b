"""SQL for mining re-ID training data from a processed store (see ``pipeline/training/mining.py``)."""

from __future__ import annotations

import duckdb
import numpy as np

# Sample up to `per_tracklet` points evenly along each confident tracklet, in SQL, so that hours of
# footage never load every track point into memory.
_SAMPLE_SQL = """
WITH t AS (
    SELECT video_id, track_id, n_points FROM tracklets WHERE n_points >= ? AND mean_score >= ?
), p AS (
    SELECT tp.video_id, tp.track_id, tp.frame, tp.x1, tp.y1, tp.x2, tp.y2, t.n_points,
           row_number() OVER (PARTITION BY tp.video_id, tp.track_id ORDER BY tp.frame) - 1 AS rn
    FROM track_points tp JOIN t ON tp.video_id = t.video_id AND tp.track_id = t.track_id
    WHERE tp.y2 - tp.y1 >= ?
)
SELECT video_id, track_id, frame, x1, y1, x2, y2 FROM p
WHERE rn % greatest(1, CAST(ceil(n_points / ?) AS INTEGER)) = 0
ORDER BY video_id, track_id, frame
"""
_TRACKLETS_SQL = """
SELECT tl.video_id, tl.track_id, tl.camera, epoch(tl.first_ts), epoch(tl.last_ts), v.path
FROM tracklets tl JOIN videos v ON v.video_id = tl.video_id
WHERE tl.n_points >= ? AND tl.mean_score >= ?
ORDER BY tl.video_id, tl.track_id
"""


def confident_tracklets(conn: duckdb.DuckDBPyConnection, min_points: int, min_score: float) -> list[tuple]:
    """``(video_id, track_id, camera, first_epoch_s, last_epoch_s, video_path)`` of confident tracklets."""
    return conn.execute(_TRACKLETS_SQL, [min_points, min_score]).fetchall()


def sampled_boxes(
    conn: duckdb.DuckDBPyConnection, min_points: int, min_score: float, min_height: float, per_tracklet: int
) -> dict[str, np.ndarray]:
    """Up to ``per_tracklet`` evenly spaced boxes of each confident tracklet, as numpy columns."""
    return conn.execute(_SAMPLE_SQL, [min_points, min_score, min_height, float(per_tracklet)]).fetchnumpy()
