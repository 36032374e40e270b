"""Builders for cross-camera tests: synthetic tracklets with straight-line walks."""

from __future__ import annotations

import itertools

import numpy as np

from pipeline.reid.tracklet import Tracklet

_keys = itertools.count(1)


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, np.float32)
    return v / np.linalg.norm(v)


def make_tracklet(
    camera: str,
    t0: float,
    t1: float,
    start_xy: tuple[float, float] = (0.0, 0.0),
    end_xy: tuple[float, float] | None = None,
    embedding: np.ndarray | None = None,
    space: str = "floor",
    key: tuple[int, int] | None = None,
    filled: tuple[float, float] | None = None,
    fps: float = 25.0,
) -> Tracklet:
    """A tracklet walking in a straight line from ``start_xy`` at ``t0`` to ``end_xy`` at ``t1``.

    ``filled``: a stretch ``(f0, f1)`` of its boxes filled in over detector misses; its ``observed`` times
    are then the frames (at ``fps``) outside it.
    """
    end_xy = start_xy if end_xy is None else end_xy
    times = np.linspace(t0, t1, max(2, int((t1 - t0) * 4) + 1))
    frac = (times - t0) / max(t1 - t0, 1e-9)
    xy = np.asarray(start_xy) + frac[:, None] * (np.asarray(end_xy) - np.asarray(start_xy))
    samples = np.column_stack([times, xy])
    return Tracklet(
        key=key or (1, next(_keys)),
        camera=camera,
        t_start=t0,
        t_end=t1,
        embedding=embedding,
        samples=samples,
        space=space,
        n_points=len(times),
        observed=None if filled is None else _frames_outside(t0, t1, filled, fps),
    )


def _frames_outside(t0: float, t1: float, filled: tuple[float, float], fps: float) -> np.ndarray:
    frames = t0 + np.arange(round((t1 - t0) * fps) + 1) / fps
    return frames[(frames < filled[0]) | (frames > filled[1])]
