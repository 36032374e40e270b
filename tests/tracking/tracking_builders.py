"""Builders for tracking tests: synthetic boxes and embeddings, no video or model needed.

A plain module (not conftest.py) so test tables can use the builders at collection time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.types import Detections


def make_detections(
    boxes: Sequence[Sequence[float]],
    confidence: float | Sequence[float] = 0.9,
    embedding: Sequence[Sequence[float]] | None = None,
) -> Detections:
    """Detections from xyxy ``boxes``; ``embedding`` rows are L2-normalised here."""
    xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
    conf = np.broadcast_to(np.asarray(confidence, np.float32), (len(xyxy),)).copy()
    emb = None
    if embedding is not None:
        emb = np.asarray(embedding, np.float32).reshape(len(xyxy), -1)
        emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return Detections(xyxy, conf, embedding=emb)


def person_box(cx: float, cy: float = 200.0, w: float = 40.0, h: float = 100.0) -> list[float]:
    """An xyxy box of a ``w`` x ``h`` person centred at ``(cx, cy)``."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def unit(dim: int, axis: int) -> list[float]:
    """A one-hot appearance vector."""
    v = [0.0] * dim
    v[axis] = 1.0
    return v
