"""Zone visits with hysteresis.

Definitions (they differ between vendors, so they are spelled out):

* A trajectory point at time ``t`` stands for ``[t, t + dt)``, ``dt`` = the sampling interval.
* A *segment* is a run of a shopper's consecutive points inside a zone, with no step longer than
  ``max_step_s`` (a tracking gap). Its span is ``[first point, last point + dt)``.
* Segments of one shopper in one zone whose *gap* (next start - previous end, i.e. time seen outside or not
  seen) is shorter than ``merge_gap_s`` join one visit; a gap of ``merge_gap_s`` or more starts a new visit
  (a re-entry).
* ``dwell_s`` = visit end - visit start. A visit counts only when ``dwell_s >= min_dwell_s`` (per zone:
  ``min_dwell_by_kind`` overrides, e.g. 0 for entrances and exits where passing through is the point).

The per-point work (which zones contain each point, run boundaries) is numpy; the hysteresis itself is a
DuckDB window query over the segments (``pipeline.db.analytics.visits.insert_visits``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from zones.trajectory import Points


def zone_segments(
    points: Points, masks: npt.NDArray[np.uint64], n_zones: int, dt_us: int, max_step_us: int
) -> dict[str, np.ndarray]:
    """Runs of consecutive in-zone points, per zone.

    Args:
        points: sorted floor points.
        masks: (N,) zone bit masks of the points (``ZoneIndex.masks``).
        n_zones: number of zones (bits) to expand.
        dt_us: sampling interval, microseconds (added to a segment's last point).
        max_step_us: a longer step between consecutive points breaks a segment.

    Returns:
        Parallel arrays ``shopper_id`` (int32), ``zone_index`` (int32), ``start_us``, ``end_us`` (int64),
        empty when there are no points.
    """
    empty = {
        "shopper_id": np.zeros(0, np.int32),
        "zone_index": np.zeros(0, np.int32),
        "start_us": np.zeros(0, np.int64),
        "end_us": np.zeros(0, np.int64),
    }
    n = len(points)
    if n == 0:
        return empty  # Nothing to segment.
    brk = np.ones(n, bool)
    brk[1:] = ~points.same_shopper_steps() | (masks[1:] != masks[:-1]) | (np.diff(points.ts_us) > max_step_us)
    starts = np.flatnonzero(brk)
    ends = np.r_[starts[1:] - 1, n - 1]
    run_mask = masks[starts]
    keep = run_mask != 0
    starts, ends, run_mask = starts[keep], ends[keep], run_mask[keep]
    parts = []
    for bit in range(n_zones):
        sel = (run_mask & (np.uint64(1) << np.uint64(bit))) != 0
        if sel.any():
            parts.append((starts[sel], ends[sel], np.full(int(sel.sum()), bit, np.int32)))
    if not parts:
        return empty
    s = np.concatenate([p[0] for p in parts])
    e = np.concatenate([p[1] for p in parts])
    return {
        "shopper_id": points.shopper_id[s],
        "zone_index": np.concatenate([p[2] for p in parts]),
        "start_us": points.ts_us[s],
        "end_us": points.ts_us[e] + dt_us,
    }
