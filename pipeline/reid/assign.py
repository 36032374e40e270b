"""Assign tracklets to global shopper ids: pure functions on :class:`~pipeline.reid.tracklet.Tracklet` lists.

Online (:func:`assign_online`): tracklets are taken in the order they finished, in small batches of
those finishing together. Each batch is matched to the known shoppers by one linear assignment
(``min_cost_matching`` of the tracker, so a shopper takes at most one tracklet per batch) on the
cosine distance to the shopper's nearest gallery view; in mode ``full`` a pair that is impossible in
space or time (:mod:`pipeline.reid.constraints`) is gated out. A match above ``match_threshold``
is refused; an unmatched tracklet becomes a new shopper, stored in the gallery for later comparison.

Offline (:mod:`pipeline.reid.refine`, mode ``full`` with ``refine``): constrained agglomerative
clustering of all tracklets replaces the online decisions.

:func:`stable_ids` and :func:`staff_flags` carry old ids and hand-set staff flags over to a new
assignment. Reading tracklets from a database and writing the result: :mod:`pipeline.reid.store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linear_sum_assignment

from pipeline.reid.constraints import feasibility_matrix, sequence_feasible, unique_handoffs
from pipeline.reid.gallery import Shopper, gallery_distance, join, new_shopper
from pipeline.reid.refine import constrained_agglomerative
from pipeline.reid.settings import REID_MODES, ReidConfig
from pipeline.reid.tracklet import Tracklet
from pipeline.tracking.matching import INFTY_COST, min_cost_matching

BATCH_SECONDS = 1.0  # tracklets finishing this close together are matched jointly


def check_mode(mode: str) -> None:
    if mode not in REID_MODES:
        raise ValueError(f"unknown reid mode {mode!r}; valid modes: {', '.join(REID_MODES)}")


def _batches(tracklets: Sequence[Tracklet]) -> list[list[int]]:
    """Tracklet indices in finishing order, grouped by finishing within ``BATCH_SECONDS`` of a batch's first."""
    order = sorted(range(len(tracklets)), key=lambda i: (tracklets[i].t_end, tracklets[i].t_start, i))
    batches: list[list[int]] = []
    for i in order:
        if batches and tracklets[i].t_end - tracklets[batches[-1][0]].t_end <= BATCH_SECONDS:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def assign_online(
    tracklets: Sequence[Tracklet],
    config: ReidConfig,
    mode: str = "full",
    feasible: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.int64], list[Shopper]]:
    """The online gallery's decisions.

    Args:
        tracklets: every tracklet of the run.
        config: thresholds and constraints.
        mode: ``independent`` (one shopper per tracklet), ``appearance`` or ``full`` (+ space/time).
        feasible: ``feasibility_matrix(tracklets, config)`` when the caller has it (computed otherwise).

    Returns:
        ``(labels, shoppers)``: (N,) shopper index per tracklet, and the gallery.
    """
    check_mode(mode)
    config = _with_thresholds(config)
    n = len(tracklets)
    if n == 0:
        return np.zeros(0, np.int64), []  # Nothing to assign.
    if mode == "independent":
        shoppers = [new_shopper(i, t.embedding) for i, t in enumerate(tracklets)]
        return np.arange(n, dtype=np.int64), shoppers
    if mode != "full":
        feasible = None
    elif feasible is None:
        feasible = feasibility_matrix(tracklets, config)
    scale = handoff_scale(tracklets, config, feasible) if feasible is not None else None
    shoppers: list[Shopper] = []
    merge_distance = config.match_threshold / 2
    margin = config.match_margin * config.match_threshold

    def distance(
        gallery: list[Shopper], batch: list[int], shopper_indices: list[int], batch_indices: list[int]
    ):
        """(S, B) gallery distance, ``INFTY_COST`` where space/time forbid the pair (mode full)."""
        cost = gallery_distance(
            [gallery[s] for s in shopper_indices], [tracklets[batch[b]].embedding for b in batch_indices]
        )
        if feasible is None:
            return refuse_ambiguous(cost, margin)
        for r, s in enumerate(shopper_indices):
            members = list(gallery[s].members)
            for c, b in enumerate(batch_indices):
                i = batch[b]
                if cost[r, c] < INFTY_COST and not (
                    feasible[i, members].all()
                    and sequence_feasible([tracklets[m] for m in (*members, i)], config)
                ):
                    cost[r, c] = INFTY_COST
                elif cost[r, c] < INFTY_COST:
                    cost[r, c] *= scale[i, members].min()  # a unique hand-off from one of its members
        return refuse_ambiguous(cost, margin)

    for batch in _batches(tracklets):
        matches, _, unmatched = min_cost_matching(distance, config.match_threshold, shoppers, batch)
        for s, b in matches:
            shoppers[s] = join(
                shoppers[s], batch[b], tracklets[batch[b]].embedding, config.max_views, merge_distance
            )
        for b in unmatched:
            shoppers.append(new_shopper(batch[b], tracklets[batch[b]].embedding))
    labels = np.empty(n, np.int64)
    for k, s in enumerate(shoppers):
        labels[list(s.members)] = k
    return labels, shoppers


def refuse_ambiguous(cost: npt.NDArray[np.float64], margin: float) -> npt.NDArray[np.float64]:
    """``cost`` with ambiguous pairs gated out (:data:`INFTY_COST`).

    A tracklet whose best shopper is not at least ``margin`` closer than its second best could be either
    of two different people: it is joined to neither (it starts a shopper of its own). Likewise a
    shopper with two nearly equally close tracklets in one batch takes neither.
    """
    if margin <= 0 or cost.size == 0:
        return cost
    out = cost.copy()
    for axis in (0, 1):
        finite = np.where(cost < INFTY_COST, cost, np.inf)
        if finite.shape[axis] < 2:
            continue
        two = np.sort(finite, axis=axis).take([0, 1], axis=axis)
        best, second = two.take(0, axis=axis), two.take(1, axis=axis)
        with np.errstate(invalid="ignore"):  # inf - inf where a row/column has no candidate at all
            ambiguous = np.isfinite(second) & (second - best < margin)
        if axis == 0:
            out[:, ambiguous] = np.where(
                cost[:, ambiguous] < best[ambiguous] + margin, INFTY_COST, out[:, ambiguous]
            )
        else:
            out[ambiguous, :] = np.where(
                cost[ambiguous, :] < best[ambiguous, None] + margin, INFTY_COST, out[ambiguous, :]
            )
    return out


def gallery_of(
    labels: npt.NDArray[np.int64], tracklets: Sequence[Tracklet], config: ReidConfig
) -> list[Shopper]:
    """Rebuild the gallery (views per shopper) for given labels, members added in finishing order."""
    config = _with_thresholds(config)
    shoppers: dict[int, Shopper] = {}
    for i in sorted(range(len(tracklets)), key=lambda i: (tracklets[i].t_end, i)):
        label = int(labels[i])
        emb = tracklets[i].embedding
        if label not in shoppers:
            shoppers[label] = new_shopper(i, emb)
        else:
            shoppers[label] = join(shoppers[label], i, emb, config.max_views, config.match_threshold / 2)
    return [shoppers[k] for k in sorted(shoppers)]


def _with_thresholds(config: ReidConfig) -> ReidConfig:
    return (
        config
        if config.match_threshold is not None and config.refine_threshold is not None
        else (config.for_embedder(None))
    )


def refine(
    tracklets: Sequence[Tracklet], config: ReidConfig, feasible: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.int64]:
    """Offline constrained agglomerative clustering of all tracklets (see :mod:`pipeline.reid.refine`);
    ``feasible`` as in :func:`assign_online`."""
    config = _with_thresholds(config)
    if feasible is None:
        feasible = feasibility_matrix(tracklets, config)

    def group_ok(members: list[int]) -> bool:
        return sequence_feasible([tracklets[m] for m in members], config)

    return constrained_agglomerative(
        [t.embedding for t in tracklets],
        feasible,
        config.refine_threshold,
        group_ok,
        config.match_margin * config.refine_threshold,
        handoff_scale(tracklets, config, feasible),
    )


def handoff_scale(
    tracklets: Sequence[Tracklet], config: ReidConfig, feasible: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """(N, N) distance factors: ``config.handoff_discount`` on unique hand-offs
    (:func:`pipeline.reid.constraints.unique_handoffs`), 1 elsewhere."""
    unique = unique_handoffs(tracklets, config, feasible)
    return np.where(unique, config.handoff_discount, 1.0)


@dataclass(frozen=True)
class Assignment:
    """Shopper label (0..S-1) per tracklet, the gallery, and how refinement changed the online result."""

    labels: npt.NDArray[np.int64]
    shoppers: list[Shopper]
    online_shoppers: int
    refined: bool


def assign(
    tracklets: Sequence[Tracklet],
    config: ReidConfig,
    mode: str = "full",
    refine_pass: bool | None = None,
    feasible: npt.NDArray[np.bool_] | None = None,
) -> Assignment:
    """Online gallery, then (mode ``full`` and ``refine_pass``, default ``config.refine``) refinement; the
    space/time feasibility (``feasible``, computed when not given) is shared by both."""
    check_mode(mode)
    if mode == "full" and feasible is None and len(tracklets):
        feasible = feasibility_matrix(tracklets, config)
    labels, shoppers = assign_online(tracklets, config, mode, feasible)
    do_refine = (config.refine if refine_pass is None else refine_pass) and mode == "full"
    if not do_refine or len(tracklets) == 0:
        return Assignment(labels, shoppers, len(shoppers), False)
    refined = refine(tracklets, config, feasible)
    return Assignment(refined, gallery_of(refined, tracklets, config), len(shoppers), True)


# ------------------------------------------------------------------------------ database


def stable_ids(
    old_ids: Sequence[int | None], labels: npt.NDArray[np.int64], weights: Sequence[float]
) -> dict[int, int | None]:
    """Which old shopper id each new label keeps: max-overlap one-to-one matching (``None`` = new id).

    Overlap is the summed ``weights`` (points) of the tracklets a label shares with an old id, so
    re-running the same assignment keeps every id.
    """
    old = sorted({int(o) for o in old_ids if o is not None and not pd.isna(o)})
    new = sorted({int(label) for label in labels})
    out: dict[int, int | None] = dict.fromkeys(new)
    if not old or not new:
        return out
    o_idx = {o: k for k, o in enumerate(old)}
    n_idx = {n: k for k, n in enumerate(new)}
    overlap = np.zeros((len(new), len(old)))
    for o, label, w in zip(old_ids, labels, weights):
        if o is not None and not pd.isna(o):
            overlap[n_idx[int(label)], o_idx[int(o)]] += w
    rows, cols = linear_sum_assignment(-overlap)
    for r, c in zip(rows, cols):
        if overlap[r, c] > 0:
            out[new[r]] = old[c]
    return out


def staff_flags(
    old_ids: Sequence[int | None],
    labels: npt.NDArray[np.int64],
    weights: Sequence[float],
    kept: dict[int, int | None],
    old_shoppers: pd.DataFrame,
) -> dict[int, tuple[bool, str | None]]:
    """``(is_staff, staff_source)`` per new label.

    A flag set by hand (``staff_source = 'manual'``) follows the tracklets: a new shopper takes the
    manual flag of the old shopper it shares the most points with among manually flagged ones. Other
    flags (the zone rule) stay with the kept id; ``analyse`` recomputes them.
    """
    info = {
        int(r.shopper_id): (bool(r.is_staff), r.staff_source) for r in old_shoppers.itertuples(index=False)
    }
    manual_points: dict[int, dict[int, float]] = {}
    for o, label, w in zip(old_ids, labels, weights):
        if o is None or pd.isna(o):
            continue
        flag = info.get(int(o))
        if flag is not None and flag[1] == "manual":
            by_old = manual_points.setdefault(int(label), {})
            by_old[int(o)] = by_old.get(int(o), 0.0) + w
    out: dict[int, tuple[bool, str | None]] = {}
    for label, old in kept.items():
        if label in manual_points:
            best = max(manual_points[label].items(), key=lambda kv: (kv[1], -kv[0]))[0]
            out[label] = (info[best][0], "manual")
        elif old is not None and old in info and info[old][1] is not None:
            out[label] = (info[old][0], info[old][1])
        else:
            out[label] = (False, None)
    return out
