"""Training crops mined from footage without labels.

Weak labels from tracking: every crop of one confident tracklet shows the same person; two tracklets
of the same camera that overlap in time show different people (one person is not in two places at
once). Nothing is assumed about tracklets from different cameras or times: the losses ignore them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch

from pipeline.db import training as training_sql
from pipeline.embedders.batch import TILE_HW
from pipeline.embedders.crops import crop_batch
from pipeline.errors import UserError
from pipeline.training.dataset import CropSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tracklet:
    """One camera-local track, with the sampled boxes crops are cut from.

    Attributes:
        video: path of the video file.
        camera: camera name (cannot-link only applies within one camera).
        t0, t1: first and last time seen, seconds (same clock for every video of a camera).
        frames: (K,) 0-based frame indices of the sampled boxes.
        boxes: (K, 4) xyxy pixels.
    """

    video: str
    camera: str
    track_id: int
    t0: float
    t1: float
    frames: npt.NDArray[np.int64]
    boxes: npt.NDArray[np.float32]


def cannot_link_matrix(tracklets: list[Tracklet]) -> npt.NDArray[np.bool_]:
    """(T, T) True where two tracklets are in the same camera and overlap in time."""
    cams = np.array([t.camera for t in tracklets], dtype=object)
    t0 = np.array([t.t0 for t in tracklets])
    t1 = np.array([t.t1 for t in tracklets])
    same_cam = cams[:, None] == cams[None, :]
    overlap = (t0[:, None] <= t1[None, :]) & (t0[None, :] <= t1[:, None])
    return same_cam & overlap & ~np.eye(len(tracklets), dtype=bool)


def extract_crops(
    video: str | Path, frames: npt.NDArray[np.int64], boxes: npt.NDArray[np.float32]
) -> np.ndarray:
    """Cut (M, 256, 128, 3) uint8 BGR crops at (M,) frame indices, decoding the video once, in order.

    Frames that are not needed are only grabbed (not decoded to pixels); all boxes of one frame are cut
    in one ``crop_batch`` call.

    Raises:
        UserError: the video cannot be opened or ends before the last requested frame.
    """
    frames = np.asarray(frames, np.int64)
    out = np.zeros((len(frames), *TILE_HW, 3), np.uint8)
    if len(frames) == 0:
        return out
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise UserError(f"cannot open video {video} to cut training crops")
    order = np.argsort(frames, kind="stable")
    wanted = np.unique(frames)
    try:
        index, pos = 0, 0
        for target in wanted:
            while index < target:
                if not cap.grab():
                    raise UserError(
                        f"{video} ends at frame {index}, before frame {target} named in the store"
                    )
                index += 1
            ok, image = cap.read()
            index += 1
            if not ok:
                raise UserError(f"{video} ends before frame {target} named in the store")
            start = pos
            while pos < len(order) and frames[order[pos]] == target:
                pos += 1
            rows = order[start:pos]
            crops = crop_batch(image, boxes[rows], TILE_HW).clamp(0, 255).round().to(torch.uint8)
            out[rows] = crops.permute(0, 2, 3, 1).numpy()
    finally:
        cap.release()
    return out


def crops_from_tracklets(tracklets: list[Tracklet], source: str) -> CropSet:
    """Cut every sampled box of every tracklet; group = tracklet; cannot-link from time overlap."""
    if not tracklets:
        empty = np.zeros((0, *TILE_HW, 3), np.uint8)
        return CropSet(empty, np.zeros(0, np.int64), np.zeros((0, 0), bool), np.zeros(0, np.int64), source)
    labels = np.concatenate([np.full(len(t.frames), i, np.int64) for i, t in enumerate(tracklets)])
    frames = np.concatenate([t.frames for t in tracklets])
    boxes = np.concatenate([t.boxes for t in tracklets]).astype(np.float32)
    videos = np.concatenate([np.full(len(t.frames), t.video, dtype=object) for t in tracklets])
    cam_names = sorted({t.camera for t in tracklets})
    cameras = np.concatenate([np.full(len(t.frames), cam_names.index(t.camera), np.int64) for t in tracklets])
    crops = np.zeros((len(frames), *TILE_HW, 3), np.uint8)
    for video in dict.fromkeys(videos):
        rows = np.flatnonzero(videos == video)
        crops[rows] = extract_crops(video, frames[rows], boxes[rows])
    return CropSet(crops, labels, cannot_link_matrix(tracklets), cameras, source)


def _evenly(n: int, k: int) -> npt.NDArray[np.int64]:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.int64))


def mine_store(
    db_path: str | Path,
    min_points: int = 10,
    min_score: float = 0.5,
    per_tracklet: int = 16,
    max_tracklets: int = 400,
    min_height: float = 48.0,
    seed: int = 0,
) -> CropSet:
    """Training crops from a processed store database (``python -m pipeline process`` output).

    Args:
        min_points, min_score: a tracklet is used only if it has this many points and mean score.
        per_tracklet: crops sampled evenly along each tracklet.
        max_tracklets: a random subset this large bounds decoding time on big stores.
        min_height: boxes lower than this (pixels) are too small to learn appearance from.

    Raises:
        UserError: the database is missing, not a store, or a video it names is missing.
    """
    from pipeline.db import SchemaError, connect

    try:
        conn = connect(db_path, read_only=True)
    except (FileNotFoundError, SchemaError) as exc:
        raise UserError(f"cannot read store database {db_path}: {exc}") from exc
    try:
        rows = training_sql.confident_tracklets(conn, min_points, min_score)
        points = training_sql.sampled_boxes(conn, min_points, min_score, min_height, per_tracklet)
    finally:
        conn.close()
    rng = np.random.default_rng(seed)
    if len(rows) > max_tracklets:
        rows = [rows[i] for i in sorted(rng.choice(len(rows), max_tracklets, replace=False))]
    key = points["video_id"].astype(np.int64) * (1 << 32) + points["track_id"].astype(np.int64)
    boxes_all = np.stack([points[c] for c in ("x1", "y1", "x2", "y2")], axis=1).astype(np.float32)
    tracklets, missing = [], set()
    for video_id, track_id, camera, t0, t1, path in rows:
        if not Path(path).is_file():
            missing.add(path)
            continue
        idx = np.flatnonzero(key == int(video_id) * (1 << 32) + int(track_id))
        if len(idx) < 2:
            continue
        idx = idx[_evenly(len(idx), per_tracklet)]
        tracklets.append(
            Tracklet(str(path), str(camera), int(track_id), float(t0), float(t1),
                     points["frame"][idx].astype(np.int64), boxes_all[idx])
        )  # fmt: skip
    if missing:
        log.warning(
            "skipped tracklets of %d video file(s) that no longer exist: %s",
            len(missing),
            ", ".join(sorted(missing)),
        )
    return crops_from_tracklets(tracklets, f"store {db_path}")


def read_mot_gt(gt_path: str | Path) -> npt.NDArray[np.float64]:
    """MOT ``gt.txt`` rows to be evaluated (conf == 1): (M, 6) frame (0-based), id, x1, y1, x2, y2."""
    gt = np.loadtxt(gt_path, delimiter=",", ndmin=2)
    gt = gt[gt[:, 6] == 1]
    out = np.empty((len(gt), 6))
    out[:, 0] = gt[:, 0] - 1
    out[:, 1] = gt[:, 1]
    out[:, 2:4] = gt[:, 2:4]
    out[:, 4:6] = gt[:, 2:4] + gt[:, 4:6]
    return out


def mot_gt_tracklets(
    sequence_dir: str | Path,
    fps: float = 25.0,
    min_points: int = 10,
    per_tracklet: int = 16,
    min_height: float = 48.0,
) -> list[Tracklet]:
    """Ground-truth tracks of a MOT sequence folder (``<name>.mp4`` + ``gt/gt.txt``) as if they were a
    tracker's tracklets: the ids are used only to group boxes into tracklets, exactly like a tracker's."""
    sequence_dir = Path(sequence_dir)
    video = sequence_dir / f"{sequence_dir.name}.mp4"
    gt = read_mot_gt(sequence_dir / "gt" / "gt.txt")
    gt = gt[(gt[:, 5] - gt[:, 3]) >= min_height]
    tracklets = []
    for track_id in np.unique(gt[:, 1]):
        rows = gt[gt[:, 1] == track_id]
        rows = rows[np.argsort(rows[:, 0])]
        if len(rows) < min_points:
            continue
        pick = rows[_evenly(len(rows), per_tracklet)]
        tracklets.append(
            Tracklet(str(video), sequence_dir.name, int(track_id), rows[0, 0] / fps, rows[-1, 0] / fps,
                     pick[:, 0].astype(np.int64), pick[:, 2:6].astype(np.float32))
        )  # fmt: skip
    return tracklets
