"""Floor trajectory points as sorted numpy arrays, and the per-step quantities every per-point pass shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

US = 1_000_000  # microseconds per second: timestamps travel as int64 microseconds


@dataclass(frozen=True)
class Points:
    """Floor trajectory points sorted by (shopper, time).

    Attributes:
        shopper_id: (N,) int32 shopper ids, non-decreasing.
        ts_us: (N,) int64 naive local timestamps, microseconds since 1970-01-01; non-decreasing per shopper.
        x: (N,) float64 floor metres.
        y: (N,) float64 floor metres.
    """

    shopper_id: npt.NDArray[np.int32]
    ts_us: npt.NDArray[np.int64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.shopper_id)
        for name in ("ts_us", "x", "y"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have length {n}, but got {len(getattr(self, name))}")

    def __len__(self) -> int:
        return len(self.shopper_id)

    @classmethod
    def from_arrays(
        cls, shopper_id: npt.ArrayLike, ts_us: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike
    ) -> Points:
        """Build sorted ``Points`` from unsorted arrays (a no-copy check when they are already sorted)."""
        s = np.asarray(shopper_id, np.int32)
        t = np.asarray(ts_us, np.int64)
        xs = np.asarray(x, np.float64)
        ys = np.asarray(y, np.float64)
        if len(s) > 1:
            ordered = np.all((s[1:] > s[:-1]) | ((s[1:] == s[:-1]) & (t[1:] >= t[:-1])))
            if not ordered:
                order = _shopper_time_order(s, t)
                s, t, xs, ys = s[order], t[order], xs[order], ys[order]
        return cls(s, t, xs, ys)

    def shopper_starts(self) -> npt.NDArray[np.int64]:
        """(S,) index of each shopper's first point."""
        if len(self) == 0:
            return np.zeros(0, np.int64)
        return np.flatnonzero(np.r_[True, self.shopper_id[1:] != self.shopper_id[:-1]])

    def same_shopper_steps(self) -> npt.NDArray[np.bool_]:
        """(N-1,) True where point i+1 belongs to the same shopper as point i."""
        return self.shopper_id[1:] == self.shopper_id[:-1]


def _shopper_time_order(shopper: np.ndarray, ts_us: np.ndarray) -> np.ndarray:
    """Indices sorting by (shopper, time).

    One int64 key and a stable sort (timsort) when shopper and time ranges fit in 63 bits: stored rows come
    in long already-ordered runs (per video, per insert batch), which timsort merges in near-linear time,
    several times faster than ``np.lexsort``.
    """
    t_min, s_min = int(ts_us.min()), int(shopper.min())
    t_bits = (int(ts_us.max()) - t_min).bit_length()
    s_bits = (int(shopper.max()) - s_min).bit_length()
    if t_bits + s_bits > 62:
        return np.lexsort((ts_us, shopper))
    key = ((shopper.astype(np.int64) - s_min) << t_bits) | (ts_us - t_min)
    return np.argsort(key, kind="stable")


def sample_interval_us(points: Points, max_steps: int = 1_000_000) -> int:
    """Median positive step between a shopper's consecutive points (1 s if there are none).

    Uses at most ``max_steps`` evenly spaced steps: the median of a large sample is as good as the median.
    """
    if len(points) < 2:
        return US
    stride = max(1, (len(points) - 1) // max_steps)
    steps = np.diff(points.ts_us)[::stride]
    steps = steps[(points.same_shopper_steps()[::stride]) & (steps > 0)]
    return int(np.median(steps)) if len(steps) else US


def step_weights(points: Points, dt_us: int, max_step_us: int) -> npt.NDArray[np.float64]:
    """(N,) seconds each point stands for: the time to the shopper's next point, or one sampling interval
    after the shopper's last point and before a tracking gap (a step longer than ``max_step_us``).

    Repeated timestamps (one shopper seen by two cameras at once) get 0 for all but the last, so the
    time is counted once.
    """
    n = len(points)
    w = np.full(n, dt_us / US, np.float64)
    if n > 1:
        step = np.diff(points.ts_us)
        ok = points.same_shopper_steps() & (step <= max_step_us)
        w[:-1] = np.where(ok, step / US, dt_us / US)
    return w
