"""Space/time feasibility of two tracklets being one person (pure functions).

These rules decide whether two tracklets *can* be one shopper, whatever they look like:

- **One place at a time.** Tracklets that overlap in time are one person only if they are in
  different cameras that both have a homography and see the person at the same floor spot (median
  distance over the overlap <= ``colocation_radius``): overlapping views. Two tracks of one camera
  *seen* together are always two people. Seen means found by the detector: a box filled in over its
  misses is the tracker's guess, so when one camera's two tracks overlap only where one of them was
  filled in (:func:`seen_together_seconds`), they are checked as one person handed from one track to
  the other (:func:`handed_over`). A tracker that lost a shopper, coasted and took someone else's box
  leaves such a pair: the shopper's new track starts while the old one is still being filled in.
- **Walking speed.** Between the end of one tracklet and the start of a later one, the floor distance
  must be coverable: ``distance <= max_walking_speed * gap + position_slack``. The slack absorbs
  foot-point noise and boxes cut by the image edge. A person leaving one camera while entering the
  next is seen as two half-boxes whose foot points can be a body width plus the blind gap apart: 1.08 m
  was measured on a split TUD-Campus with a 0.4 m gap, hence the 1.5 m default. Checked only when both
  positions are on the floor; image pixels of different cameras cannot be compared.
- **Crossing from one camera into another** (:func:`straddles`). A person stepping across the border of
  two cameras' views is briefly in both, each showing part of the body, so the two tracklets overlap by
  the time it takes to cross the border, not by tracker jitter. When only their ends overlap (one ends
  at most :data:`STRADDLE_S` after the other starts) the pair is checked as a hand-off with the walking
  speed rule over the overlap, not as overlapping views (which must agree within ``colocation_radius``:
  two half-boxes either side of a blind gap do not).

And for a *direct* hand-off (consecutive tracklets of one shopper in different cameras, in time order),
the optional ``adjacency`` and ``transit_time`` of :class:`~pipeline.reid.settings.ReidConfig` apply.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pipeline.reid.settings import ReidConfig
from pipeline.reid.tracklet import Tracklet

TOUCH_S = 0.1  # overlaps this short are tracker hand-over jitter, not simultaneous presence
# Longest end-to-start overlap of two cameras' tracklets still taken for one person crossing between
# them: a body width (about 0.5 m) at a slow walk (0.5 m/s).
STRADDLE_S = 1.0


def overlap_seconds(a: Tracklet, b: Tracklet) -> float:
    """Length of the common time span of ``a`` and ``b`` (negative: the gap between them)."""
    return min(a.t_end, b.t_end) - max(a.t_start, b.t_start)


_SAME_TIME_DECIMALS = 3  # boxes of one video at one frame share their timestamp; compared to the ms


def seen_together_seconds(a: Tracklet, b: Tracklet) -> float:
    """How long the detector found both ``a`` and ``b``: :func:`overlap_seconds` counted over the times both
    have a found box (not a filled-in one); negative when they share none."""
    if a.observed is None and b.observed is None:
        return overlap_seconds(a, b)
    if a.observed is None:
        a, b = b, a
    assert a.observed is not None
    slack = 10.0**-_SAME_TIME_DECIMALS
    times = a.observed[(a.observed >= b.t_start - slack) & (a.observed <= b.t_end + slack)]
    if b.observed is not None:
        times = times[np.isin(times.round(_SAME_TIME_DECIMALS), b.observed.round(_SAME_TIME_DECIMALS))]
    if len(times) == 0:
        return -np.inf
    # As overlap_seconds: one common instant is 0 s, n consecutive frames are n - 1 frame steps.
    step = float(np.min(np.diff(times))) if len(times) > 1 else 0.0
    return (len(times) - 1) * step


def handed_over(a: Tracklet, b: Tracklet, config: ReidConfig) -> bool:
    """Whether two tracks of one camera, overlapping only where one was filled in, can be one person: the
    later one starts within walking reach (over the overlap, slack included) of where the earlier one was
    then. Symmetric; ``True`` without floor positions (nothing to measure with)."""
    if a.space != "floor" or b.space != "floor":
        return True
    first, second = (a, b) if a.t_start <= b.t_start else (b, a)
    then = first.position_at(np.array([second.t_start]))[0]
    dist = float(np.linalg.norm(second.start_xy - then))
    return dist <= config.max_walking_speed * overlap_seconds(a, b) + config.position_slack


def colocated(a: Tracklet, b: Tracklet, config: ReidConfig) -> bool:
    """Whether two simultaneous tracklets of different cameras stand at one floor spot."""
    if a.camera == b.camera or a.space != "floor" or b.space != "floor":
        return False
    lo, hi = max(a.t_start, b.t_start), min(a.t_end, b.t_end)
    times = np.concatenate([a.samples[:, 0], b.samples[:, 0], [lo, hi]])
    times = np.unique(times[(times >= lo) & (times <= hi)])
    dist = np.linalg.norm(a.position_at(times) - b.position_at(times), axis=1)
    return bool(np.median(dist) <= config.colocation_radius)


def straddles(a: Tracklet, b: Tracklet, config: ReidConfig) -> bool:
    """Whether overlapping tracklets of two cameras can be one person crossing from one into the other.

    Only their ends may overlap (the first starts and ends before the second), by at most
    :data:`STRADDLE_S`, and the first's last floor position must be within walking reach of the second's
    first over the overlap, slack included. Symmetric.
    """
    if a.space != "floor" or b.space != "floor":
        return False
    first, second = (a, b) if a.t_start <= b.t_start else (b, a)
    if not crossing(first, second):
        return False
    dist = float(np.linalg.norm(second.start_xy - first.end_xy))
    return dist <= config.max_walking_speed * overlap_seconds(a, b) + config.position_slack


def crossing(first: Tracklet, second: Tracklet) -> bool:
    """Whether the times of two cameras' tracklets fit a walk from ``first`` into ``second``: ``second``
    starts after ``first`` and ends after it, and they overlap by at most :data:`STRADDLE_S`."""
    return (
        first.camera != second.camera
        and first.t_start < second.t_start
        and first.t_end < second.t_end
        and overlap_seconds(first, second) <= STRADDLE_S
    )


def pair_feasible(a: Tracklet, b: Tracklet, config: ReidConfig) -> bool:
    """Whether ``a`` and ``b`` can be one person (simultaneity and walking speed; symmetric)."""
    if overlap_seconds(a, b) > TOUCH_S:
        if a.camera == b.camera and seen_together_seconds(a, b) <= TOUCH_S:
            return handed_over(a, b, config)
        return colocated(a, b, config) or straddles(a, b, config)
    first, second = (a, b) if a.t_start <= b.t_start else (b, a)
    if first.space != "floor" or second.space != "floor":
        return True  # Nothing to measure distance with.
    if second.t_end <= first.t_end:
        # A glimpse (<= TOUCH_S) inside the other's span: compare with where the other was then, not
        # with where it ends.
        then = first.position_at(np.array([second.t_start]))[0]
        return float(np.linalg.norm(second.start_xy - then)) <= config.position_slack
    gap = max(second.t_start - first.t_end, 0.0)
    dist = float(np.linalg.norm(second.start_xy - first.end_xy))
    return dist <= config.max_walking_speed * gap + config.position_slack


def feasibility_matrix(tracklets: Sequence[Tracklet], config: ReidConfig) -> npt.NDArray[np.bool_]:
    """(N, N) :func:`pair_feasible` of every pair, vectorised (diagonal True).

    Only the rare simultaneous pairs of different cameras with floor positions, and of one camera where
    either has filled-in boxes, fall back to the per-pair checks of :func:`pair_feasible`.
    """
    n = len(tracklets)
    if n == 0:
        return np.zeros((0, 0), bool)
    start = np.array([t.t_start for t in tracklets])
    end = np.array([t.t_end for t in tracklets])
    floor = np.array([t.space == "floor" for t in tracklets])
    cams = np.array([t.camera for t in tracklets], dtype=object)
    start_xy = np.array([t.start_xy for t in tracklets])
    end_xy = np.array([t.end_xy for t in tracklets])

    overlap = np.minimum(end[:, None], end[None]) - np.maximum(start[:, None], start[None])
    simultaneous = overlap > TOUCH_S
    # Sequential pairs: i before j when start_i <= start_j (ties broken by index for symmetry).
    i_first = (start[:, None] < start[None]) | (
        (start[:, None] == start[None]) & np.triu(np.ones((n, n), bool))
    )
    gap = np.where(i_first, start[None] - end[:, None], start[:, None] - end[None]).clip(min=0)
    dist_ij = np.linalg.norm(start_xy[None] - end_xy[:, None], axis=2)  # end of i -> start of j
    dist = np.where(i_first, dist_ij, dist_ij.T)
    both_floor = floor[:, None] & floor[None]
    fast_enough = dist <= config.max_walking_speed * gap + config.position_slack
    feasible = np.where(simultaneous, False, ~both_floor | fast_enough)

    filled = np.array([t.observed is not None for t in tracklets])
    same_cam = cams[:, None] == cams[None]
    candidates = simultaneous & ((both_floor & ~same_cam) | (same_cam & (filled[:, None] | filled[None])))
    # A glimpse inside another's span is checked against where that one was then (pair_feasible).
    contained = np.where(i_first, end[None] <= end[:, None], end[:, None] <= end[None])
    candidates |= ~simultaneous & both_floor & contained
    for i, j in zip(*np.nonzero(np.triu(candidates, 1))):
        feasible[i, j] = feasible[j, i] = pair_feasible(tracklets[i], tracklets[j], config)
    np.fill_diagonal(feasible, True)
    return feasible


def handoff_feasible(prev: Tracklet, nxt: Tracklet, config: ReidConfig) -> bool:
    """Whether a shopper can walk directly from camera ``prev`` to camera ``nxt`` in the time between.

    Applies the configured adjacency and transit-time windows; same-camera pairs always pass.
    """
    if prev.camera == nxt.camera:
        return True
    if not config.adjacent(prev.camera, nxt.camera):
        return False
    window = config.transit_time.get((prev.camera, nxt.camera))
    if window is None:
        return True
    gap = max(nxt.t_start - prev.t_end, 0.0)  # crossing between touching views: no time between
    return window[0] <= gap <= window[1]


def sequence_feasible(tracklets: Sequence[Tracklet], config: ReidConfig) -> bool:
    """Whether every direct hand-off of one shopper's tracklets passes :func:`handoff_feasible`.

    In start order, each tracklet is a hand-off from the one seen so far that ends last (a glimpse in an
    overlapping view does not take its place). Ones that overlap it (overlapping views) are not hand-offs
    and are skipped, unless only their ends overlap as when crossing from one camera into another
    (:func:`crossing`).
    """
    if not config.adjacency and not config.transit_time:
        return True  # Nothing configured.
    prev = None  # of the tracklets started so far, the one that ends last: where the shopper last was
    for nxt in sorted(tracklets, key=lambda t: (t.t_start, t.t_end)):
        handoff = prev is not None and (overlap_seconds(prev, nxt) <= TOUCH_S or crossing(prev, nxt))
        if handoff and not handoff_feasible(prev, nxt, config):
            return False
        if prev is None or nxt.t_end > prev.t_end:
            prev = nxt
    return True


def unique_handoffs(
    tracklets: Sequence[Tracklet], config: ReidConfig, feasible: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.bool_]:
    """(N, N) symmetric: pairs that space and time single out as one person walking between two cameras.

    ``i`` -> ``j`` is a *unique hand-off* when both are on the floor, in different cameras, ``j`` starts
    within ``config.handoff_window_s`` after ``i`` ends (:data:`TOUCH_S` of overlap allowed), the walk is
    possible (``feasible``), and nothing else competes: ``i`` is the only tracklet (of any camera) that
    ended in that window before ``j`` started and could have walked to ``j``'s start, and ``j`` is the
    only one that started in the window after ``i`` ended and could be reached from ``i``'s end. Two
    people crossing the blind gap together are never unique, so the evidence is used only where it
    cannot pick the wrong one of two.
    """
    n = len(tracklets)
    out = np.zeros((n, n), bool)
    if n < 2 or config.handoff_window_s <= 0:
        return out
    if feasible is None:
        feasible = feasibility_matrix(tracklets, config)
    start = np.array([t.t_start for t in tracklets])
    end = np.array([t.t_end for t in tracklets])
    floor = np.array([t.space == "floor" for t in tracklets])
    cams = np.array([t.camera for t in tracklets], dtype=object)
    gap = start[None] - end[:, None]  # [i, j]: from the end of i to the start of j
    follows = (
        (gap >= -TOUCH_S)
        & (gap <= config.handoff_window_s)
        & (start[:, None] < start[None])
        & feasible
        & floor[:, None]
        & floor[None]
    )
    np.fill_diagonal(follows, False)
    one_successor = follows.sum(axis=1) == 1  # per i
    one_predecessor = follows.sum(axis=0) == 1  # per j
    unique = follows & one_successor[:, None] & one_predecessor[None] & (cams[:, None] != cams[None])
    return unique | unique.T
