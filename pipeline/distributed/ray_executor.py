"""``process --executor ray``: track a store's videos (or their time segments) on a Ray cluster.

The unit of work is one video, or one segment of a long one (:mod:`pipeline.distributed.segments`).
Each Ray worker is an actor (:class:`TrackWorker`) that loads the models once and tracks the units sent to
it, streaming their batches back as a Ray generator. The driver (:class:`RayExecutor`, called by
:func:`pipeline.jobs.process_store`) alone writes DuckDB, with the same per-batch transactions as the
in-process run.

Faults: the driver keeps each unit's batches until the unit's final message, so a worker that dies
mid-unit leaves nothing in the database; the unit is sent again to a fresh worker (up to ``max_retries``
times) and only the attempt that finished is written. A unit that keeps killing its worker, or raises
(a file it cannot read), gives its video an error message (``VideoMessage.error``): the video is marked
failed and the rest of the store goes on.

Ray retries streaming tasks by itself too, but a retried generator resumes after the items the caller
already received, which would splice two attempts' tracks together (tracker state is not replayed);
hence retries here are whole units, decided by the driver.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import ray
from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

from pipeline.distributed.segments import (
    DEFAULT_OVERLAP_SECONDS,
    Segment,
    VideoAssembler,
    check_segment_options,
    segment_messages,
    segments_for,
)
from pipeline.errors import UserError
from pipeline.process import VideoMessage, VideoTask, video_messages
from pipeline.track_video import TrackSettings, load_components

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 2
# Batches a worker may run ahead of the driver: bounds the object store use per unit (the driver holds
# a unit's batches until it finishes anyway).
BACKPRESSURE_BATCHES = 4


@dataclass(frozen=True)
class Unit:
    """One video, or one segment of it (``segment`` is ``None`` for the whole video)."""

    task: VideoTask
    segment: Segment | None = None

    @property
    def label(self) -> str:
        name = self.task.camera.name
        return name if self.segment is None else f"{name}#{self.segment.index}"


def footage_problem(path: str | Path) -> str | None:
    """Why this machine cannot read ``path`` (``None`` when it can)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return None


def footage_error(path: str | Path, host: str, problem: str) -> str:
    return (
        f"Ray worker on {host} cannot open {path} ({problem}); every node must see the footage at the "
        "same path (a shared mount), see docs/scale-out.md"
    )


def _node_footage_problems(paths: list[str]) -> list[str]:
    host = socket.gethostname()
    return [footage_error(p, host, why) for p in paths if (why := footage_problem(p)) is not None]


def check_footage(paths: list[str]) -> None:
    """Check on every alive node of the cluster, before any model is loaded, that it can read ``paths``
    (units may run on any node).

    Raises:
        UserError: the first node / file that cannot be read (and how many more).
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0)(_node_footage_problems)
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    found = ray.get(
        [
            probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote(paths)
            for node in nodes
        ]
    )
    problems = sorted({line for lines in found for line in lines})
    if problems:
        raise UserError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))


def finals_in_order(messages: Iterator[VideoMessage], cameras: list[str]) -> Iterator[VideoMessage]:
    """``messages`` with each video's last message (final, or error) held back until every earlier camera's
    has passed: videos then finish in config order, as in-process, so they get the same shopper ids."""
    held: dict[str, VideoMessage] = {}
    next_camera = 0
    for msg in messages:
        if not (msg.final or msg.error is not None):
            yield msg
            continue
        held[msg.camera] = msg
        while next_camera < len(cameras) and cameras[next_camera] in held:
            yield held.pop(cameras[next_camera])
            next_camera += 1
    yield from held.values()  # only if a camera never ended (a bug upstream): do not lose the others


class TrackWorker:
    """A Ray actor: the models, loaded once, and the units it is sent.

    Args:
        settings: tracking settings (every unit of a run shares them).
        threads: torch intra-op threads (the actor's CPU request).
    """

    def __init__(self, settings: TrackSettings, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.host = socket.gethostname()
        self.components = load_components(settings)

    def pid(self) -> int:
        return os.getpid()

    def track(self, unit: Unit) -> Iterator[VideoMessage]:
        """Track one unit; yields its batches and ends with its final message."""
        problem = footage_problem(unit.task.info.path)
        if problem is not None:
            raise UserError(footage_error(unit.task.info.path, self.host, problem))
        if unit.segment is None:
            yield from video_messages(unit.task, self.components)
        else:
            yield from segment_messages(unit.task, unit.segment, self.components)


@dataclass
class _Running:
    unit: Unit
    slot: int
    attempt: int
    messages: list[VideoMessage]


class RayExecutor:
    """Streams :class:`VideoMessage` s of a store's videos tracked on Ray (see the module docstring).

    Args:
        address: a running cluster (``ray://host:10001`` or ``host:6379``); ``None`` connects to the one
            this process already joined, or to ``$RAY_ADDRESS``, or starts a local one.
        cpus_per_worker: CPUs each worker actor asks for (and torch threads it uses).
        max_workers: at most this many worker actors (default: as many as the cluster's CPUs hold).
        n_segments: split every video into this many time segments, or
        segment_seconds: into segments about this long (neither: one unit per video).
        overlap_seconds: frames read on both sides of each cut, for stitching.
        max_retries: a unit whose worker died is sent again at most this many times.
        on_batch: called as ``(unit label, attempt, worker pid, frames_done)`` for each batch received
            (progress; tests use it to kill a worker mid-unit).
    """

    def __init__(
        self,
        address: str | None = None,
        cpus_per_worker: float = 1.0,
        max_workers: int | None = None,
        n_segments: int | None = None,
        segment_seconds: float | None = None,
        overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        on_batch: Callable[[str, int, int, int], None] | None = None,
    ) -> None:
        if not cpus_per_worker > 0:
            raise ValueError(f"cpus_per_worker must be > 0, but got {cpus_per_worker}")
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, but got {max_workers}")
        check_segment_options(n_segments, segment_seconds, overlap_seconds)
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, but got {max_retries}")
        self.address = address
        self.cpus_per_worker = cpus_per_worker
        self.max_workers = max_workers
        self.n_segments = n_segments
        self.segment_seconds = segment_seconds
        self.overlap_seconds = overlap_seconds
        self.max_retries = max_retries
        self.on_batch = on_batch
        self.stitched: dict[str, int] = {}  # camera -> tracks continued across its seams (last run)
        self._started = False

    def units(self, tasks: list[VideoTask]) -> tuple[list[Unit], dict[int, VideoAssembler]]:
        """The units of ``tasks``, and an assembler per video split into more than one segment."""
        units: list[Unit] = []
        assemblers: dict[int, VideoAssembler] = {}
        for task in tasks:
            segments = [None]
            if self.n_segments is not None or self.segment_seconds is not None:
                planned = segments_for(
                    task.info,
                    task.settings.stride,
                    task.settings.sample_fps,
                    self.n_segments,
                    self.segment_seconds,
                    self.overlap_seconds,
                )
                if len(planned) > 1:
                    segments = planned
                    assemblers[task.video_id] = VideoAssembler(planned)
            units += [Unit(task, s) for s in segments]
        return units, assemblers

    def __call__(self, tasks: list[VideoTask]) -> Iterator[VideoMessage]:
        """Track ``tasks`` on Ray; each video's messages come in order, videos interleaved."""
        if not tasks:
            return
        settings = {t.settings for t in tasks}
        if len(settings) != 1:
            raise ValueError("every task of one run must share its tracking settings")
        self.connect()
        try:
            yield from self._run(tasks, settings.pop())
        finally:
            self.close()

    def connect(self) -> None:
        """Join the cluster (or start a local Ray) unless this process already has; idempotent."""
        if ray.is_initialized():
            return
        # A remote cluster's nodes get this checkout's pipeline package shipped with the job (small,
        # no weights); a local one imports it from the driver's working directory.
        runtime_env = {"py_modules": [str(Path(__file__).resolve().parents[1])]} if self.address else None
        ray.init(
            address=self.address, include_dashboard=False, configure_logging=False, runtime_env=runtime_env
        )
        self._started = True

    def close(self) -> None:
        """Leave the cluster (stop the local Ray) if :meth:`connect` joined it."""
        if self._started:
            ray.shutdown()
            self._started = False

    def _new_worker(self, settings: TrackSettings) -> ray.actor.ActorHandle:
        cls = ray.remote(TrackWorker).options(num_cpus=self.cpus_per_worker, max_restarts=0)
        return cls.remote(settings, max(1, int(self.cpus_per_worker)))

    def _submit(self, worker: ray.actor.ActorHandle, unit: Unit) -> ray.ObjectRefGenerator:
        return worker.track.options(
            num_returns="streaming",
            max_task_retries=0,
            _generator_backpressure_num_objects=BACKPRESSURE_BATCHES,
        ).remote(unit)

    def _run(self, tasks: list[VideoTask], settings: TrackSettings) -> Iterator[VideoMessage]:
        units, assemblers = self.units(tasks)
        cluster_cpus = ray.cluster_resources().get("CPU", 1.0)
        n_workers = max(1, min(len(units), math.floor(cluster_cpus / self.cpus_per_worker)))
        if self.max_workers is not None:
            n_workers = min(n_workers, self.max_workers)
        check_footage(sorted({str(t.info.path) for t in tasks}))
        workers = [self._new_worker(settings) for _ in range(n_workers)]
        try:
            pids = ray.get([w.pid.remote() for w in workers])
            stream = self._schedule(units, assemblers, workers, pids, settings)
            yield from finals_in_order(stream, [t.camera.name for t in tasks])
        finally:
            for w in workers:
                ray.kill(w, no_restart=True)

    def _schedule(
        self,
        units: list[Unit],
        assemblers: dict[int, VideoAssembler],
        workers: list,
        pids: list[int],
        settings: TrackSettings,
    ) -> Iterator[VideoMessage]:
        queue = deque((u, 0) for u in units)
        idle = deque(range(len(workers)))
        running: dict[ray.ObjectRefGenerator, _Running] = {}
        failed: set[int] = set()  # video ids given up on: their other units are dropped
        while queue or running:
            while queue and idle:
                unit, attempt = queue.popleft()
                if unit.task.video_id in failed:
                    continue
                slot = idle.popleft()
                running[self._submit(workers[slot], unit)] = _Running(unit, slot, attempt, [])
            if not running:
                continue
            ready, _ = ray.wait(list(running), num_returns=1)
            for gen in ready:
                run = running[gen]
                try:
                    msg = ray.get(next(gen))
                except StopIteration:
                    msg = None  # ended without its final message: treated as a lost worker
                    error: BaseException | None = RuntimeError("the worker's stream ended early")
                except (RayActorError, WorkerCrashedError) as exc:
                    msg, error = None, exc
                except RayTaskError as exc:  # the unit raised: retrying would fail the same way
                    del running[gen]
                    idle.append(run.slot)
                    cause = exc.cause if exc.cause is not None else exc
                    yield from self._give_up(run.unit, cause, failed)
                    continue
                else:
                    error = None
                if msg is None:
                    del running[gen]
                    # The worker is gone (or unusable): a fresh one takes its slot.
                    ray.kill(workers[run.slot], no_restart=True)
                    workers[run.slot] = self._new_worker(settings)
                    pids[run.slot] = ray.get(workers[run.slot].pid.remote())
                    idle.append(run.slot)
                    if run.unit.task.video_id in failed:
                        continue
                    if run.attempt < self.max_retries:
                        log.warning(
                            "%s: worker lost (%s); retrying (attempt %d)",
                            run.unit.label,
                            error,
                            run.attempt + 2,
                        )
                        queue.appendleft((run.unit, run.attempt + 1))
                    else:
                        yield from self._give_up(run.unit, error, failed)
                    continue
                run.messages.append(msg)
                if self.on_batch is not None:
                    self.on_batch(run.unit.label, run.attempt, pids[run.slot], msg.frames_done)
                if not msg.final:
                    continue
                del running[gen]
                idle.append(run.slot)
                if run.unit.task.video_id in failed:
                    continue
                yield from self._deliver(run.unit, run.messages, assemblers)

    def _deliver(
        self, unit: Unit, messages: list[VideoMessage], assemblers: dict[int, VideoAssembler]
    ) -> Iterator[VideoMessage]:
        """A finished unit's messages, to the writer (through its video's assembler when segmented)."""
        assembler = assemblers.get(unit.task.video_id)
        if assembler is None:
            yield from messages
            return
        yield from assembler.add(unit.segment.index, messages)
        if assembler.done:
            self.stitched[unit.task.camera.name] = assembler.stitched

    def _give_up(self, unit: Unit, error: BaseException | None, failed: set[int]) -> Iterator[VideoMessage]:
        """Mark ``unit``'s video failed: one error message; its other units' results are dropped."""
        failed.add(unit.task.video_id)
        reason = f"{unit.label}: {type(error).__name__}: {error}"
        if isinstance(error, UserError):
            reason = f"{unit.label}: {error}"
        elif isinstance(error, (RayActorError, WorkerCrashedError)):
            reason = f"{unit.label}: worker lost {self.max_retries + 1} times ({type(error).__name__})"
        log.error("%s", reason)
        yield VideoMessage(unit.task.camera.name, pd.DataFrame(), 0, error=reason)
