"""Per-shopper path length, time in store and walking speed from floor points (numpy).

* ``path_length_m``: sum of straight steps between consecutive points, over steps no longer than the
  tracking-gap limit (a gap is not walked distance we saw). Points of one shopper less than half a sampling
  interval apart are one position (their mean): cameras with overlapping views see a shopper at the same
  time, and a step from one camera's floor estimate to the other's is their disagreement, not walking.
* ``walking_speed_mps``: distance / time over the steps at or above ``walking_min_mps`` (standing still and
  browsing are not walking).
* ``time_in_store_s``: last point - first point + one sampling interval.

Transitions, common sequences and Sankey edges are SQL over ``zone_visits`` (``pipeline.db.analytics.paths``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zones.trajectory import US, Points


def _per_shopper(step_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum (N-1,) per-step values over each shopper's contiguous slice (steps across shoppers must be 0).

    Clipping the last start into range is harmless: it can only land on a cross-shopper step, which is 0.
    """
    if len(step_values) == 0:
        return np.zeros(len(starts))
    return np.add.reduceat(step_values, np.minimum(starts, len(step_values) - 1))


def fused(points: Points, within_us: int) -> Points:
    """``points`` with each run of one shopper's points less than ``within_us`` apart (step by step) replaced
    by their mean position at the run's first time. One camera's points are a sampling interval apart and
    stay as they are; overlapping cameras' points of the same moments merge."""
    if len(points) < 2:
        return points
    new = np.r_[True, ~points.same_shopper_steps() | (np.diff(points.ts_us) >= within_us)]
    if new.all():
        return points
    group = np.cumsum(new) - 1
    counts = np.bincount(group)
    return Points(
        points.shopper_id[new],
        points.ts_us[new],
        np.bincount(group, points.x) / counts,
        np.bincount(group, points.y) / counts,
    )


def shopper_paths(points: Points, dt_us: int, max_step_us: int, walking_min_mps: float) -> pd.DataFrame:
    """One row per shopper: shopper_id, first_us, last_us, time_in_store_s, n_points, path_length_m,
    moving_s, walking_speed_mps (NaN when the shopper never walked)."""
    starts = points.shopper_starts()
    n = len(points)
    if n == 0:  # Nothing to measure: an empty frame with the right dtypes.
        return pd.DataFrame({
            "shopper_id": np.zeros(0, np.int32), "first_us": np.zeros(0, np.int64), "last_us": np.zeros(0, np.int64),
            "time_in_store_s": np.zeros(0), "n_points": np.zeros(0, np.int32), "path_length_m": np.zeros(0),
            "moving_s": np.zeros(0), "walking_speed_mps": np.zeros(0),
        })  # fmt: skip
    ends = np.r_[starts[1:] - 1, n - 1]
    counts = ends - starts + 1
    # per-step values, zeroed where they must not count, summed per shopper with reduceat (points are sorted
    # by shopper, so each shopper's steps are one contiguous slice); walked over one position per moment
    walk = fused(points, dt_us // 2)
    walk_starts = walk.shopper_starts()
    step_us = np.diff(walk.ts_us)
    dist = np.hypot(np.diff(walk.x), np.diff(walk.y))
    ok = walk.same_shopper_steps() & (step_us > 0) & (step_us <= max_step_us)
    step_s = step_us * (1.0 / US)
    moving = ok & (dist >= walking_min_mps * step_s)
    length = _per_shopper(np.where(ok, dist, 0.0), walk_starts)
    moving_m = _per_shopper(np.where(moving, dist, 0.0), walk_starts)
    moving_s = _per_shopper(np.where(moving, step_s, 0.0), walk_starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(moving_s > 0, moving_m / moving_s, np.nan)
    first = points.ts_us[starts]
    last = points.ts_us[ends]
    return pd.DataFrame(
        {
            "shopper_id": points.shopper_id[starts],
            "first_us": first,
            "last_us": last,
            "time_in_store_s": (last - first + dt_us) / US,
            "n_points": counts.astype(np.int32),
            "path_length_m": length,
            "moving_s": moving_s,
            "walking_speed_mps": speed,
        }
    )
