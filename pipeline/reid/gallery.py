"""The shopper gallery: several appearance views per known shopper, and distances to it.

A shopper is kept as up to ``max_views`` L2-normalised embeddings (one per sufficiently different
view: front, back, another camera's angle) rather than one average, because the average of a front and
a back view resembles neither. A new tracklet's distance to a shopper is the cosine distance to the
nearest view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from pipeline.tracking.matching import INFTY_COST, cosine_distance_matrix


def _normalise(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class Shopper:
    """One known shopper: its views and the tracklets (indices into the run's list) assigned to it.

    Attributes:
        views: (K, D) float32 L2-normalised embeddings, K >= 0 (0 = no appearance known).
        weights: (K,) how many tracklets each view averages.
        members: tracklet indices, in assignment order.
    """

    views: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float64]
    members: tuple[int, ...] = field(default_factory=tuple)


def new_shopper(member: int, embedding: npt.NDArray[np.float32] | None) -> Shopper:
    """A shopper seen once, in tracklet ``member``."""
    if embedding is None:
        return Shopper(np.zeros((0, 0), np.float32), np.zeros(0), (member,))
    return Shopper(_normalise(np.asarray(embedding, np.float64))[None], np.ones(1), (member,))


def add_view(
    views: npt.NDArray[np.float32],
    weights: npt.NDArray[np.float64],
    embedding: npt.NDArray[np.float32],
    max_views: int,
    merge_distance: float,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """Add one embedding to a view set; returns new ``(views, weights)``.

    The embedding is averaged into its nearest view when closer than ``merge_distance`` (the same
    view again), else kept as a new view; beyond ``max_views`` the two closest views are merged.
    """
    emb = _normalise(np.asarray(embedding, np.float64))
    if len(views) == 0:
        return emb[None], np.ones(1)
    dist = 1.0 - views @ emb
    k = int(np.argmin(dist))
    if dist[k] < merge_distance:
        views = views.copy()
        weights = weights.copy()
        views[k] = _normalise(views[k] * weights[k] + emb)
        weights[k] += 1
        return views, weights
    views = np.vstack([views, emb[None]])
    weights = np.append(weights, 1.0)
    if len(views) > max_views:
        pair = 1.0 - views @ views.T
        np.fill_diagonal(pair, np.inf)
        i, j = sorted(np.unravel_index(int(np.argmin(pair)), pair.shape))
        views[i] = _normalise(views[i] * weights[i] + views[j] * weights[j])
        weights[i] += weights[j]
        views = np.delete(views, j, axis=0)
        weights = np.delete(weights, j)
    return views, weights


def join(
    shopper: Shopper,
    member: int,
    embedding: npt.NDArray[np.float32] | None,
    max_views: int,
    merge_distance: float,
) -> Shopper:
    """``shopper`` with tracklet ``member`` added (and its embedding as a view)."""
    if embedding is None:
        return replace(shopper, members=(*shopper.members, member))
    views = shopper.views if shopper.views.size else np.zeros((0, len(embedding)), np.float32)
    views, weights = add_view(views, shopper.weights, embedding, max_views, merge_distance)
    return Shopper(views, weights, (*shopper.members, member))


def gallery_distance(
    shoppers: Sequence[Shopper], embeddings: Sequence[npt.NDArray[np.float32] | None]
) -> npt.NDArray[np.float64]:
    """(S, M) cosine distance from each shopper's nearest view to each embedding.

    Shoppers without views and missing embeddings get :data:`INFTY_COST`.
    """
    cost = np.full((len(shoppers), len(embeddings)), INFTY_COST)
    rows = [i for i, s in enumerate(shoppers) if s.views.size]
    cols = [j for j, e in enumerate(embeddings) if e is not None]
    if rows and cols:
        feats = np.stack([np.asarray(embeddings[j], np.float32) for j in cols])
        cost[np.ix_(rows, cols)] = cosine_distance_matrix([shoppers[i].views for i in rows], feats)
    return cost
