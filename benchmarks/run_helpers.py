"""Timed end-to-end runs shared by the benchmarks: ours and Ultralytics' ``model.track``."""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import yaml

from pipeline.detector import ultralytics_module
from pipeline.embedders.reuse import FeatureReuse
from pipeline.track_video import (
    Components,
    TrackSettings,
    choose_size,
    embed_confident,
    load_components,
    new_tracker,
    track_video,
    update_tracks,
)
from pipeline.tracking.offline import FILL_GAP_S, OfflineTrackRunner
from pipeline.tracking.tracker import DeepSortTracker
from pipeline.types import Detections
from pipeline.video import probe, read_frames

MOT_COLUMNS = ["frame", "id", "x", "y", "w", "h", "score"]


def tracker_yaml(name: str, overrides: dict, tmp: Path) -> str:
    if not overrides:
        return name
    ultralytics = ultralytics_module()
    base = Path(ultralytics.__file__).parent / "cfg" / "trackers" / name
    cfg = yaml.safe_load(base.read_text())
    cfg.update(overrides)
    out = tmp / f"{base.stem}_{'_'.join(overrides)}.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return str(out)


def run_ultralytics(
    video: Path, tracker: str, weights: Path, imgsz: int, conf: float
) -> tuple[pd.DataFrame, float]:
    """Ultralytics ``model.track`` end to end; returns MOT rows and frames/s (model load excluded)."""
    model = ultralytics_module().YOLO(str(weights))
    model.predict(str(video), imgsz=imgsz, conf=conf, classes=[0], verbose=False, max_det=1, vid_stride=1000)
    rows, frames = [], 0
    start = time.perf_counter()
    for i, result in enumerate(
        model.track(
            str(video), imgsz=imgsz, conf=conf, classes=[0], tracker=tracker, stream=True, verbose=False
        )
    ):
        frames += 1
        boxes = result.boxes
        if boxes is None or boxes.id is None:
            continue
        for (x1, y1, x2, y2), tid, score in zip(
            boxes.xyxy.tolist(), boxes.id.int().tolist(), boxes.conf.tolist()
        ):
            rows.append((i + 1, tid, x1, y1, x2 - x1, y2 - y1, score))
    fps = frames / (time.perf_counter() - start)
    return pd.DataFrame(rows, columns=MOT_COLUMNS), fps


@dataclass(frozen=True)
class OursRun:
    """One end-to-end run of ours: MOT rows, frames/s (model load and the ``--imgsz auto`` probe
    excluded), the probe's seconds (0 for a fixed size) and the detector input size used."""

    rows: pd.DataFrame
    fps: float
    probe_s: float
    imgsz: int


def run_ours(video: Path, settings: TrackSettings, components: Components | None = None) -> OursRun:
    """Our ``track`` pipeline end to end (see :class:`OursRun`). The probe is a fixed cost per video:
    on a 3-second clip it weighs like 40 frames, on an hour of footage it disappears."""
    components = components or load_components(settings)
    warm = cv2.VideoCapture(str(video)).read()[1]
    components.detector(warm)
    start = time.perf_counter()
    size = choose_size(probe(video), settings, components)
    probe_s = time.perf_counter() - start if settings.imgsz == "auto" else 0.0
    components.detector.with_imgsz(size.imgsz)(warm)  # the chosen size's first run (compilation) untimed
    rows, frames = [], 0
    start = time.perf_counter()
    last = -1
    for f in track_video(video, settings, components, progress=False, size=size):
        frames += f.frame - last
        last = f.frame
        d = f.detections
        for tid, box, score in zip(d.track_id.tolist(), d.tlwh.tolist(), d.confidence.tolist()):
            rows.append((f.frame + 1, tid, *box, score))
    fps = frames / (time.perf_counter() - start)
    return OursRun(pd.DataFrame(rows, columns=MOT_COLUMNS), fps, probe_s, size.imgsz)


def record_inputs(
    video: Path, settings: TrackSettings, components: Components, high_conf: float
) -> tuple[list[tuple[int, float, Detections]], int]:
    """What our tracker receives for each frame (detections at the size ``settings`` pick, every box above
    ``high_conf`` embedded), so tracker parameters can be replayed without the detector; the replays
    (:func:`replay_runner` with ``reuse``) replay the product's feature reuse over them. Returns the
    frames and the input size used."""
    info = probe(video)
    size = choose_size(info, settings, components)
    detector = components.detector.with_imgsz(size.imgsz)
    frames = []
    for frame in read_frames(video, info=info):
        dets = detector(frame.image)
        if components.embedder is not None:
            dets = embed_confident(components.embedder, frame.image, dets, high_conf)
        frames.append((frame.index, frame.timestamp, dets))
    return frames, size.imgsz


def recorded(video: Path, settings: TrackSettings, components: Components, cache: Path | None):
    """``record_inputs`` of ``video``, kept in ``cache`` when given (``NAME-every-box.pkl``: recordings
    made before every box was embedded had no suffix and are not reused)."""
    path = None if cache is None else cache / f"{video.stem}-every-box.pkl"
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    high = new_tracker(components.embedder).high_conf_threshold
    out = record_inputs(video, settings, components, high)
    if path is not None:
        path.write_bytes(pickle.dumps(out))
    return out


def replay_tracker(
    frames: list[tuple[int, float, Detections]],
    tracker: DeepSortTracker,
    fill_gap_s: float = FILL_GAP_S,
    frame_size: tuple[int, int] | None = None,
    reuse: FeatureReuse | None = None,
) -> pd.DataFrame:
    """MOT rows of ``tracker`` (fresh) run offline over recorded inputs (see :func:`record_inputs`), short
    gaps filled up to ``fill_gap_s`` seconds (the product's default); ``frame_size`` (width, height) as
    ``track_video`` passes it to the runner (the faint-track hand-back stops at boxes cut by the edge).

    With ``reuse`` (a fresh state, e.g. ``track_video.feature_reuse(embedder)``; needs ``frame_size``), the
    inputs must be recorded with every confident box embedded (as ``record_inputs`` records them): the
    product's feature reuse is replayed over them, the refresh of a lost track's features included
    (:func:`reuse_update`), so the rows are the product's."""
    runner = OfflineTrackRunner(tracker, fill_gap_s=fill_gap_s, frame_size=frame_size)
    return replay_runner(frames, runner, reuse=reuse)


class Recorded:
    """An embedder answering with the features recorded for the boxes of a frame. Each frame gets a stand-in
    image (the frame's shape, no pixels: only its shape is read) that names its features, so boxes of
    the last few frames can be embedded again, as the refresh of a lost track does."""

    name = "recorded"
    KEEP = 8  # frames whose features stay answerable

    def __init__(self, dim: int, size: tuple[int, int]) -> None:
        self.dim = dim
        self.size = size
        self.frames: dict[int, tuple[np.ndarray, dict[tuple, np.ndarray]]] = {}

    def show(self, dets: Detections) -> np.ndarray:
        """The stand-in image of a new frame whose recorded features are ``dets.embedding``."""
        image = np.broadcast_to(np.zeros(1, np.uint8), (self.size[1], self.size[0], 3))
        self.frames[id(image)] = (image, {tuple(b): f for b, f in zip(dets.xyxy.tolist(), dets.embedding)})
        while len(self.frames) > self.KEEP:
            del self.frames[next(iter(self.frames))]
        return image

    def embed(self, image, xyxy: np.ndarray) -> np.ndarray:
        features = self.frames[id(image)][1]
        return np.stack([features[tuple(b)] for b in xyxy.tolist()])


def reuse_update(frames: list[tuple[int, float, Detections]], reuse: FeatureReuse, size: tuple[int, int]):
    """``replay_runner``'s ``update`` feeding recorded every-box features as the product's reuse would
    (``track_video.embed_confident`` and ``update_tracks``, which embeds a lost track's reused features
    again); ``size``: the video's ``(width, height)``."""
    recorded = Recorded(frames[0][2].embedding.shape[1], size)

    def update(runner: OfflineTrackRunner, dets: Detections, timestamp: float):
        image = recorded.show(dets)
        high = runner.tracker.high_conf_threshold
        fed = embed_confident(recorded, image, dets, high, reuse, runner.tracker.step + 1)
        return update_tracks(runner, fed, timestamp, recorded, reuse)

    return update


def replay_runner(
    frames: list[tuple[int, float, Detections]], runner: OfflineTrackRunner, reuse: FeatureReuse | None = None
) -> pd.DataFrame:
    """MOT rows of a fresh offline ``runner`` over recorded inputs (the runner keeps its state to read).
    With ``reuse`` (a fresh reuse state) the product's feature reuse is replayed over the every-box inputs
    (:func:`reuse_update`, which needs the runner's ``frame_size``); without, each frame goes to
    ``runner.update`` as recorded."""
    update = None
    if reuse is not None and frames:
        if runner.frame_size is None:
            raise ValueError("replaying feature reuse needs the frame size (boxes at the edge are embedded)")
        update = reuse_update(frames, reuse, runner.frame_size)
    index_of_step = [index for index, _, _ in frames]
    rows = []
    done = []
    for _, timestamp, dets in frames:
        done += runner.update(dets, timestamp) if update is None else update(runner, dets, timestamp)
    done += runner.finish()
    for f in done:
        d = f.detections
        for tid, box, score in zip(d.track_id.tolist(), d.tlwh.tolist(), d.confidence.tolist()):
            rows.append((index_of_step[f.step] + 1, tid, *box, score))
    return pd.DataFrame(rows, columns=MOT_COLUMNS)
