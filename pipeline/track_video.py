"""Track the people in one video: frames -> detector -> embedder -> DeepSORT -> tracked frames."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.autosize import AUTO, MAX_IMGSZ, SizeChoice, auto_imgsz
from pipeline.detector import YoloDetector
from pipeline.embedders import Embedder, get_embedder
from pipeline.embedders.reuse import CHEAP_EMBEDDERS, FeatureReuse
from pipeline.track_settings import TrackSettings
from pipeline.tracking.offline import OfflineTrackRunner
from pipeline.tracking.tracker import DeepSortTracker
from pipeline.types import CHUNK_COLUMNS, Detections
from pipeline.video import DecodeStatus, VideoInfo, expected_frames, prefetch, probe, read_frames

# Appearance gate of the tracker per embedder (cosine distance scales differ between models), measured on
# MOT15 TUD-Campus / TUD-Stadtmitte with cached detections (see README "Measured results").
TRACKER_MAX_COSINE = {"hist": 0.15, "mobilenet": 0.15, "omz": 0.35, "osnet": 0.25}
DEFAULT_MAX_COSINE = 0.2


@dataclass(frozen=True)
class TrackedVideoFrame:
    """Confirmed people of one source frame.

    Attributes:
        frame: 0-based frame index in the source video.
        t_sec: seconds since the start of the video.
        detections: boxes with ``track_id`` (and ``embedding`` when an embedder ran).
    """

    frame: int
    t_sec: float
    detections: Detections


@dataclass
class Components:
    """The loaded models (expensive: build once, reuse for every video)."""

    detector: YoloDetector
    embedder: Embedder | None


def load_components(settings: TrackSettings) -> Components:
    """Load the detector and embedder named by ``settings``.

    Raises:
        WeightsError: a weights/model file is missing or invalid.
        ValueError: unknown embedder name.
    """
    detector = YoloDetector(
        settings.weights,
        MAX_IMGSZ if settings.imgsz == AUTO else settings.imgsz,
        settings.conf,
        settings.device,
        settings.backend,
        settings.tiles,
    )
    embedder = None
    if settings.embedder != "none":
        embedder = get_embedder(
            settings.embedder,
            model_path=settings.reid_model,
            device=detector.device,
            precision=settings.reid_precision,
        )
    return Components(detector, embedder)


def choose_size(
    info: VideoInfo, settings: TrackSettings, components: Components, fps_override: float | None = None
) -> SizeChoice:
    """The detector input size for one video: ``settings.imgsz``, or the probe's choice when it is "auto"."""
    if settings.imgsz == AUTO:
        return auto_imgsz(info, components.detector, fps_override)
    return SizeChoice(int(settings.imgsz), 0, None, f"imgsz {settings.imgsz}: set explicitly")


def new_tracker(embedder: Embedder | None = None, **overrides: object) -> DeepSortTracker:
    """The tracker with the product's tuned defaults for ``embedder`` (``overrides``: other
    ``DeepSortTracker`` arguments, for benchmarks)."""
    if embedder is None:
        return DeepSortTracker(**overrides)
    cosine = TRACKER_MAX_COSINE.get(embedder.name, DEFAULT_MAX_COSINE)
    return DeepSortTracker(max_cosine_distance=cosine, **overrides)


def track_video(
    path: str | Path,
    settings: TrackSettings,
    components: Components,
    fps_override: float | None = None,
    start_frame: int = 0,
    progress: bool | str = True,
    status: DecodeStatus | None = None,
    size: SizeChoice | None = None,
) -> Iterator[TrackedVideoFrame]:
    """Yield the tracked frames of ``path`` in order, held back by the offline runner (a few frames to
    backfill new tracks, 1 s to fill gaps, up to 5 s while a faint track may still turn out to be a person).

    Args:
        path: the video file.
        settings: stride / sample_fps decide which frames are processed.
        components: loaded detector and embedder.
        fps_override: frame rate to use instead of the file's.
        start_frame: first frame to read.
        progress: show a progress bar (a string is used as its label).
        status: filled in by the reader: frames actually decoded, whether the file is truncated.
        size: the input size to run at (see :func:`choose_size`, which is called when ``None``).

    Raises:
        VideoError: the file is missing, corrupt or not a video.
    """
    info = probe(path, fps_override)
    size = size or choose_size(info, settings, components, fps_override)
    detector = components.detector.with_imgsz(size.imgsz)
    runner = OfflineTrackRunner(new_tracker(components.embedder), frame_size=(info.width, info.height))
    frame_of_step: dict[int, int] = {}
    reuse = feature_reuse(components.embedder)
    # The frame count is only an estimate for most formats: no total (no ETA) rather than a wrong one.
    total = expected_frames(info, settings.stride, settings.sample_fps, start_frame)
    label = progress if isinstance(progress, str) else Path(path).name
    bar = tqdm(
        total=total,
        unit="frame",
        desc=label,
        disable=not progress,
        dynamic_ncols=True,
        leave=False,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,
    )
    try:
        frames = read_frames(
            info.path,
            settings.stride,
            fps_override,
            start_frame,
            info=info,
            sample_fps=settings.sample_fps,
            status=status,
        )
        for frame in prefetch(frames):
            dets = detector(frame.image)
            step = runner.tracker.step + 1
            if components.embedder is not None:
                dets = embed_confident(
                    components.embedder, frame.image, dets, runner.tracker.high_conf_threshold, reuse, step
                )
            frame_of_step[step] = frame.index
            for done in update_tracks(runner, dets, frame.timestamp, components.embedder, reuse):
                yield TrackedVideoFrame(frame_of_step.pop(done.step), done.timestamp, done.detections)
            bar.update(1)
        for done in runner.finish():
            yield TrackedVideoFrame(frame_of_step.pop(done.step), done.timestamp, done.detections)
    finally:
        bar.close()


def embed_confident(
    embedder: Embedder,
    image: np.ndarray,
    dets: Detections,
    min_conf: float,
    reuse: FeatureReuse | None = None,
    step: int | None = None,
) -> Detections:
    """Embed only boxes scoring at least ``min_conf``; the others get zero rows.

    The tracker uses appearance only for high-confidence boxes (low ones are matched by IoU and never
    enter a track's gallery), so embedding them would be wasted work. With ``reuse`` (the state of this
    video, see :mod:`pipeline.embedders.reuse`), a box that is clearly the same lone person as a box of
    the previous frame takes that box's feature instead of being embedded again; with ``step`` (the
    tracker step this frame becomes) those boxes are remembered so :func:`update_tracks` can embed them
    afresh if their track loses its person.
    """
    need = np.flatnonzero(dets.confidence >= min_conf)
    features = np.zeros((len(dets), embedder.dim), np.float32)
    reused: dict[int, np.ndarray] = {}
    if len(need) == 0:
        if reuse is not None:
            reuse.skip_frame()
    elif reuse is None:
        features[need] = embedder.embed(image, dets.xyxy[need])
    else:
        others = dets.xyxy[dets.confidence < min_conf]
        features[need] = reuse.features_for(embedder.embed, image, dets.xyxy[need], others)
        reused = {int(d): dets.xyxy[d] for d in need[reuse.age > 0]}
    if reuse is not None and step is not None:
        reuse.remember(step, image, reused)
    return dets.with_embedding(features)


def update_tracks(
    runner: OfflineTrackRunner,
    dets: Detections,
    timestamp: float,
    embedder: Embedder | None,
    reuse: FeatureReuse | None,
) -> list:
    """``runner.update``, then, with feature reuse, the reused features of the tracks that lost their
    person this frame embedded afresh (:meth:`pipeline.embedders.reuse.FeatureReuse.refresh`)."""
    done = runner.update(dets, timestamp)
    if reuse is not None and embedder is not None:
        reuse.refresh(runner.tracker.just_lost, embedder.embed)
    return done


def feature_reuse(embedder: Embedder | None) -> FeatureReuse | None:
    """Fresh reuse state for one video, or ``None`` where every box is embedded (no embedder, or one
    cheaper than the bookkeeping: :data:`pipeline.embedders.reuse.CHEAP_EMBEDDERS`)."""
    if embedder is None or embedder.name in CHEAP_EMBEDDERS:
        return None
    return FeatureReuse()


CHUNK_SECONDS = 0.5  # appearance chunk length (identity-switch splitting before cross-camera re-ID)


@dataclass
class AppearanceChunk:
    """One ~``CHUNK_SECONDS`` stretch of one track: its span and the sum of its boxes' features.

    Attributes:
        t_start, t_end: first and last time seen in the chunk, seconds since the video's start.
        first_frame, last_frame: the same, as frame indices.
        n_embedded: boxes whose feature entered ``feature_sum``.
        feature_sum: (D,) float64 sum of those features, or ``None`` while there is none.
    """

    t_start: float
    t_end: float
    first_frame: int
    last_frame: int
    n_embedded: int = 0
    feature_sum: np.ndarray | None = None

    def add(self, frame: int, t_sec: float, feature: np.ndarray | None) -> None:
        self.t_end, self.last_frame = t_sec, frame
        if feature is not None and np.any(feature):
            self.n_embedded += 1
            f = feature.astype(np.float64)
            self.feature_sum = f if self.feature_sum is None else self.feature_sum + f

    def mean(self) -> np.ndarray | None:
        """L2-normalised mean feature, or ``None`` without any."""
        return None if self.feature_sum is None else _unit(self.feature_sum)


def _unit(total: np.ndarray) -> np.ndarray:
    """``total`` scaled to length 1 (a summed feature's mean direction), float32."""
    return (total / max(np.linalg.norm(total), 1e-12)).astype(np.float32)


class TrackChunks:
    """Mean appearance per track per ~``seconds`` stretch (see :mod:`pipeline.reid.split`), and per track.

    A track's chunk ``k`` starts at its first box after ``seconds`` of chunk ``k - 1``. Only boxes with a
    nonzero embedding (the tracker's confident ones) enter the mean; a chunk without any has none. The
    whole-track mean (:meth:`means`) is derived from the chunk sums, so each box is accumulated once.
    """

    def __init__(self, seconds: float = CHUNK_SECONDS) -> None:
        self.seconds = seconds
        self._chunks: dict[int, list[AppearanceChunk]] = {}

    def add(self, frame: int, t_sec: float, detections: Detections) -> None:
        if detections.track_id is None:
            return
        embs = detections.embedding
        for k, tid in enumerate(detections.track_id.tolist()):
            chunks = self._chunks.setdefault(tid, [])
            if not chunks or t_sec - chunks[-1].t_start >= self.seconds:
                chunks.append(AppearanceChunk(t_sec, t_sec, frame, frame))
            chunks[-1].add(frame, t_sec, None if embs is None else embs[k])

    @property
    def n_tracks(self) -> int:
        """Tracks seen so far."""
        return len(self._chunks)

    def means(self) -> dict[int, np.ndarray]:
        """Track id -> L2-normalised mean feature over all its embedded boxes (tracks without any are absent)."""
        out = {}
        for tid, chunks in self._chunks.items():
            sums = [c.feature_sum for c in chunks if c.feature_sum is not None]
            if sums:
                out[tid] = _unit(np.sum(sums, axis=0))
        return out

    def table(self) -> pd.DataFrame:
        """Columns track_id, chunk, t_start, t_end, first_frame, last_frame, n_embedded, embedding
        (L2-normalised list, or None)."""
        rows = [
            (
                tid,
                k,
                c.t_start,
                c.t_end,
                c.first_frame,
                c.last_frame,
                c.n_embedded,
                None if (m := c.mean()) is None else m.tolist(),
            )
            for tid, chunks in self._chunks.items()
            for k, c in enumerate(chunks)
        ]
        return pd.DataFrame(rows, columns=list(CHUNK_COLUMNS))
