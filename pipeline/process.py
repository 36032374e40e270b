"""Process a store: every camera's footage -> tracks -> DuckDB.

Writes are committed per batch of frames together with the video's progress, so an interrupted run
(Ctrl-C, kill, crash) leaves only whole batches. A video left unfinished is restarted from scratch on
the next run (its rows are deleted first), and a finished video with the same file and settings is
skipped, so re-running ``process`` never duplicates rows.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from queue import Empty
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from pipeline.config import CameraConfig, StoreConfig, config_to_dict
from pipeline.db import tracks as db
from pipeline.errors import ConfigError
from pipeline.reid.assign import run_reid
from pipeline.reid.settings import REID_MODES
from pipeline.track_video import (
    Components,
    TrackChunks,
    TrackedVideoFrame,
    TrackSettings,
    load_components,
    track_video,
)
from pipeline.video import DecodeStatus, VideoInfo, probe

BATCH_FRAMES = 100


@dataclass(frozen=True)
class VideoOutcome:
    camera: str
    video_id: int
    status: str  # 'processed' | 'skipped'
    frames: int
    tracks: int
    warning: str | None = None  # why a processed video is incomplete (truncated or damaged file)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def to_floor(points: np.ndarray, homography: np.ndarray | None) -> np.ndarray | None:
    """Map (N, 2) image points through a 3x3 homography; ``None`` without one."""
    if homography is None:
        return None
    if len(points) == 0:
        return np.zeros((0, 2))
    homog = np.hstack([points.astype(np.float64), np.ones((len(points), 1))]) @ homography.T
    return homog[:, :2] / homog[:, 2:3]


def frame_rows(
    video_id: int, camera: CameraConfig, tracked: list[TrackedVideoFrame]
) -> pd.DataFrame:
    """Track-point rows (``db.TRACK_POINT_COLUMNS``) for a batch of tracked frames."""
    parts = []
    for f in tracked:
        d = f.detections
        n = len(d)
        if n == 0:
            continue
        foot = d.foot_point
        floor = to_floor(foot, camera.homography)
        kp = None if d.keypoints is None else d.keypoints.reshape(n, -1).tolist()
        parts.append(
            pd.DataFrame(
                {
                    "video_id": video_id,
                    "camera": camera.name,
                    "frame": f.frame,
                    "t_sec": f.t_sec,
                    "ts": camera.start_time + timedelta(seconds=f.t_sec),
                    "track_id": d.track_id,
                    "x1": d.xyxy[:, 0], "y1": d.xyxy[:, 1], "x2": d.xyxy[:, 2], "y2": d.xyxy[:, 3],
                    "score": d.confidence,
                    "foot_u": foot[:, 0], "foot_v": foot[:, 1],
                    "floor_x": None if floor is None else floor[:, 0],
                    "floor_y": None if floor is None else floor[:, 1],
                    "keypoints": kp if kp is not None else [None] * n,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=db.TRACK_POINT_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table["floor_x"] = table["floor_x"].astype("float64")
    table["floor_y"] = table["floor_y"].astype("float64")
    return table


def check_videos(config: StoreConfig) -> dict[str, VideoInfo]:
    """Probe every camera's video before anything is written (fail fast on a bad file)."""
    infos = {}
    for cam in config.cameras:
        if cam.video is None:
            raise ConfigError(f"camera {cam.name!r} has no video to process")
        infos[cam.name] = probe(cam.video, cam.fps)
    return infos


def process_store(
    config: StoreConfig,
    conn: duckdb.DuckDBPyConnection,
    settings: TrackSettings,
    components: Components | Callable[[], Components],
    force: bool = False,
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    batch_frames: int = BATCH_FRAMES,
    workers: int = 1,
    reid_mode: str = "full",
) -> list[VideoOutcome]:
    """Process every camera of ``config`` into ``conn``.

    Args:
        components: loaded models, or a factory called only if some video needs processing
            (in-process mode only; worker processes load their own).
        force: reprocess videos that are already done with the same file and settings.
        on_progress: called as ``(camera, frames_done, frames_total)`` after each committed batch.
        batch_frames: processed frames per committed transaction.
        workers: camera videos tracked in parallel worker processes; all database writes stay in this
            process (DuckDB has one writer), so batch atomicity is the same as with ``workers=1``.
        reid_mode: cross-camera identity once every camera is done (``independent``, ``appearance`` or
            ``full``), recomputed from all finished tracklets on each run (see ``pipeline.reid.assign``).
    """
    if batch_frames < 1:
        raise ValueError(f"batch_frames must be >= 1, but got {batch_frames}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, but got {workers}")
    if reid_mode not in REID_MODES:
        raise ValueError(f"unknown reid mode {reid_mode!r}; valid modes: {', '.join(REID_MODES)}")
    infos = check_videos(config)
    with db.transaction(conn):
        db.save_store_config(conn, yaml.safe_dump(config_to_dict(config), sort_keys=False))
        for cam in config.cameras:
            db.upsert_camera(conn, cam.name, cam.homography, infos[cam.name].width, infos[cam.name].height)
    run_id = db.start_run(conn, config.name, str(config.source) if config.source else None, settings.as_dict())
    outcomes: dict[str, VideoOutcome] = {}
    tasks: list[VideoTask] = []
    for cam in config.cameras:
        info = infos[cam.name]
        sha = file_sha256(info.path)
        existing = db.find_video(conn, cam.name, str(info.path))
        if (
            not force and existing is not None and existing["status"] == "done"
            and existing["sha256"] == sha and existing["settings"] == settings.as_dict()
        ):
            outcomes[cam.name] = VideoOutcome(cam.name, existing["video_id"], "skipped", 0, 0)
            continue
        video_id = db.begin_video(
            conn, camera=cam.name, path=str(info.path), sha256=sha, fps=info.fps, n_frames=info.n_frames,
            start_time=cam.start_time, run_id=run_id, settings=settings.as_dict(),
        )
        tasks.append(VideoTask(video_id, cam, info, settings, batch_frames, progress))
    if tasks:
        if workers == 1 or len(tasks) == 1:
            loaded = components if isinstance(components, Components) else components()
            messages = (msg for task in tasks for msg in video_messages(task, loaded))
        else:
            messages = _parallel_messages(tasks, workers)
        by_camera = {t.camera.name: t for t in tasks}
        for msg in messages:
            task = by_camera[msg.camera]
            outcome = _write_message(conn, task, msg)
            if outcome is not None:
                outcomes[msg.camera] = outcome
            if on_progress:
                # info.n_frames is an estimate: once done, the decoded count is both progress and total.
                total = task.info.n_frames if outcome is None else msg.frames_done
                on_progress(msg.camera, msg.frames_done, total)
    run_reid(conn, config.reid, mode=reid_mode)
    db.finish_run(conn, run_id)
    return [outcomes[cam.name] for cam in config.cameras]


@dataclass(frozen=True)
class VideoTask:
    """One video to track (picklable: sent to worker processes)."""

    video_id: int
    camera: CameraConfig
    info: VideoInfo
    settings: TrackSettings
    batch_frames: int
    progress: bool


@dataclass(frozen=True)
class VideoMessage:
    """A batch of track points ready to commit, or (``final``) the end of a video."""

    camera: str
    rows: pd.DataFrame
    frames_done: int
    final: bool = False
    embeddings: dict[int, np.ndarray] | None = None
    n_tracks: int = 0
    embedder: str | None = None
    chunks: pd.DataFrame | None = None
    warning: str | None = None


def video_messages(
    task: VideoTask, components: Components, on_frame: Callable[[int], None] | None = None
) -> Iterator[VideoMessage]:
    """Track one video and cut the result into batches of ``task.batch_frames`` processed frames.

    Args:
        on_frame: called with each tracked frame's index (progress); raising from it stops the video
            before the current batch is committed.
    """
    cam = task.camera
    chunks = TrackChunks()
    batch: list[TrackedVideoFrame] = []
    last_frame = -1
    label = cam.name if task.progress else False
    decoded = DecodeStatus()
    for tracked in track_video(
        task.info.path, task.settings, components, cam.fps, progress=label, status=decoded
    ):
        if on_frame is not None:
            on_frame(tracked.frame)
        batch.append(tracked)
        chunks.add(tracked.frame, tracked.t_sec, tracked.detections)
        last_frame = tracked.frame
        if len(batch) >= task.batch_frames:
            yield VideoMessage(cam.name, frame_rows(task.video_id, cam, batch), last_frame + 1)
            batch = []
    # The decoder's count, not the container's (which may be an estimate or, for a cut file, a lie).
    yield VideoMessage(
        cam.name, frame_rows(task.video_id, cam, batch), decoded.frames_decoded, True, chunks.means(),
        chunks.n_tracks, components.embedder.name if components.embedder is not None else None,
        chunks.table(), decoded.problem,
    )


def process_video(
    conn: duckdb.DuckDBPyConnection,
    task: VideoTask,
    components: Components,
    on_frame: Callable[[int], None] | None = None,
) -> VideoOutcome:
    """Track one registered video (see :func:`pipeline.db.tracks.begin_video`) into ``conn``.

    Batches are committed as they fill; the video is marked done only at the end.
    """
    for msg in video_messages(task, components, on_frame):
        outcome = _write_message(conn, task, msg)
        if outcome is not None:
            return outcome
    raise AssertionError("video_messages always ends with a final message")


def _write_message(conn: duckdb.DuckDBPyConnection, task: VideoTask, msg: VideoMessage) -> VideoOutcome | None:
    db.write_batch(conn, task.video_id, msg.rows, msg.frames_done)
    if not msg.final:
        return None
    db.finish_video(conn, task.video_id, msg.embedder, msg.embeddings or {}, msg.frames_done, msg.chunks)
    if msg.warning:
        db.mark_incomplete(conn, task.video_id, msg.warning)
    return VideoOutcome(
        task.camera.name, task.video_id, "processed", msg.frames_done, msg.n_tracks, msg.warning
    )


def _worker(task: VideoTask, queue: Any, threads: int) -> None:
    """Worker process: load models once, stream one video's batches to the writer."""
    import torch

    torch.set_num_threads(threads)
    components = load_components(task.settings)
    for msg in video_messages(task, components):
        queue.put(msg)


def _parallel_messages(tasks: list[VideoTask], workers: int) -> Iterator[VideoMessage]:
    """Messages from ``workers`` processes tracking ``tasks`` concurrently, as they arrive."""
    ctx = multiprocessing.get_context("spawn")  # fork + torch/OpenVINO thread pools is unsafe
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ctx.Manager() as manager, ctx.Pool(workers) as pool:
        queue = manager.Queue()
        pending = [pool.apply_async(_worker, (task, queue, threads)) for task in tasks]
        remaining = len(tasks)
        while remaining:
            try:
                msg = queue.get(timeout=1.0)
            except Empty:
                for result in pending:
                    if result.ready() and not result.successful():
                        result.get()  # re-raise the worker's exception here
                continue
            if msg.final:
                remaining -= 1
            yield msg
