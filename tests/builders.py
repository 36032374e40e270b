"""Small builders for tests (real files, no mocks)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.types import Detections


def make_detections(
    boxes: list[list[float]], scores: list[float] | None = None, dim: int | None = None
) -> Detections:
    xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
    conf = np.asarray(scores if scores is not None else [0.9] * len(xyxy), np.float32)
    dets = Detections(xyxy, conf)
    if dim is not None:
        emb = np.random.default_rng(0).normal(size=(len(xyxy), dim)).astype(np.float32)
        dets = dets.with_embedding(emb / np.linalg.norm(emb, axis=1, keepdims=True))
    return dets


def write_video(path: Path, frames: int = 12, size: tuple[int, int] = (160, 120), fps: float = 10.0) -> Path:
    """A small real MPEG-4 video with a moving bright rectangle."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        image = np.zeros((size[1], size[0], 3), np.uint8)
        cv2.rectangle(image, (5 + 5 * i, 20), (25 + 5 * i, 80), (255, 255, 255), -1)
        writer.write(image)
    writer.release()
    return path
