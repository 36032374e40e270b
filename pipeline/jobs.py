"""The job chain: footage -> tracks -> cross-camera identity -> analytics, with progress and cancellation.

Every way into the product runs this one chain:

* the CLI ``process`` (and benchmarks, the Ray executor's driver) call :func:`process_store`: track a store
  config's cameras (:func:`pipeline.process.track_store`), then :func:`derive`;
* the dashboard submits plain requests (:class:`VideoRequest`: camera, file, start time) with the
  processing settings to a :class:`JobManager`, polls their status and may cancel; "re-analyse" is a job
  without videos (only :func:`derive`).

:func:`derive` is the chain's tail and the one place that orders it: cross-camera identity first (it writes
the shopper ids the analytics group by), then every analytics table. Each step commits in one transaction
of its own.

Why the dashboard's jobs run on a thread with one shared connection: a DuckDB file opened read-write by one
process cannot be opened by any other process, so a separate worker process would lock the dashboard out
of its own database. The server holds one read-write connection per database and everything uses its own
``cursor()``; DuckDB's MVCC gives each reader a consistent snapshot while the worker commits one batch of
frames per short transaction, so pages keep working during a run and never see a half-written batch.
One worker thread runs jobs one after another (processing is CPU-bound; two jobs at once would only share
the same cores).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

import zones
from pipeline.config import CameraConfig, StoreConfig
from pipeline.db import dashboard as dashboard_sql
from pipeline.db import tracks as db
from pipeline.process import (
    BATCH_FRAMES,
    VideoMessage,
    VideoOutcome,
    VideoTask,
    process_video,
    track_store,
    write_message,
)
from pipeline.reid.settings import REID_MODES
from pipeline.reid.store import run_reid
from pipeline.track_settings import TrackSettings
from pipeline.track_video import Components, load_components
from pipeline.video import VideoInfo

log = logging.getLogger(__name__)

QUEUED, LOADING, RUNNING, DONE, SKIPPED, FAILED, CANCELLED = (
    "queued",
    "loading the detector",
    "processing",
    "done",
    "skipped",
    "failed",
    "cancelled",
)


class Cancelled(Exception):
    """The user cancelled the job."""


def derive(
    conn: duckdb.DuckDBPyConnection,
    config: StoreConfig | None,
    reid_mode: str = "full",
    calibrate: bool | None = None,
    analyse: bool = True,
) -> dict[str, Any] | None:
    """Rebuild what is derived from the tracks: cross-camera shopper ids, then (``analyse``) the analytics.

    Args:
        config: the store config (``None``: the one saved in the database).
        reid_mode: ``independent``, ``appearance`` or ``full`` (see :mod:`pipeline.reid.assign`).
        calibrate: refit the on-site cross-camera threshold (``True`` after new footage; see
            :func:`pipeline.reid.store.run_reid`).

    Returns:
        The analytics summary (``analysis_summary`` row), or ``None`` without ``analyse``.

    Raises:
        ValueError: an unknown ``reid_mode``.
        ConfigError: invalid zones, ``analytics:`` or ``flags:`` settings.
    """
    if reid_mode not in REID_MODES:
        raise ValueError(f"unknown reid mode {reid_mode!r}; valid modes: {', '.join(REID_MODES)}")
    run_reid(conn, config.reid if config is not None else None, mode=reid_mode, calibrate=calibrate)
    if not analyse:
        return None
    return zones.analyse(conn, config)


def process_store(
    config: StoreConfig,
    conn: duckdb.DuckDBPyConnection,
    settings: TrackSettings,
    components: Components | Callable[[], Components],
    *,
    reid_mode: str = "full",
    analyse: bool = True,
    force: bool = False,
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    batch_frames: int = BATCH_FRAMES,
    workers: int = 1,
    executor: Callable[[list[VideoTask]], Iterator[VideoMessage]] | None = None,
) -> list[VideoOutcome]:
    """The whole chain for a store config: track every camera (:func:`pipeline.process.track_store`, which
    documents the tracking arguments), then :func:`derive` (identity with the threshold refitted when new
    footage came in, then the analytics unless ``analyse`` is false)."""
    if reid_mode not in REID_MODES:  # before anything is tracked or written
        raise ValueError(f"unknown reid mode {reid_mode!r}; valid modes: {', '.join(REID_MODES)}")
    outcomes = track_store(
        config,
        conn,
        settings,
        components,
        force=force,
        progress=progress,
        on_progress=on_progress,
        batch_frames=batch_frames,
        workers=workers,
        executor=executor,
    )
    new_footage = any(o.status != "skipped" for o in outcomes)
    derive(conn, config, reid_mode, calibrate=True if new_footage else None, analyse=analyse)
    return outcomes


# -- the dashboard's queue ---------------------------------------------------------------------------


@dataclass
class VideoRequest:
    """One video to process into a camera of the store, with its live progress.

    Attributes:
        camera: a camera of the job's store config.
        path: the video file.
        info: what the file holds (``pipeline.video.probe``).
        sha256: the file's hash (a video already processed is skipped).
        start_time: when the footage starts (every time in the analytics counts from it).
        name: what to call the file on screen (e.g. the name it was uploaded as).
    """

    camera: str
    path: Path
    info: VideoInfo
    sha256: str
    start_time: datetime
    name: str
    status: str = QUEUED
    frames_done: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    video_id: int | None = None
    error: str | None = None

    @property
    def n_frames(self) -> int:
        return self.info.n_frames

    @property
    def fraction(self) -> float:
        if self.status in (DONE, SKIPPED):
            return 1.0
        return min(1.0, self.frames_done / max(self.n_frames, 1))

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left at the rate so far (``None`` before the first frames)."""
        if self.status != RUNNING or self.started_at is None or self.frames_done <= 0:
            return None
        elapsed = (now or time.monotonic()) - self.started_at
        return elapsed / self.frames_done * max(self.n_frames - self.frames_done, 0)


@dataclass
class Job:
    """Videos submitted together; identities and analytics are rebuilt once after the last one."""

    job_id: int
    db_path: str
    config: StoreConfig
    settings: TrackSettings
    tasks: list[VideoRequest]
    status: str = QUEUED
    error: str | None = None
    submitted_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    ray_address: str | None = None  # track on Ray: a cluster address, or LOCAL_RAY; None = in this process
    segment_seconds: float | None = None  # with Ray: split each video into segments of about this long
    units: dict[str, UnitProgress] = field(default_factory=dict)  # Ray tasks (video or segment) by label

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)


LOCAL_RAY = "local"  # ``Job.ray_address``: start a Ray on this machine (all its cores, parallel segments)


@dataclass
class UnitProgress:
    """One Ray task of a job (a video, or a time segment of one) and how far its worker got.

    Attributes:
        label: ``camera`` or ``camera#segment``.
        camera: the camera whose video it tracks.
        start, end: the frames the task reads (``end`` exclusive).
        frames_done: the last frame its worker reported, + 1 (video frame numbers).
        attempt: 0, or the retry after a lost worker.
    """

    label: str
    camera: str
    start: int
    end: int
    frames_done: int = 0
    attempt: int = 0

    @property
    def done(self) -> int:
        """Frames of this task read so far."""
        return int(min(max(self.frames_done - self.start, 0), max(self.end - self.start, 0)))

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / max(self.end - self.start, 1))


ComponentsFactory = Callable[[TrackSettings], Components]
# (cursor, store config, calibrate=...): see :func:`derive`.
Derive = Callable[..., Any]


class JobManager:
    """A queue of processing jobs and the one thread that runs them.

    Args:
        components_factory: loads the models for a job's settings (cached per settings).
        derive: rebuilds what is derived after a job (default :func:`derive`: identities, then analytics);
            runs on the worker's cursor, with ``calibrate=True`` when the job stored new footage.
        on_finished: called with the database path after every job (e.g. a cache bump).
        on_video_done: called with the job and each request once its video is stored (processed, or
            already there: then ``video_id`` is ``None``), e.g. to keep a still and delete the upload.
    """

    def __init__(
        self,
        components_factory: ComponentsFactory = load_components,
        derive: Derive | None = derive,
        on_finished: Callable[[str], None] | None = None,
        on_video_done: Callable[[Job, VideoRequest], None] | None = None,
        batch_frames: int = BATCH_FRAMES,
    ) -> None:
        self._factory = components_factory
        self._derive = derive
        self._on_finished = on_finished
        self._on_video_done = on_video_done
        self._batch_frames = batch_frames
        self._jobs: list[Job] = []
        self._queue: queue.Queue[tuple[Job, duckdb.DuckDBPyConnection]] = queue.Queue()
        self._lock = threading.Lock()
        self._components: dict[TrackSettings, Components] = {}
        self._thread = threading.Thread(target=self._work, name="shopper-processing", daemon=True)
        self._thread.start()

    def submit(
        self,
        conn: duckdb.DuckDBPyConnection,
        db_path: str,
        config: StoreConfig,
        settings: TrackSettings | None = None,
        tasks: list[VideoRequest] | None = None,
        ray_address: str | None = None,
        segment_seconds: float | None = None,
    ) -> Job:
        """Queue ``tasks`` for processing into ``conn`` (the shared read-write connection of ``db_path``).

        Without tasks the job only rebuilds identities and analytics ("re-analyse", e.g. after zones changed).
        With ``ray_address`` (a cluster, or :data:`LOCAL_RAY`) the videos are tracked on Ray
        (:class:`pipeline.distributed.ray_executor.RayExecutor`), optionally in segments of
        ``segment_seconds``; this process still writes the database.

        Raises:
            ValueError: a task names a camera the config does not have, or a bad segment option.
        """
        if segment_seconds is not None and ray_address is None:
            raise ValueError("segment_seconds needs a Ray address (segments are tracked in parallel on Ray)")
        if segment_seconds is not None and not segment_seconds > 0:
            raise ValueError(f"segment_seconds must be > 0, but got {segment_seconds}")
        tasks = list(tasks or [])
        names = {c.name for c in config.cameras}
        for task in tasks:
            if task.camera not in names:
                raise ValueError(f"unknown camera {task.camera!r}; cameras: {', '.join(sorted(names))}")
        with self._lock:
            job = Job(
                len(self._jobs) + 1,
                db_path,
                config,
                settings or TrackSettings(),
                tasks,
                ray_address=ray_address,
                segment_seconds=segment_seconds,
            )
            self._jobs.append(job)
        self._queue.put((job, conn))
        return job

    def jobs(self, db_path: str | None = None) -> list[Job]:
        """Submitted jobs, newest first (only those of ``db_path`` when given)."""
        with self._lock:
            jobs = list(self._jobs)
        return [j for j in reversed(jobs) if db_path is None or j.db_path == db_path]

    def active(self, db_path: str | None = None) -> bool:
        return any(j.active for j in self.jobs(db_path))

    def pending_hashes(self, db_path: str) -> set[str]:
        """SHA-256 of videos queued or being processed for ``db_path``."""
        return {
            t.sha256
            for j in self.jobs(db_path)
            if j.active
            for t in j.tasks
            if t.status in (QUEUED, LOADING, RUNNING)
        }

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is active; ``False`` on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.active():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    # -- worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job, conn = self._queue.get()
            status = FAILED
            try:
                status = self._run(job, conn)
            except Exception as exc:  # keep the worker alive whatever a job does
                log.exception("processing job %s failed", job.job_id)
                job.error = str(exc)
            finally:
                job.finished_at = time.monotonic()
                if self._on_finished is not None:
                    try:
                        self._on_finished(job.db_path)
                    except Exception:
                        log.exception("on_finished failed for job %s", job.job_id)
                # Last: pages poll the status, and must find the caches already invalidated.
                job.status = status

    def _load(self, settings: TrackSettings) -> Components:
        if settings not in self._components:
            self._components[settings] = self._factory(settings)
        return self._components[settings]

    def _video_done(self, job: Job, task: VideoRequest) -> None:
        if self._on_video_done is not None:
            try:
                self._on_video_done(job, task)
            except Exception:  # the video is stored; what follows it must not fail the job
                log.exception("after-video step failed for %s", task.path.name)

    def _run(self, job: Job, conn: duckdb.DuckDBPyConnection) -> str:
        """Process the job's videos, then derive identities and analytics; returns the job's final status."""
        job.status = RUNNING
        cur = conn.cursor()
        try:
            if job.tasks:
                run_id = db.start_run(cur, job.config.name, "dashboard upload", job.settings.as_dict())
                components = None
                on_ray: list[VideoRequest] = []
                for task in job.tasks:
                    if job.cancel.is_set():
                        task.status = CANCELLED
                        continue
                    if _already_done(cur, task.sha256):
                        task.status = SKIPPED
                        self._video_done(job, task)
                        continue
                    if job.ray_address is not None:
                        on_ray.append(task)
                        continue
                    if components is None:
                        task.status = LOADING  # the first load of the model takes seconds: say so
                        components = self._load(job.settings)
                    self._process(cur, job, task, run_id, components)
                for round_ in _one_video_per_camera(on_ray):
                    self._process_on_ray(cur, job, round_, run_id)
                db.finish_run(cur, run_id)
            new_footage = any(t.status == DONE for t in job.tasks)
            if self._derive is not None and (not job.tasks or new_footage):
                # New footage refits the on-site cross-camera threshold, as `process` does.
                self._derive(cur, job.config, calibrate=True if new_footage else None)
            failed = [t for t in job.tasks if t.status == FAILED]
            if failed:
                job.error = "; ".join(f"{t.name}: {t.error}" for t in failed)
                log.error("processing job %s into %s failed: %s", job.job_id, job.db_path, job.error)
            return CANCELLED if job.cancel.is_set() else FAILED if failed else DONE
        finally:
            cur.close()

    def _begin(self, cur: duckdb.DuckDBPyConnection, job: Job, task: VideoRequest, run_id: int) -> VideoTask:
        """Register ``task``'s video (running from now) and return what tracks it."""
        base = job.config.camera(task.camera)
        cam = CameraConfig(base.name, task.path, task.start_time, base.fps, base.homography)
        info = task.info
        task.status, task.started_at = RUNNING, time.monotonic()
        with db.transaction(cur):
            db.upsert_camera(cur, cam.name, cam.homography, info.width, info.height)
        task.video_id = db.begin_video(
            cur,
            camera=cam.name,
            path=str(info.path),
            sha256=task.sha256,
            fps=info.fps,
            n_frames=info.n_frames,
            start_time=cam.start_time,
            run_id=run_id,
            settings=job.settings.as_dict(),
        )
        return VideoTask(task.video_id, cam, info, job.settings, self._batch_frames, False)

    def _end(self, cur: duckdb.DuckDBPyConnection, task: VideoRequest, exc: BaseException) -> None:
        """``task`` stopped before its video was stored: cancelled, or failed (logged with the cause)."""
        task.status = CANCELLED if isinstance(exc, Cancelled) else FAILED
        task.error = "cancelled" if isinstance(exc, Cancelled) else str(exc) or type(exc).__name__
        if task.status == FAILED:  # the server log keeps the traceback; the page shows the message
            log.error("processing %s (video %s) failed", task.path.name, task.video_id, exc_info=exc)
        db.mark_failed(cur, task.video_id, task.error)

    def _stored(self, job: Job, task: VideoRequest, frames: int) -> None:
        task.frames_done = frames
        task.status, task.finished_at = DONE, time.monotonic()
        self._video_done(job, task)

    def _process(
        self,
        cur: duckdb.DuckDBPyConnection,
        job: Job,
        task: VideoRequest,
        run_id: int,
        components: Components,
    ) -> None:
        video = self._begin(cur, job, task, run_id)

        def on_frame(frame: int) -> None:
            if job.cancel.is_set():
                raise Cancelled
            task.frames_done = frame + 1

        try:
            # Unlike ``track_store`` this does not rewrite the stored store config (the camera and start
            # time are the request's), and it reports per-frame progress and honours cancellation.
            outcome = process_video(cur, video, components, on_frame)
        except Exception as exc:
            self._end(cur, task, exc)
            return
        self._stored(job, task, outcome.frames)

    def _process_on_ray(
        self, cur: duckdb.DuckDBPyConnection, job: Job, tasks: list[VideoRequest], run_id: int
    ) -> None:
        """Track ``tasks`` (one per camera) on Ray and write their messages as they arrive.

        Progress comes per Ray task (``job.units``); a cancel takes effect at the next batch a worker
        reports. Ray is imported only here: a server that never uses it never loads it.
        """
        from pipeline.distributed.ray_executor import RayExecutor

        if job.cancel.is_set():
            for task in tasks:
                task.status = CANCELLED
            return
        by_camera = {task.camera: task for task in tasks}
        videos = {task.camera: self._begin(cur, job, task, run_id) for task in tasks}

        def on_batch(label: str, attempt: int, pid: int, frames_done: int) -> None:
            if job.cancel.is_set():
                raise Cancelled
            unit = job.units[label]
            unit.frames_done, unit.attempt = frames_done, attempt
            task = by_camera[unit.camera]  # segments read overlapping frames: capped at the video's count
            task.frames_done = min(
                sum(u.done for u in job.units.values() if u.camera == unit.camera), task.n_frames
            )

        address = None if job.ray_address == LOCAL_RAY else job.ray_address
        executor = RayExecutor(address=address, segment_seconds=job.segment_seconds, on_batch=on_batch)
        units, _ = executor.units(list(videos.values()))
        for unit in units:
            seg, n_frames = unit.segment, unit.task.info.n_frames
            end = n_frames if seg is None or seg.read_end is None else seg.read_end
            start = 0 if seg is None else seg.read_start
            job.units[unit.label] = UnitProgress(unit.label, unit.task.camera.name, start, end)
        try:
            for msg in executor(list(videos.values())):
                task = by_camera[msg.camera]
                if msg.error is not None:  # Ray gave up on this video; the others go on
                    self._end(cur, task, RuntimeError(msg.error))
                    continue
                outcome = write_message(cur, videos[msg.camera], msg)
                if outcome is not None:
                    for unit in job.units.values():  # a stride may stop short of a task's last frame
                        if unit.camera == msg.camera:
                            unit.frames_done = max(unit.frames_done, unit.end)
                    self._stored(job, task, outcome.frames)
        except Exception as exc:
            for task in tasks:
                if task.status == RUNNING:
                    self._end(cur, task, exc)


def _one_video_per_camera(tasks: list[VideoRequest]) -> list[list[VideoRequest]]:
    """``tasks`` in rounds where each camera appears at most once (a Ray run keys its videos by camera)."""
    rounds: list[list[VideoRequest]] = []
    for task in tasks:
        for round_ in rounds:
            if all(t.camera != task.camera for t in round_):
                round_.append(task)
                break
        else:
            rounds.append([task])
    return rounds


def _already_done(cur: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    row = cur.execute(dashboard_sql.DONE_VIDEO_COUNT_BY_HASH, [sha256]).fetchone()
    return bool(row[0])
