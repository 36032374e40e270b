"""Background processing of uploaded footage inside the Streamlit server process.

Why a thread and one shared connection: a DuckDB file opened read-write by one process cannot be
opened by any other process, so a separate worker process would either lock the dashboard out of its
own database or need a staging database merged afterwards. Instead the server holds one read-write
connection per database (``dashboard.data.connection``) and everything uses its own ``cursor()``:
page queries, flag reviews and this worker. DuckDB's MVCC gives each reader a consistent snapshot
while the worker commits one batch of frames per short transaction, so pages keep working during a
run and never see a lock error or a half-written batch.

One worker thread runs jobs one after another (processing is CPU-bound; two jobs at once would only
share the same cores). Progress lives in :class:`VideoTask` objects that pages poll; the committed
progress is also in ``videos.frames_done`` for anyone reading the database.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from dashboard.uploads import StoredUpload, discard_processed
from pipeline.config import CameraConfig, StoreConfig
from pipeline.db import dashboard as dashboard_sql
from pipeline.db import tracks as db
from pipeline.process import BATCH_FRAMES, process_video
from pipeline.process import VideoTask as ProcessTask
from pipeline.track_video import Components, TrackSettings

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


@dataclass
class VideoTask:
    """One uploaded video to process, with its live progress."""

    upload: StoredUpload
    camera: str
    start_time: datetime
    status: str = QUEUED
    frames_done: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    video_id: int | None = None
    error: str | None = None

    @property
    def n_frames(self) -> int:
        return self.upload.info.n_frames

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
    """Videos submitted together; analytics are refreshed once after the last one."""

    job_id: int
    db_path: str
    config: StoreConfig
    settings: TrackSettings
    tasks: list[VideoTask]
    status: str = QUEUED
    error: str | None = None
    submitted_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)


ComponentsFactory = Callable[[TrackSettings], Components]
Refresh = Callable[[duckdb.DuckDBPyConnection, StoreConfig], None]


class JobManager:
    """A queue of processing jobs and the one thread that runs them.

    Args:
        components_factory: loads the models for a job's settings (cached per settings).
        refresh: rebuilds derived tables after a job (cross-camera ids, analytics); runs on the
            worker's cursor.
        on_finished: called with the database path after every job (the data module's cache bump).
    """

    def __init__(
        self,
        components_factory: ComponentsFactory,
        refresh: Refresh | None = None,
        on_finished: Callable[[str], None] | None = None,
        batch_frames: int = BATCH_FRAMES,
    ) -> None:
        self._factory = components_factory
        self._refresh = refresh
        self._on_finished = on_finished
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
        settings: TrackSettings,
        tasks: list[VideoTask],
        analyse_only: bool = False,
    ) -> Job:
        """Queue ``tasks`` for processing into ``conn`` (the shared read-write connection of ``db_path``).

        With ``analyse_only`` (and no tasks) the job only rebuilds the analytics, e.g. after zones changed.

        Raises:
            ValueError: no tasks, or a task names a camera the config does not have.
        """
        if not tasks and not analyse_only:
            raise ValueError("nothing to process: no videos were given")
        names = {c.name for c in config.cameras}
        for task in tasks:
            if task.camera not in names:
                raise ValueError(f"unknown camera {task.camera!r}; cameras: {', '.join(sorted(names))}")
        with self._lock:
            job = Job(len(self._jobs) + 1, db_path, config, settings, tasks)
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
            t.upload.sha256
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

    def _run(self, job: Job, conn: duckdb.DuckDBPyConnection) -> str:
        """Process the job's videos, then refresh the analytics; returns the job's final status."""
        job.status = RUNNING
        cur = conn.cursor()
        try:
            if job.tasks:
                run_id = db.start_run(cur, job.config.name, "dashboard upload", job.settings.as_dict())
                components = None
                for task in job.tasks:
                    if job.cancel.is_set():
                        task.status = CANCELLED
                        continue
                    if _already_done(cur, task.upload.sha256):
                        task.status = SKIPPED
                        discard_processed(task.upload)  # retention: see dashboard.uploads.KEEP_ENV
                        continue
                    if components is None:
                        task.status = LOADING  # the first load of the model takes seconds: say so
                        components = self._load(job.settings)
                    self._process(cur, job, task, run_id, components)
                db.finish_run(cur, run_id)
            if self._refresh is not None and (not job.tasks or any(t.status == DONE for t in job.tasks)):
                self._refresh(cur, job.config)
            failed = [t for t in job.tasks if t.status == FAILED]
            if failed:
                job.error = "; ".join(f"{t.upload.original_name}: {t.error}" for t in failed)
                log.error("processing job %s into %s failed: %s", job.job_id, job.db_path, job.error)
            return CANCELLED if job.cancel.is_set() else FAILED if failed else DONE
        finally:
            cur.close()

    def _process(
        self, cur: duckdb.DuckDBPyConnection, job: Job, task: VideoTask, run_id: int, components: Components
    ) -> None:
        base = job.config.camera(task.camera)
        cam = CameraConfig(base.name, task.upload.path, task.start_time, base.fps, base.homography)
        info = task.upload.info
        task.status, task.started_at = RUNNING, time.monotonic()
        with db.transaction(cur):
            db.upsert_camera(cur, cam.name, cam.homography, info.width, info.height)
        task.video_id = db.begin_video(
            cur,
            camera=cam.name,
            path=str(info.path),
            sha256=task.upload.sha256,
            fps=info.fps,
            n_frames=info.n_frames,
            start_time=cam.start_time,
            run_id=run_id,
            settings=job.settings.as_dict(),
        )
        try:
            frames = _track(cur, task, cam, job, components, self._batch_frames)
        except Exception as exc:
            task.status = CANCELLED if isinstance(exc, Cancelled) else FAILED
            task.error = "cancelled" if isinstance(exc, Cancelled) else str(exc)
            if task.status == FAILED:  # the server log keeps the traceback; the page shows the message
                log.error("processing %s (video %s) failed", task.upload.path.name, task.video_id, exc_info=exc)
            db.mark_failed(cur, task.video_id, task.error)
            return
        task.frames_done = frames
        task.status, task.finished_at = DONE, time.monotonic()
        discard_processed(task.upload)  # retention: see dashboard.uploads.KEEP_ENV


def _already_done(cur: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    row = cur.execute(dashboard_sql.DONE_VIDEO_COUNT_BY_HASH, [sha256]).fetchone()
    return bool(row[0])


def _track(
    cur: duckdb.DuckDBPyConnection,
    task: VideoTask,
    cam: CameraConfig,
    job: Job,
    components: Components,
    batch_frames: int,
) -> int:
    """Track one video into the database (``pipeline.process.process_video``); returns frames read.

    Unlike ``process_store`` it does not rewrite the stored store config (the upload's camera and start
    time are the job's), and it reports per-frame progress and honours cancellation.
    """

    def on_frame(frame: int) -> None:
        if job.cancel.is_set():
            raise Cancelled
        task.frames_done = frame + 1

    outcome = process_video(
        cur, ProcessTask(task.video_id, cam, task.upload.info, job.settings, batch_frames, False), components, on_frame
    )
    return outcome.frames


def default_components(settings: TrackSettings) -> Components:
    """The real detector and embedder (imported lazily: torch is slow to import)."""
    from pipeline.track_video import load_components

    return load_components(settings)


def uploads_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"
