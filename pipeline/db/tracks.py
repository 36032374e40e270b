"""SQL for writing and reading the tracking tables (runs, cameras, videos, track points, tracklets).

Every multi-statement write runs in one transaction, so readers and interrupted runs never see a
half-written batch.

Re-processing a video never loses its previous results before new ones exist: :func:`begin_video` changes
nothing stored for a known video; its old rows are replaced inside the transaction of its first batch
(:func:`write_batch`), which also saves the old tracks' shopper ids (``replaced_tracklets``) for
:func:`finish_video` to give back to the same tracks.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.db.connection import fetch_record, transaction

# Re-exported: process, merge and the dashboard save and read the store config through this module.
from pipeline.db.store_config import load_store_config, save_store_config  # noqa: F401
from pipeline.static_objects import is_static
from pipeline.types import CHUNK_COLUMNS

# A track point's shopper: its tracklet part's (identity-switch splitting), else its tracklet's. Use as
# ``FROM track_points p JOIN tracklets t ON ... {POINT_PART_JOIN}`` and select ``POINT_SHOPPER``.
POINT_PART_JOIN = """LEFT JOIN tracklet_parts q ON q.video_id = p.video_id AND q.track_id = p.track_id
             AND p.frame BETWEEN q.first_frame AND q.last_frame"""
POINT_SHOPPER = "coalesce(q.shopper_id, t.shopper_id)"

PART_COLUMNS = ["video_id", "track_id", "part", "first_frame", "last_frame", "shopper_id"]

TRACK_POINT_COLUMNS = [
    "video_id",
    "camera",
    "frame",
    "t_sec",
    "ts",
    "track_id",
    "x1",
    "y1",
    "x2",
    "y2",
    "score",
    "foot_u",
    "foot_v",
    "floor_x",
    "floor_y",
    "keypoints",
]


def start_run(
    conn: duckdb.DuckDBPyConnection, store_name: str, config_path: str | None, settings: dict
) -> int:
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
        "INSERT INTO cameras (name, homography, width, height) VALUES (?, ?, ?, ?) ON CONFLICT (name) "
        "DO UPDATE SET homography = excluded.homography, width = excluded.width, height = excluded.height",
        [name, flat, width, height],
    )  # the camera's kept still (cameras.still_jpeg) survives


def find_video(conn: duckdb.DuckDBPyConnection, camera: str, path: str) -> dict[str, Any] | None:
    """The video's id, status, settings (decoded), file hash and the embedder its tracklets were stored
    with (``None`` without tracklets), or ``None`` for an unknown video."""
    return fetch_record(
        conn,
        "SELECT v.video_id, v.status, v.settings, v.sha256, "
        "(SELECT any_value(t.embedder) FROM tracklets t WHERE t.video_id = v.video_id) AS embedder "
        "FROM videos v WHERE v.camera = ? AND v.path = ?",
        [camera, path],
        ("settings",),
    )


def delete_video_rows(conn: duckdb.DuckDBPyConnection, video_id: int) -> None:
    """Remove everything derived from one video (call inside a transaction)."""
    for table in ("track_points", "tracklets", "trajectory", "tracklet_chunks", "tracklet_parts"):
        conn.execute(f"DELETE FROM {table} WHERE video_id = ?", [video_id])
    # ``shoppers`` rows stay (with their staff flags) until cross-camera identity rewrites the table: a
    # re-processed video's tracks take their old ids back, and their flags with them.


# New file hash, frame count, run and settings of a known video being re-processed, applied with its first
# batch. A TEMP table: it belongs to the connection that began the video, and a crash forgets it (nothing
# was changed yet).
_PENDING_DDL = """CREATE TEMP TABLE IF NOT EXISTS pending_videos (
    video_id INTEGER PRIMARY KEY, sha256 VARCHAR, fps DOUBLE, n_frames INTEGER, start_time TIMESTAMP,
    run_id INTEGER, settings VARCHAR
)"""


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
    """Register a video for (re)processing and return its id; nothing stored is changed yet.

    A new video gets a row with status 'processing'. A known one (done, failed or interrupted) keeps its
    rows and status until its first batch (:func:`write_batch`), which replaces them in one transaction,
    so a failure before then leaves its previous results intact (:func:`mark_failed`).
    """
    with transaction(conn):
        existing = find_video(conn, camera, path)
        if existing is None:
            return conn.execute(
                "INSERT INTO videos (camera, path, sha256, fps, n_frames, start_time, status, run_id, settings) "
                "VALUES (?, ?, ?, ?, ?, ?, 'processing', ?, ?) RETURNING video_id",
                [camera, path, sha256, fps, n_frames, start_time, run_id, json.dumps(settings)],
            ).fetchone()[0]
        video_id = existing["video_id"]
        conn.execute(_PENDING_DDL)
        conn.execute(
            "INSERT OR REPLACE INTO pending_videos VALUES (?, ?, ?, ?, ?, ?, ?)",
            [video_id, sha256, fps, n_frames, start_time, run_id, json.dumps(settings)],
        )
    return video_id


def _take_pending(conn: duckdb.DuckDBPyConnection, video_id: int) -> tuple | None:
    """The pending re-processing values of ``video_id`` (removed), or ``None``."""
    conn.execute(_PENDING_DDL)
    row = conn.execute(
        "SELECT sha256, fps, n_frames, start_time, run_id, settings FROM pending_videos WHERE video_id = ?",
        [video_id],
    ).fetchone()
    if row is not None:
        conn.execute("DELETE FROM pending_videos WHERE video_id = ?", [video_id])
    return row


def _replace_old_rows(conn: duckdb.DuckDBPyConnection, video_id: int) -> None:
    """First batch of a re-processed video (inside its transaction): save the old tracks' shopper ids,
    delete the old rows, apply the new file hash / settings."""
    pending = _take_pending(conn, video_id)
    if pending is None:
        return
    has_tracks = conn.execute("SELECT count(*) FROM tracklets WHERE video_id = ?", [video_id]).fetchone()[0]
    if has_tracks:  # else keep what an earlier, interrupted re-run saved
        conn.execute("DELETE FROM replaced_tracklets WHERE video_id = ?", [video_id])
        conn.execute(
            """
            INSERT INTO replaced_tracklets
            SELECT t.video_id, t.track_id, coalesce(q.first_frame, t.first_frame), coalesce(q.last_frame, t.last_frame),
                   coalesce(q.shopper_id, t.shopper_id), coalesce(s.is_staff, false), s.staff_source
            FROM tracklets t
            LEFT JOIN tracklet_parts q ON q.video_id = t.video_id AND q.track_id = t.track_id
            LEFT JOIN shoppers s ON s.shopper_id = coalesce(q.shopper_id, t.shopper_id)
            WHERE t.video_id = ? AND coalesce(q.shopper_id, t.shopper_id) IS NOT NULL
            """,
            [video_id],
        )
    delete_video_rows(conn, video_id)
    sha256, fps, n_frames, start_time, run_id, settings = pending
    conn.execute(
        "UPDATE videos SET sha256 = ?, fps = ?, n_frames = ?, start_time = ?, status = 'processing', "
        "frames_done = 0, run_id = ?, settings = ?, error = NULL WHERE video_id = ?",
        [sha256, fps, n_frames, start_time, run_id, settings, video_id],
    )


def write_batch(
    conn: duckdb.DuckDBPyConnection, video_id: int, points: pd.DataFrame, frames_done: int
) -> None:
    """Insert one batch of track points and advance the video's progress, atomically (the first batch of
    a re-processed video also replaces its old rows, see :func:`begin_video`)."""
    with transaction(conn):
        _replace_old_rows(conn, video_id)
        if len(points):
            frame = points[TRACK_POINT_COLUMNS]  # noqa: F841 - referenced by name in SQL
            conn.execute("INSERT INTO track_points SELECT * FROM frame")
        conn.execute("UPDATE videos SET frames_done = ? WHERE video_id = ?", [frames_done, video_id])


def _shopper_ids(conn: duckdb.DuckDBPyConnection, video_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shopper id per new track of ``video_id`` (static tracks get none), and the split parts to restore.

    A track takes the saved id (``replaced_tracklets``) of the old track with its track id whose frames
    overlap it most; when it spans exactly the old track's split parts, the parts come back too (same
    footage and settings give the same tracks). Other tracks get fresh ids, in track order.

    Returns:
        ``(ids, parts)``: columns track_id, shopper_id; and ``PART_COLUMNS`` rows of ``tracklet_parts``.
    """
    new = conn.execute(
        "SELECT track_id, first_frame, last_frame FROM tracklets WHERE video_id = ? AND NOT is_static "
        "ORDER BY track_id",
        [video_id],
    ).fetchall()
    old: dict[int, list[tuple[int, int, int]]] = {}
    for tid, first, last, sid in conn.execute(
        "SELECT track_id, first_frame, last_frame, shopper_id FROM replaced_tracklets WHERE video_id = ? "
        "ORDER BY track_id, first_frame",
        [video_id],
    ).fetchall():
        old.setdefault(tid, []).append((first, last, sid))
    ids: dict[int, int] = {}
    parts = []
    for tid, first, last in new:
        saved = old.get(tid, [])
        if len(saved) > 1 and saved[0][0] == first and saved[-1][1] == last:
            parts += [(video_id, tid, k, f, la, sid) for k, (f, la, sid) in enumerate(saved)]
        overlaps = [(min(last, la) - max(first, f) + 1, -f, sid) for f, la, sid in saved]
        if overlaps and max(overlaps)[0] > 0:
            ids[tid] = max(overlaps)[2]
    missing = [tid for tid, _, _ in new if tid not in ids]
    if missing:
        fresh = conn.execute("SELECT nextval('shopper_id_seq') FROM range(?)", [len(missing)]).fetchall()
        ids.update({tid: int(r[0]) for tid, r in zip(missing, fresh)})
    return (
        pd.DataFrame({"track_id": list(ids), "shopper_id": list(ids.values())}, dtype="int64"),
        pd.DataFrame(parts, columns=PART_COLUMNS, dtype="int64"),
    )


def finish_video(
    conn: duckdb.DuckDBPyConnection,
    video_id: int,
    embedder: str | None,
    embeddings: dict[int, np.ndarray],
    frames_done: int,
    chunks: pd.DataFrame | None = None,
) -> None:
    """Write tracklets (and their appearance chunks) and mark the video done.

    Each tracklet gets a provisional ``shopper_id``: the id its track had before the video was
    re-processed (``replaced_tracklets``), else a fresh one. Static tracklets (mannequins, see
    :func:`mark_static_tracklets`) get none. The ``shoppers`` and ``trajectory`` tables are not touched
    (but for a hand-set staff mark whose shopper row a re-ID dropped while the re-run was unfinished: it
    comes back with its id): cross-camera identity (:func:`pipeline.reid.store.run_reid`, the next step of
    the job chain) writes them once, keeping the provisional ids where its shoppers overlap them.

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
                       ?, any_value(e.embedding)::REAL[], false
                FROM track_points p LEFT JOIN track_embeddings e USING (track_id)
                WHERE p.video_id = ?
                GROUP BY p.video_id, p.track_id
                """,
                [embedder, video_id],
            )
        finally:
            conn.unregister("track_embeddings")
        if chunks is not None and len(chunks):
            chunk_df = chunks[list(CHUNK_COLUMNS)]  # noqa: F841 - referenced by name in SQL
            conn.execute(
                "INSERT INTO tracklet_chunks SELECT ?, track_id, chunk, t_start, t_end, first_frame, last_frame, "
                "n_embedded, embedding::REAL[] FROM chunk_df",
                [video_id],
            )
        mark_static_tracklets(conn, video_id, frames_done)
        ids, parts = _shopper_ids(conn, video_id)
        conn.register("new_shopper_ids", ids)
        conn.register("restored_parts", parts)
        try:
            conn.execute(
                "UPDATE tracklets SET shopper_id = i.shopper_id FROM new_shopper_ids i "
                "WHERE tracklets.video_id = ? AND tracklets.track_id = i.track_id",
                [video_id],
            )
            conn.execute("DELETE FROM tracklet_parts WHERE video_id = ?", [video_id])
            conn.execute(f"INSERT INTO tracklet_parts SELECT {', '.join(PART_COLUMNS)} FROM restored_parts")
        finally:
            conn.unregister("new_shopper_ids")
            conn.unregister("restored_parts")
        # A staff mark set by hand lives in its shopper's row; a re-ID run while this re-run was unfinished
        # dropped the row of a shopper seen only here. Give the mark back with the id (the next re-ID keeps it).
        conn.execute(
            """
            INSERT INTO shoppers (shopper_id, first_ts, last_ts, is_staff, staff_source)
            SELECT r.shopper_id, min(t.first_ts), max(t.last_ts), any_value(r.is_staff), 'manual'
            FROM replaced_tracklets r JOIN tracklets t ON t.video_id = r.video_id AND t.shopper_id = r.shopper_id
            WHERE r.video_id = ? AND r.staff_source = 'manual'
                  AND r.shopper_id NOT IN (SELECT shopper_id FROM shoppers)
            GROUP BY r.shopper_id
            """,
            [video_id],
        )
        conn.execute("DELETE FROM replaced_tracklets WHERE video_id = ?", [video_id])
        conn.execute(
            "UPDATE videos SET status = 'done', frames_done = ?, error = NULL WHERE video_id = ?",
            [frames_done, video_id],
        )


def mark_static_tracklets(conn: duckdb.DuckDBPyConnection, video_id: int, video_frames: int) -> int:
    """Set ``tracklets.is_static`` for ``video_id``'s tracks: those that never move over the video
    (:func:`pipeline.static_objects.is_static`), e.g. mannequins. Call inside the video's transaction.

    Args:
        video_frames: frames decoded from the video (what a track's span is measured against).

    Returns:
        The number of static tracklets.
    """
    points = conn.execute(
        "SELECT track_id, frame, x1, y1, x2, y2 FROM track_points WHERE video_id = ? ORDER BY track_id, frame",
        [video_id],
    ).fetchnumpy()
    track_ids = points["track_id"]
    if len(track_ids) == 0 or video_frames < 1:
        return 0  # Nothing tracked.
    xyxy = np.column_stack([points[c] for c in ("x1", "y1", "x2", "y2")])
    starts = np.flatnonzero(np.r_[True, track_ids[1:] != track_ids[:-1]])
    ends = np.r_[starts[1:], len(track_ids)]
    static = [
        int(track_ids[a])
        for a, b in zip(starts, ends)
        if is_static(points["frame"][a:b], xyxy[a:b], video_frames)
    ]
    conn.execute(
        "UPDATE tracklets SET is_static = list_contains(?::INTEGER[], track_id) WHERE video_id = ?",
        [static, video_id],
    )
    return len(static)


def write_trajectory(conn: duckdb.DuckDBPyConnection, smooth: int = 2) -> None:
    """Rebuild every finished video's trajectory rows from track points and the tracklets' shopper ids
    (call inside the transaction that writes the shopper ids, see :func:`pipeline.db.shoppers.write_assignment`).

    Floor metres where the camera has a homography, else image pixels (``space = 'image'``). Positions
    are smoothed with a centred moving average of ``2 * smooth + 1`` points per track (foot points
    jitter). Static tracklets (mannequins) have no trajectory.
    """
    conn.execute("DELETE FROM trajectory")
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
        WHERE v.status = 'done' AND NOT t.is_static
        WINDOW w AS (PARTITION BY p.video_id, p.track_id ORDER BY p.frame
                     ROWS BETWEEN $smooth PRECEDING AND $smooth FOLLOWING)
        """,
        {"smooth": smooth},
    )


def mark_failed(conn: duckdb.DuckDBPyConnection, video_id: int, error: str) -> None:
    """Record that processing ``video_id`` failed.

    A video whose old rows were not replaced yet (the failure came before its first batch) keeps them and
    its status, with the error noted; otherwise its status becomes 'failed'.
    """
    with transaction(conn):
        pending = _take_pending(conn, video_id)
        status = conn.execute("SELECT status FROM videos WHERE video_id = ?", [video_id]).fetchone()
        if pending is not None and status is not None and status[0] == "done":
            conn.execute(
                "UPDATE videos SET error = ? WHERE video_id = ?",
                [f"re-processing failed, previous results kept: {error}", video_id],
            )
        else:
            conn.execute(
                "UPDATE videos SET status = 'failed', error = ? WHERE video_id = ?", [error, video_id]
            )


def record_imgsz(conn: duckdb.DuckDBPyConnection, video_id: int, imgsz: int, note: str) -> None:
    """Record the detector input size a video was processed at, and why (``--imgsz auto`` explains its pick)."""
    conn.execute("UPDATE videos SET imgsz = ?, imgsz_note = ? WHERE video_id = ?", [imgsz, note, video_id])


def mark_incomplete(conn: duckdb.DuckDBPyConnection, video_id: int, warning: str) -> None:
    """Record why a finished video is incomplete (a cut file): its decoded part stays 'done' and used."""
    conn.execute("UPDATE videos SET error = ? WHERE video_id = ?", [f"incomplete: {warning}", video_id])


def camera_track_rows(
    conn: duckdb.DuckDBPyConnection, camera: str, use_shopper_id: bool = True
) -> pd.DataFrame:
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
