from __future__ import annotations

import numpy as np
import pytest

from pipeline.reid.split import SPLIT_THRESHOLDS, split_chunks, split_threshold

A = np.array([1.0, 0.0, 0.0])
A2 = np.array([0.98, 0.2, 0.0])  # ~0.02 from A
B = np.array([0.0, 1.0, 0.0])
C = np.array([0.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("chunks", "starts"),
    [
        ([], []),
        ([A], [0]),
        ([None], [0]),
        ([None, None], [0]),
        ([A, A2, A, A2], [0]),  # one person: no switch
        ([A, A, B, B], [0, 2]),  # abrupt switch
        ([A, B], [0]),  # a different last chunk alone is not confirmed: no switch
        ([A, A, B], [0]),
        ([A, A, B, B, C, C], [0, 2, 4]),  # two switches
        ([A, A, B, A, A], [0]),  # one odd chunk between the same person's: not a switch
        ([A, None, B, None, B], [0, 2]),  # chunks without embedding stay in the part before them
        ([None, A, A, B, B], [0, 3]),
        ([A, np.zeros(3), A], [0]),  # an all-zero embedding counts as none
    ],
)
def test_split_chunks(chunks, starts):
    assert split_chunks(chunks, 0.3) == starts


def test_split_compares_with_the_part_mean():
    # A slow drift stays within the threshold of the running mean; a jump from it does not.
    drift = [np.array([1.0, 0.1 * k, 0.0]) for k in range(4)]
    assert split_chunks(drift, 0.1) == [0]
    assert split_chunks([*drift, B, B], 0.1) == [0, 4]


@pytest.mark.parametrize(("threshold", "starts"), [(0.05, [0, 2]), (0.5, [0])])
def test_split_threshold_decides(threshold, starts):
    near = np.array([0.9, 0.436, 0.0])  # cosine distance ~0.1 from A
    assert split_chunks([A, A, near, near], threshold) == starts


def test_split_thresholds_per_embedder():
    assert split_threshold("omz") == SPLIT_THRESHOLDS["omz"]
    assert split_threshold("hist") == SPLIT_THRESHOLDS["hist"]
    assert split_threshold(None) is None and split_threshold("vae") is None


@pytest.mark.parametrize(
    ("possible", "starts"),
    [
        ({2}, [0, 2]),  # a switch was possible at the change
        ({1}, [0, 2]),  # ... or in the chunk before it (the split waits for the next chunk to confirm)
        (set(), [0]),  # nowhere: the change of look is the same person's
        ({4}, [0]),  # later contact does not split the same person's new look (compared with B now)
    ],
)
def test_split_only_where_a_switch_was_possible(possible, starts):
    def allowed(i: int) -> bool:
        return i in possible or i - 1 in possible

    assert split_chunks([A, A, B, B, B, B], 0.3, allowed) == starts
    assert split_chunks([A, A, B, B, C, C], 0.3, lambda i: i == 4) == [0, 4]  # B's look, then a switch to C
