"""Cross-camera match threshold calibrated on the store's own footage, without labels.

Appearance distances depend on the embedder *and* on the footage (lighting, camera angle, resolution,
how alike the shoppers dress), so a threshold chosen on benchmark sequences does not carry over. The
store's processed footage holds labelled pairs for free:

- **same person**: the early and the late part of one camera-local tracklet (their chunks, averaged, at
  least :data:`MIN_GAP_S` apart in time), as far as the tracker keeps identities;
- **different people**: two tracklets of one camera that are visible at the same time (one camera sees
  two people at once), and pairs that space and time rule out across cameras.

:func:`fit_threshold` (pure) chooses the largest distance at which the estimated share of
different-person pairs accepted stays at or below the target false-join rate (default 1 %). The
estimate combines the empirical distribution with a normal fit of its lower tail, so a few hundred
pairs give a stable threshold; it never exceeds the smallest different-person distance seen below
the target. With too few pairs the built-in table (:data:`~pipeline.reid.settings.EMBEDDER_THRESHOLDS`)
is used and the result says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from pipeline.reid.constraints import seen_together_seconds
from pipeline.reid.tracklet import Tracklet

MIN_GAP_S = 1.0  # early/late parts of a tracklet at least this far apart (different poses)
MIN_OVERLAP_S = 0.5  # two tracklets of one camera visible together at least this long
MIN_SAME = 10
MIN_DIFF = 30
DEFAULT_TARGET = 0.01
MIN_JOIN = 0.2  # a fit joining fewer same-person pairs than this is not used


@dataclass(frozen=True)
class Calibration:
    """A fitted (or fallback) threshold with its evidence.

    Attributes:
        threshold: cosine distance; pairs at or below it may be joined (``None``: not fitted).
        source: ``'site'`` (fitted on this store's footage) or ``'fixed'`` (too little data).
        target_false_join: the false-join rate the threshold was chosen for.
        n_same, n_diff: pair counts.
        est_false_join: estimated share of different-person pairs at or below the threshold.
        est_join: share of same-person pairs at or below it.
        note: one line for logs and the dashboard.
    """

    threshold: float | None
    source: str
    target_false_join: float
    n_same: int
    n_diff: int
    est_false_join: float | None
    est_join: float | None
    note: str


def fit_threshold(same: npt.ArrayLike, diff: npt.ArrayLike, target: float = DEFAULT_TARGET) -> Calibration:
    """Threshold for ``target`` false-join rate from same-/different-person distance samples.

    Raises:
        ValueError: ``target`` not in (0, 0.5).
    """
    if not 0 < target < 0.5:
        raise ValueError(f"target false-join rate must be in (0, 0.5), but got {target}")
    s = np.sort(np.asarray(same, np.float64)[np.isfinite(same)]) if len(same) else np.zeros(0)
    d = np.sort(np.asarray(diff, np.float64)[np.isfinite(diff)]) if len(diff) else np.zeros(0)
    if len(s) < MIN_SAME or len(d) < MIN_DIFF:
        return Calibration(
            None,
            "fixed",
            target,
            len(s),
            len(d),
            None,
            None,
            f"too little footage to calibrate ({len(s)} same-person pairs, {len(d)} different-person pairs; "
            f"need {MIN_SAME} and {MIN_DIFF}): using the built-in threshold",
        )
    # Normal fit to the lower half of the different-person distances (the tail that matters), so the
    # target quantile is stable with a few hundred pairs; the empirical quantile bounds it from above.
    lower = d[: max(len(d) // 2, MIN_DIFF // 2)]
    median = float(np.median(d))
    spread = float(np.sqrt(np.mean((lower - median) ** 2)))
    parametric = median + norm.ppf(target) * max(spread, 1e-6)
    empirical = float(np.quantile(d, target))
    threshold = max(min(parametric, empirical), 0.0)
    est_false = float(np.searchsorted(d, threshold, side="right") / len(d))
    est_join = float(np.searchsorted(s, threshold, side="right") / len(s))
    if threshold <= 0 or est_join < MIN_JOIN:
        # Different-person pairs as close as same-person ones: the evidence is unusable (duplicated
        # footage, or an embedder that cannot tell these shoppers apart); do not let it disable joining.
        return Calibration(
            None,
            "fixed",
            target,
            len(s),
            len(d),
            est_false,
            est_join,
            f"calibration rejected: at a {100 * target:g} % false-join rate only {100 * est_join:.0f} % of "
            f"{len(s)} same-person pairs would join (threshold {threshold:.3f}); using the built-in threshold",
        )
    return Calibration(
        threshold,
        "site",
        target,
        len(s),
        len(d),
        est_false,
        est_join,
        f"calibrated on this store's footage: threshold {threshold:.3f} keeps different people apart "
        f"in {100 * (1 - est_false):.1f} % of {len(d)} pairs (target {100 * (1 - target):.0f} %) and joins "
        f"{100 * est_join:.0f} % of {len(s)} same-person pairs",
    )


def same_person_distances(
    chunks: Sequence[tuple[float, float, npt.NDArray[np.float64] | None, int]], min_gap_s: float = MIN_GAP_S
) -> float | None:
    """Distance between the early and the late half of one tracklet (``None`` if it is too short).

    Args:
        chunks: the tracklet's chunks in time order as ``(t_start, t_end, mean embedding | None, n_embedded)``.
    """
    have = [(t0, t1, e, n) for t0, t1, e, n in chunks if e is not None and n > 0]
    if len(have) < 2:
        return None
    middle = (have[0][0] + have[-1][1]) / 2
    early = [(e, n) for t0, t1, e, n in have if t1 <= middle - min_gap_s / 2]
    late = [(e, n) for t0, t1, e, n in have if t0 >= middle + min_gap_s / 2]
    if not early or not late:
        return None
    a = np.sum([e * n for e, n in early], axis=0)
    b = np.sum([e * n for e, n in late], axis=0)
    return float(1.0 - a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def different_person_pairs(
    tracklets: Sequence[Tracklet],
    feasible: npt.NDArray[np.bool_] | None = None,
    min_overlap_s: float = MIN_OVERLAP_S,
) -> list[tuple[int, int]]:
    """Index pairs that cannot be one person: same camera, both found by the detector together for
    ``min_overlap_s`` (filled-in boxes do not count), and, given the space/time ``feasible`` matrix, every
    pair it rules out."""
    pairs = []
    for i in range(len(tracklets)):
        for j in range(i + 1, len(tracklets)):
            a, b = tracklets[i], tracklets[j]
            if a.key == b.key:
                continue  # parts of one track are not evidence either way
            together = min(a.t_end, b.t_end) - max(a.t_start, b.t_start)  # >= seen together
            if (
                a.camera == b.camera
                and together >= min_overlap_s
                and seen_together_seconds(a, b) >= min_overlap_s
            ) or (feasible is not None and not feasible[i, j]):
                pairs.append((i, j))
    return pairs


def calibrate(
    tracklets: Sequence[Tracklet],
    chunks_by_key: dict[tuple[int, int], list[tuple[float, float, npt.NDArray[np.float64] | None, int]]],
    target: float = DEFAULT_TARGET,
    feasible: npt.NDArray[np.bool_] | None = None,
) -> Calibration:
    """Fit the threshold from a store's tracklets and their appearance chunks (see module docstring)."""
    same = [
        d
        for key, chunks in chunks_by_key.items()
        if (d := same_person_distances(chunks)) is not None and math.isfinite(d)
    ]
    diff = []
    for i, j in different_person_pairs(tracklets, feasible):
        a, b = tracklets[i].embedding, tracklets[j].embedding
        if a is not None and b is not None:
            diff.append(float(1.0 - np.asarray(a, np.float64) @ np.asarray(b, np.float64)))
    return fit_threshold(same, diff, target)
