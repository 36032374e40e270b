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
