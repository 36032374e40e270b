"""Track a store's footage into DuckDB: every camera's video -> tracks, committed batch by batch.

The whole job chain (tracks, then cross-camera identity, then analytics) is :mod:`pipeline.jobs`; this
module is its first link.

Nothing stored is touched until every setting is checked and the models are loaded and have run once
(:func:`check_settings`, :func:`load_checked`): a bad option leaves the database as it was.

Writes are committed per batch of frames together with the video's progress, so an interrupted run
(Ctrl-C, kill, crash) leaves only whole batches. A re-processed video keeps its previous rows until its
first batch, which replaces them in the same transaction (see :func:`pipeline.db.tracks.begin_video`);
a failure marks it failed (or, before its first batch, leaves its previous results as they were). A
video left unfinished is restarted from scratch on the next run, and a finished video with the same
file and settings is skipped, so re-running ``process`` never duplicates rows. Re-running the same
footage keeps every shopper id.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from queue import Empty
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.autosize import SizeChoice
from pipeline.config import CameraConfig, StoreConfig, dump_config
from pipeline.db import tracks as db
from pipeline.errors import ConfigError, UserError
from pipeline.hashing import file_sha256
from pipeline.store.geometry import apply_homography
from pipeline.track_settings import tracked_alike
from pipeline.track_video import (
    Components,
    TrackChunks,
    TrackedVideoFrame,
    TrackSettings,
    choose_size,
    load_components,
    track_video,
)
from pipeline.tracking.offline import INTERPOLATED
from pipeline.video import DecodeStatus, VideoInfo, probe, sample_step

BATCH_FRAMES = 100


@dataclass(frozen=True)
class VideoOutcome:
    camera: str
    video_id: int
    status: str  # 'processed' | 'skipped' | 'failed' (an executor's error, in ``warning``)
    frames: int
    tracks: int
    warning: str | None = None  # why a processed video is incomplete (truncated or damaged file)


def to_floor(points: np.ndarray, homography: np.ndarray | None) -> np.ndarray | None:
    """Map (N, 2) image points through a 3x3 homography; ``None`` without one."""
    return None if homography is None else apply_homography(homography, points)


def frame_rows(video_id: int, camera: CameraConfig, tracked: list[TrackedVideoFrame]) -> pd.DataFrame:
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
        if kp is not None and INTERPOLATED in d.data:  # a filled-in box has no keypoints of its own
            kp = [None if filled else row for row, filled in zip(kp, d.data[INTERPOLATED].tolist())]
        parts.append(
            pd.DataFrame(
                {
                    "video_id": video_id,
                    "camera": camera.name,
                    "frame": f.frame,
                    "t_sec": f.t_sec,
                    "ts": camera.start_time + timedelta(seconds=f.t_sec),
                    "track_id": d.track_id,
                    "x1": d.xyxy[:, 0],
                    "y1": d.xyxy[:, 1],
                    "x2": d.xyxy[:, 2],
                    "y2": d.xyxy[:, 3],
                    "score": d.confidence,
                    "foot_u": foot[:, 0],
                    "foot_v": foot[:, 1],
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


def check_settings(config: StoreConfig, settings: TrackSettings, infos: dict[str, VideoInfo]) -> None:
    """What can be checked without models: frame sampling per video, and that every zone can be placed on
    the floor (``analyse`` would refuse the stored config otherwise).

    Raises:
        ValueError: stride < 1 or sample_fps <= 0.
        ConfigError: a zone that ``zones.geometry.build_zones`` refuses.
    """
    from zones.geometry import build_zones

    for info in infos.values():
        sample_step(info.fps, settings.stride, settings.sample_fps)
    build_zones(config)


def check_components(components: Components, info: VideoInfo) -> None:
    """Run the detector and the embedder once on a black frame of ``info``'s size.

    Some settings fail only when a model runs (a GPU that does not exist, a runtime that cannot execute
    the model): this finds them before anything is written.

    Raises:
        UserError: the models cannot run with these settings.
    """
    image = np.zeros((max(info.height, 32), max(info.width, 32), 3), np.uint8)
    try:
        components.detector(image)
        if components.embedder is not None:
            components.embedder.embed(image, np.array([[0, 0, 16, 32]], np.float32))
    except (UserError, ValueError):
        raise
    except Exception as exc:  # noqa: BLE001 - runtimes fail in many ways; the message says which
        raise UserError(f"the models cannot run with these settings: {type(exc).__name__}: {exc}") from exc


def load_checked(settings: TrackSettings, info: VideoInfo) -> Components:
    """Load the models named by ``settings`` and run them once (:func:`check_components`).

    Raises:
        UserError: missing or corrupt weights, or models that cannot run here.
        ValueError: an out-of-range setting or unknown name.
    """
    try:
        components = load_components(settings)
    except (UserError, ValueError):
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a torch RuntimeError for a device that does not exist
        raise UserError(f"cannot load the models: {type(exc).__name__}: {exc}") from exc
    check_components(components, info)
    return components


def track_store(
    config: StoreConfig,
    conn: duckdb.DuckDBPyConnection,
    settings: TrackSettings,
    components: Components | Callable[[], Components],
    force: bool = False,
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    batch_frames: int = BATCH_FRAMES,
    workers: int = 1,
    executor: Callable[[list[VideoTask]], Iterator[VideoMessage]] | None = None,
) -> list[VideoOutcome]:
    """Track every camera of ``config`` into ``conn`` (the chain's first link: see
    :func:`pipeline.jobs.process_store` for the whole chain).

    Args:
        components: loaded models, or a factory called only if some video needs processing
            (in-process mode only; worker processes load their own).
        force: reprocess videos that are already done with the same file and settings.
        on_progress: called as ``(camera, frames_done, frames_total)`` after each committed batch.
        batch_frames: processed frames per committed transaction.
        workers: camera videos tracked in parallel worker processes; all database writes stay in this
            process (DuckDB has one writer), so batch atomicity is the same as with ``workers=1``.
        executor: tracks the videos elsewhere and streams their messages back, each video's in order
            (e.g. :class:`pipeline.distributed.ray_executor.RayExecutor`); a message with ``error`` marks
            its video failed and the others go on. ``None``: in-process or ``workers`` processes.
    """
    if batch_frames < 1:
        raise ValueError(f"batch_frames must be >= 1, but got {batch_frames}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, but got {workers}")
    infos = check_videos(config)
    check_settings(config, settings, infos)
    # Plan (reads only), then load and try the models, and only then write.
    todo: list[tuple[CameraConfig, VideoInfo, str]] = []
    skipped: dict[str, int] = {}
    for cam in config.cameras:
        info = infos[cam.name]
        sha = file_sha256(info.path)
        existing = db.find_video(conn, cam.name, str(info.path))
        if (
            not force
            and existing is not None
            and existing["status"] == "done"
            and existing["sha256"] == sha
            and tracked_alike(existing["settings"], settings, existing["embedder"])
        ):
            skipped[cam.name] = existing["video_id"]
        else:
            todo.append((cam, info, sha))
    loaded = None
    if todo:
        if isinstance(components, Components):
            check_components(components, todo[0][1])
            loaded = components
        else:
            # With worker processes this is a check only (each worker loads its own), but a bad option
            # must fail here, before the database is written.
            loaded = components()
            check_components(loaded, todo[0][1])

    with db.transaction(conn):
        db.save_store_config(conn, dump_config(config))
        for cam in config.cameras:
            db.upsert_camera(conn, cam.name, cam.homography, infos[cam.name].width, infos[cam.name].height)
    run_id = db.start_run(
        conn, config.name, str(config.source) if config.source else None, settings.as_dict()
    )
    outcomes = {name: VideoOutcome(name, video_id, "skipped", 0, 0) for name, video_id in skipped.items()}
    tasks = []
    for cam, info, sha in todo:
        video_id = db.begin_video(
            conn,
            camera=cam.name,
            path=str(info.path),
            sha256=sha,
            fps=info.fps,
            n_frames=info.n_frames,
            start_time=cam.start_time,
            run_id=run_id,
            settings=settings.as_dict(),
        )
        tasks.append(VideoTask(video_id, cam, info, settings, batch_frames, progress))
    if tasks:
        if executor is not None:
            messages = executor(tasks)
        elif workers == 1 or len(tasks) == 1:
            messages = (msg for task in tasks for msg in video_messages(task, loaded))
        else:
            messages = _parallel_messages(tasks, workers)
        by_camera = {t.camera.name: t for t in tasks}
        try:
            for msg in messages:
                task = by_camera[msg.camera]
                if msg.error is not None:  # an executor gave up on this video; the others go on
                    db.mark_failed(conn, task.video_id, msg.error)
                    outcomes[msg.camera] = VideoOutcome(msg.camera, task.video_id, "failed", 0, 0, msg.error)
                    continue
                outcome = write_message(conn, task, msg)
                if outcome is not None:
                    outcomes[msg.camera] = outcome
                if on_progress:
                    # info.n_frames is an estimate: once done, the decoded count is both progress and total.
                    total = task.info.n_frames if outcome is None else msg.frames_done
                    on_progress(msg.camera, msg.frames_done, total)
        except BaseException as exc:
            _mark_unfinished(conn, [t for t in tasks if t.camera.name not in outcomes], exc)
            raise
    db.finish_run(conn, run_id)
    return [outcomes[cam.name] for cam in config.cameras]


def _mark_unfinished(conn: duckdb.DuckDBPyConnection, tasks: list[VideoTask], exc: BaseException) -> None:
    """Mark the videos a failed run did not finish (best effort: the original error is what matters)."""
    reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
    for task in tasks:
        with contextlib.suppress(Exception):  # e.g. the connection itself broke
            db.mark_failed(conn, task.video_id, reason)


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
    size: SizeChoice | None = None  # final message: the detector input size used, and why
    error: str | None = None  # instead of a final message: the video failed (see ``track_store(executor=)``)


def final_message(
    task: VideoTask,
    components: Components,
    batch: list[TrackedVideoFrame],
    frames_done: int,
    chunks: TrackChunks,
    decoded: DecodeStatus,
    size: SizeChoice,
) -> VideoMessage:
    """The end of a video (or of a segment): its last batch, the tracks' appearance and how it was read."""
    return VideoMessage(
        task.camera.name,
        frame_rows(task.video_id, task.camera, batch),
        frames_done,
        True,
        chunks.means(),
        chunks.n_tracks,
        components.embedder.name if components.embedder is not None else None,
        chunks.table(),
        decoded.problem,
        size,
    )


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
    size = choose_size(task.info, task.settings, components, cam.fps)
    for tracked in track_video(
        task.info.path, task.settings, components, cam.fps, progress=label, status=decoded, size=size
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
    yield final_message(task, components, batch, decoded.frames_decoded, chunks, decoded, size)


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
        outcome = write_message(conn, task, msg)
        if outcome is not None:
            return outcome
    raise AssertionError("video_messages always ends with a final message")


def write_message(conn: duckdb.DuckDBPyConnection, task: VideoTask, msg: VideoMessage) -> VideoOutcome | None:
    """Commit one message of ``task``'s video (a batch; the final one also marks the video done and
    returns its outcome)."""
    db.write_batch(conn, task.video_id, msg.rows, msg.frames_done)
    if not msg.final:
        return None
    db.finish_video(conn, task.video_id, msg.embedder, msg.embeddings or {}, msg.frames_done, msg.chunks)
    if msg.warning:
        db.mark_incomplete(conn, task.video_id, msg.warning)
    if msg.size is not None:
        db.record_imgsz(conn, task.video_id, msg.size.imgsz, msg.size.note)
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
