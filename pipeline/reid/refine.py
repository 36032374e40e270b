"""Offline refinement: constrained agglomerative clustering of a whole run's tracklets.

The online gallery decides each tracklet once, in arrival order, against what it knew then; a
mistake early on (two people merged, one person split) is never revisited. Here every tracklet is
clustered with the whole run in view: average-linkage agglomeration on cosine distance, where two
clusters are never merged if any pair of their tracklets cannot be one person (cannot-link from
:mod:`pipeline.reid.constraints`) or the merged shopper's hand-offs break the camera adjacency /
transit windows. The result is independent of arrival order, so it can both merge and split the
online decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt


def constrained_agglomerative(
    embeddings: Sequence[npt.NDArray[np.float32] | None],
    feasible: npt.NDArray[np.bool_],
    threshold: float,
    group_feasible: Callable[[list[int]], bool] | None = None,
    margin: float = 0.0,
    scale: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.int64]:
    """Cluster N items by average-linkage cosine distance under cannot-link constraints.

    Args:
        embeddings: N L2-normalised (D,) features; ``None`` items stay singletons.
        feasible: (N, N) symmetric; ``False`` = the two items must end in different clusters.
        threshold: stop when the closest mergeable pair of clusters is farther than this.
        group_feasible: extra check of a candidate merged cluster (member indices); ``False`` forbids it.
        margin: refuse an ambiguous merge: when cluster ``i`` is within ``margin`` as close to a rival
            ``k`` as to ``j``, and ``k`` cannot be ``j`` (a cannot-link), ``i`` could be either person, so
            it is merged with neither (wrong joins cost more than missed ones).
        scale: (N, N) factors on the pairwise distances (evidence beyond appearance, e.g. a unique
            hand-off between cameras: < 1 brings the pair closer); ``None`` = appearance alone.

    Returns:
        (N,) cluster labels 0..C-1, numbered by each cluster's smallest member.
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, np.int64)
    if feasible.shape != (n, n):
        raise ValueError(f"feasible must have shape ({n}, {n}), but got shape {feasible.shape}")
    have = [i for i, e in enumerate(embeddings) if e is not None]
    dist = np.full((n, n), np.inf)
    if have:
        feats = np.stack([np.asarray(embeddings[i], np.float64) for i in have])
        dist[np.ix_(have, have)] = 1.0 - feats @ feats.T
    if scale is not None:
        dist = dist * scale
    np.fill_diagonal(dist, np.inf)
    blocked = ~feasible.astype(bool)
    size = np.ones(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    alive = np.ones(n, bool)
    while True:
        cand = np.where(blocked | ~alive[:, None] | ~alive[None], np.inf, dist)
        flat = int(np.argmin(cand))
        i, j = divmod(flat, n)
        if not np.isfinite(cand[i, j]) or cand[i, j] > threshold:
            break
        if margin > 0:
            rivals = _rivals(cand, blocked, alive, i, j, margin) + _rivals(cand, blocked, alive, j, i, margin)
            if rivals:
                for a, b in [(i, j), *rivals]:
                    blocked[a, b] = blocked[b, a] = True
                continue
        merged = members[i] + members[j]
        if group_feasible is not None and not group_feasible(merged):
            blocked[i, j] = blocked[j, i] = True
            continue
        # Lance-Williams update for average linkage; cannot-links are inherited by the union.
        dist[i] = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        dist[:, i] = dist[i]
        dist[i, i] = np.inf
        blocked[i] |= blocked[j]
        blocked[:, i] = blocked[i]
        size[i] += size[j]
        members[i] = merged
        alive[j] = False
        del members[j]
    labels = np.empty(n, np.int64)
    for label, root in enumerate(sorted(members, key=lambda r: min(members[r]))):
        labels[members[root]] = label
    return labels


def _rivals(
    cand: npt.NDArray[np.float64],
    blocked: npt.NDArray[np.bool_],
    alive: npt.NDArray[np.bool_],
    i: int,
    j: int,
    margin: float,
) -> list[tuple[int, int]]:
    """Pairs ``(i, k)`` where ``k`` is another person than ``j`` yet about as close to ``i`` as ``j`` is."""
    near = alive & (cand[i] <= cand[i, j] + margin) & blocked[j]
    near[[i, j]] = False
    return [(i, int(k)) for k in np.flatnonzero(near)]
