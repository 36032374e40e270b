from __future__ import annotations

import numpy as np
import pytest

from pipeline.reid.refine import constrained_agglomerative
from tests.reid.reid_builders import unit

A1, A2, A3 = unit(1, 0, 0), unit(1, 0.1, 0), unit(1, 0, 0.1)
B1, B2 = unit(0, 1, 0), unit(0.1, 1, 0)


def all_feasible(n):
    return np.ones((n, n), bool)


@pytest.mark.parametrize(
    ("embeddings", "cannot", "expected"),
    [
        ([], [], []),
        ([A1], [], [0]),
        ([A1, B1, A2, B2], [], [0, 1, 0, 1]),
        # A cannot-link splits the closest pair.
        ([A1, A2], [(0, 1)], [0, 1]),
        # Cannot-links are inherited: 2 cannot join {0, 1} because it cannot be with 0.
        ([A1, A2, A3], [(0, 2)], [0, 0, 1]),
        # Items without an embedding stay alone.
        ([A1, None, A2], [], [0, 1, 0]),
    ],
)
def test_constrained_agglomerative(embeddings, cannot, expected):
    feasible = all_feasible(len(embeddings))
    for i, j in cannot:
        feasible[i, j] = feasible[j, i] = False
    labels = constrained_agglomerative(embeddings, feasible, threshold=0.2)
    assert labels.tolist() == expected


def test_group_check_and_threshold():
    feasible = all_feasible(3)
    # The group check forbids any cluster holding both 0 and 1.
    labels = constrained_agglomerative([A1, A2, A3], feasible, 0.2, lambda m: not {0, 1} <= set(m))
    assert labels[0] != labels[1]
    assert constrained_agglomerative([A1, B1], all_feasible(2), threshold=0.01).tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"feasible must have shape \(2, 2\)"):
        constrained_agglomerative([A1, B1], all_feasible(3), 0.2)


def test_scale_brings_a_pair_under_the_threshold():
    """Evidence beyond appearance (a unique hand-off) scales one pair's distance, nothing else."""
    far = unit(1, 0.7, 0)  # cosine distance to A1 about 0.18
    assert constrained_agglomerative([A1, far], all_feasible(2), threshold=0.15).tolist() == [0, 1]
    scale = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert constrained_agglomerative([A1, far], all_feasible(2), 0.15, scale=scale).tolist() == [0, 0]


def from_distances(dist: np.ndarray) -> list[np.ndarray]:
    """Unit vectors whose pairwise cosine distances are ``dist`` (a valid Gram matrix)."""
    values, vectors = np.linalg.eigh(1.0 - dist)
    assert values.min() > 0
    return list((vectors * np.sqrt(values)).astype(np.float64))


# a and m are seen together in one camera, b and k together in another: a cannot be m, b cannot be k.
# a is 0.05 from b and 0.07 from k; k has a close partner of its own (m, 0.06), b has none.
HANDOFFS = np.array(
    [
        [0.00, 0.05, 0.07, 0.12],  # a
        [0.05, 0.00, 0.12, 0.15],  # b
        [0.07, 0.12, 0.00, 0.06],  # k
        [0.12, 0.15, 0.06, 0.00],  # m
    ]
)


def two_cameras() -> np.ndarray:
    feasible = all_feasible(4)
    feasible[0, 3] = feasible[3, 0] = feasible[1, 2] = feasible[2, 1] = False
    return feasible


def test_margin_is_settled_by_the_rivals_own_partner():
    """a is within the margin of both b and k, but a-b with k-m beats a-k with b alone by far more than
    the margin: both pairs join. Without the margin the result is the same."""
    emb = from_distances(HANDOFFS)
    labels = constrained_agglomerative(emb, two_cameras(), threshold=0.2, margin=0.03)
    assert labels.tolist() == [0, 0, 1, 1]
    assert constrained_agglomerative(emb, two_cameras(), threshold=0.2).tolist() == [0, 0, 1, 1]


def test_margin_keeps_look_alike_pairs_apart():
    """When b has a partner as close as k's (b and m alike as a and k are), a-b/k-m and a-k/b-m cost
    nearly the same: a could be either, so a joins neither, and neither does the pair its rival is in."""
    dist = HANDOFFS.copy()
    dist[1, 3] = dist[3, 1] = 0.065  # b about as close to m as k is
    labels = constrained_agglomerative(from_distances(dist), two_cameras(), threshold=0.2, margin=0.03)
    assert len(set(labels.tolist())) == 4


def test_margin_waits_for_the_rival_to_be_settled():
    """Nothing settles a-b against k at first (k's partner m is nearly out of reach, b has none), so a-b
    waits. k then joins m, who looks nothing like a: the pair k+m is no longer within the margin of a,
    and a-b joins. (Blocking a-b on first sight, as before, left a and b apart.)"""
    dist = np.array(
        [
            [0.00, 0.05, 0.07, 0.25],  # a
            [0.05, 0.00, 0.12, 0.25],  # b
            [0.07, 0.12, 0.00, 0.195],  # k
            [0.25, 0.25, 0.195, 0.00],  # m
        ]
    )
    feasible = all_feasible(4)
    feasible[1, 2] = feasible[2, 1] = False  # b and k are seen together
    labels = constrained_agglomerative(from_distances(dist), feasible, threshold=0.2, margin=0.03)
    assert labels.tolist() == [0, 0, 1, 1]
