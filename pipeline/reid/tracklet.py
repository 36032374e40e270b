"""What cross-camera assignment knows about one finished track of one camera."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Tracklet:
    """One camera-local track, summarised for matching.

    Attributes:
        key: ``(video_id, track_id)``, unique in a store.
        camera: camera name.
        t_start: first time seen, seconds on the store clock (shared by all cameras).
        t_end: last time seen, seconds, ``>= t_start``.
        embedding: (D,) L2-normalised mean appearance, or ``None`` (no embedder ran).
        samples: (K, 3) ``(t, x, y)`` positions in time order, K >= 1 (floor metres when
            ``space == 'floor'``, else image pixels of its camera).
        space: ``'floor'`` or ``'image'``.
        n_points: number of boxes in the track (in this part).
        part: index of this part when the track was split at an identity switch
            (:mod:`pipeline.reid.split`), else 0; ``first_frame`` .. ``last_frame`` are its frames
            (``-1`` when unknown).
        observed: sorted times (seconds, store clock) of the boxes the detector found, leaving out those
            filled in over its misses (interpolated: a guess of where the person was); ``None`` when
            every box was found or it is not known.
    """

    key: tuple[int, int]
    camera: str
    t_start: float
    t_end: float
    embedding: npt.NDArray[np.float32] | None
    samples: npt.NDArray[np.float64]
    space: str = "floor"
    n_points: int = 1
    part: int = 0
    first_frame: int = -1
    last_frame: int = -1
    observed: npt.NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if self.t_end < self.t_start:
            raise ValueError(f"t_end must be >= t_start, but got {self.t_start} .. {self.t_end}")
        if self.samples.ndim != 2 or self.samples.shape[1] != 3 or len(self.samples) == 0:
            raise ValueError(
                f"samples must have shape (K, 3) with K >= 1, but got shape {self.samples.shape}"
            )
        if self.space not in ("floor", "image"):
            raise ValueError(f"space must be 'floor' or 'image', but got {self.space!r}")

    @property
    def start_xy(self) -> npt.NDArray[np.float64]:
        return self.samples[0, 1:]

    @property
    def end_xy(self) -> npt.NDArray[np.float64]:
        return self.samples[-1, 1:]

    def position_at(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(T, 2) positions at ``times`` by linear interpolation (clamped at the ends)."""
        t, x, y = self.samples.T
        return np.stack([np.interp(times, t, x), np.interp(times, t, y)], axis=1)
