"""The shopper gallery and online assignment on synthetic embeddings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pipeline.reid.assign import assign, assign_online, stable_ids
from pipeline.reid.gallery import add_view, gallery_distance, join, new_shopper
from pipeline.reid.settings import ReidConfig
from tests.reid.reid_builders import make_tracklet as tk
from tests.reid.reid_builders import unit

RED, RED2, BLUE, GREEN = unit(1, 0, 0, 0), unit(1, 0.1, 0, 0), unit(0, 1, 0, 0), unit(0, 0, 1, 0)
CFG = ReidConfig(match_threshold=0.2, max_walking_speed=2.0, position_slack=0.5)


def labels_of(tracklets, mode="full", config=CFG):
    labels, _ = assign_online(tracklets, config, mode)
    return labels.tolist()


def test_match_joins_known_shopper():
    # Leaves camera A at x=5 m, appears in B 1 s later at x=6 m with the same look.
    a = tk("A", 0, 5, (0, 0), (5, 0), RED)
    b = tk("B", 6, 9, (6, 0), (9, 0), RED2)
    assert labels_of([a, b]) == [0, 0]


def test_no_match_creates_new_shopper():
    a = tk("A", 0, 5, (0, 0), (5, 0), RED)
    b = tk("B", 6, 9, (6, 0), (9, 0), BLUE)
    labels, shoppers = assign_online([a, b], CFG, "full")
    assert labels.tolist() == [0, 1]
    assert len(shoppers) == 2 and shoppers[1].members == (1,)  # stored for later comparison


def test_impossible_transit_is_refused_in_full_mode_only():
    # Same look, but 20 m in 1 s.
    a = tk("A", 0, 5, (0, 0), (5, 0), RED)
    b = tk("B", 6, 9, (25, 0), (26, 0), RED2)
    assert labels_of([a, b], "full") == [0, 1]
    assert labels_of([a, b], "appearance") == [0, 0]


def test_simultaneous_presence_in_two_places_is_two_shoppers():
    a = tk("A", 0, 10, (0, 0), (5, 0), RED)
    b = tk("B", 2, 12, (20, 5), (20, 9), RED2)  # at the same time, 15 m away
    c = tk("B", 2, 12, (1, 0), (6, 0), RED2)  # at the same time, same spot: overlapping view
    assert labels_of([a, b]) == [0, 1]
    assert labels_of([a, c]) == [0, 0]


def test_shopper_takes_one_tracklet_per_batch():
    # Two look-alikes finish at the same time: the known shopper can be only one of them.
    known = tk("A", 0, 2, (0, 0), (1, 0), RED)
    x = tk("B", 3, 6, (2, 0), (3, 0), RED2)
    y = tk("C", 3, 6, (2, 1), (3, 1), RED2)
    labels = labels_of([known, x, y], "appearance", replace(CFG, match_margin=0.0))
    assert labels[0] in labels[1:] and labels[1] != labels[2]


def test_ambiguous_candidates_are_joined_to_neither():
    # With a margin, two equally close look-alikes make the match ambiguous: a wrong join costs more
    # than a missed one, so the known shopper takes neither.
    known = tk("A", 0, 2, (0, 0), (1, 0), RED)
    x = tk("B", 3, 6, (2, 0), (3, 0), RED2)
    y = tk("C", 3, 6, (2, 1), (3, 1), RED2)
    assert labels_of([known, x, y], "appearance", replace(CFG, match_margin=0.5)) == [0, 1, 2]
    assert labels_of([known, x], "appearance", replace(CFG, match_margin=0.5)) == [0, 0]


def test_refuse_ambiguous_gates_only_close_rivals():
    from pipeline.reid.assign import refuse_ambiguous
    from pipeline.tracking.matching import INFTY_COST

    cost = np.array([[0.10, 0.30], [0.12, 0.60], [INFTY_COST, 0.31]])
    out = refuse_ambiguous(cost, 0.05)
    assert (out[:2, 0] == INFTY_COST).all()  # column 0: 0.10 vs 0.12 is ambiguous
    assert (out[[0, 2], 1] == INFTY_COST).all() and out[1, 1] == 0.60  # column 1: 0.30 vs 0.31
    assert (refuse_ambiguous(cost, 0.0) == cost).all()
    assert refuse_ambiguous(np.zeros((0, 3)), 0.05).shape == (0, 3)


def test_multi_view_gallery_matches_either_view():
    front, back = unit(1, 0, 0, 0), unit(0, 0, 0, 1)
    shopper = join(new_shopper(0, front), 1, back, max_views=4, merge_distance=0.1)
    assert shopper.views.shape == (2, 4)  # two views, not one average
    dist = gallery_distance([shopper], [unit(0.05, 0, 0, 1), GREEN, None])
    assert dist[0, 0] < 0.01 and dist[0, 1] == pytest.approx(1.0) and dist[0, 2] >= 1e4


@pytest.mark.parametrize(
    ("existing", "new", "expected_views"),
    [
        ([], RED, 1),  # empty gallery
        ([RED], RED2, 1),  # same view again: averaged in
        ([RED], BLUE, 2),  # a new view
        ([RED, BLUE], GREEN, 2),  # over max_views=2: the two closest are merged
    ],
)
def test_add_view(existing, new, expected_views):
    views = np.array(existing, np.float32).reshape(len(existing), 4)
    weights = np.ones(len(existing))
    out, w = add_view(views, weights, new, max_views=2, merge_distance=0.1)
    assert len(out) == expected_views and w.sum() == len(existing) + 1
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_independent_and_empty():
    a, b = tk("A", 0, 5, embedding=RED), tk("B", 6, 9, embedding=RED)
    assert labels_of([a, b], "independent") == [0, 1]
    assert labels_of([], "full") == []
    with pytest.raises(ValueError, match="unknown reid mode 'magic'"):
        assign_online([a], CFG, "magic")


def test_tracklet_without_embedding_is_its_own_shopper():
    a = tk("A", 0, 5, (0, 0), (5, 0), RED)
    b = tk("B", 6, 9, (6, 0), (9, 0), None)
    assert labels_of([a, b]) == [0, 1]


def test_refinement_merges_what_online_split():
    # In finishing order a, b, c: b is too far from a alone (0.14 > 0.1), so online opens a second
    # shopper, which c then joins. With the whole run in view, c bridges a and b (average link 0.09).
    # Appearance alone (no hand-off evidence): these lone walks would otherwise be unique hand-offs.
    t = [
        tk("A", 0, 2, (0, 0), (1, 0), unit(1, 0.0, 0, 0)),
        tk("B", 3, 5, (2, 0), (3, 0), unit(1, 0.6, 0, 0)),
        tk("C", 6, 8, (4, 0), (5, 0), unit(1, 0.3, 0, 0)),
    ]
    config = ReidConfig(match_threshold=0.1, refine_threshold=0.1, match_margin=0.0, handoff_discount=1.0)
    online = assign(t, config, "full", refine_pass=False)
    refined = assign(t, config, "full", refine_pass=True)
    assert online.labels.tolist() == [0, 1, 1] and not online.refined
    assert refined.labels.tolist() == [0, 0, 0] and refined.refined and refined.online_shoppers == 2
    assert len(refined.shoppers) == 1 and refined.shoppers[0].members == (0, 1, 2)
    # Refinement runs only in mode full.
    assert not assign(t, config, "appearance", refine_pass=True).refined


@pytest.mark.parametrize(
    ("old", "labels", "expected"),
    [
        ([], [], {}),
        ([7, 7, 9], [0, 0, 1], {0: 7, 1: 9}),  # same assignment: same ids
        ([7, 8, 9], [0, 0, 1], {0: 7, 1: 9}),  # merge keeps the id with most points (7 has 5 > 8 has 1)
        ([7, 7, 7], [0, 1, 1], {0: 7, 1: None}),  # split: the part with more points (5 > 1 + 3) keeps it
        ([None, 4, None], [0, 1, 2], {0: None, 1: 4, 2: None}),
    ],
)
def test_stable_ids(old, labels, expected):
    weights = [5, 1, 3][: len(old)]
    assert stable_ids(old, np.array(labels, np.int64), weights) == expected


def test_a_unique_handoff_joins_what_appearance_alone_leaves_apart():
    """Space/time as evidence: a lone walker leaving camera A and entering camera B half a second later
    is joined at a distance above the threshold; the same looks with a second walker alongside are not."""
    from pipeline.reid.assign import assign
    from pipeline.reid.settings import ReidConfig
    from tests.reid.reid_builders import make_tracklet, unit

    a, b = unit(1, 0, 0), unit(1, 0.7, 0)  # cosine distance about 0.18
    cfg = ReidConfig(match_threshold=0.15, handoff_discount=0.5)
    lone = [make_tracklet("A", 0, 5, (0, 0), (3, 0), a), make_tracklet("B", 5.5, 9, (3.6, 0), (6, 0), b)]
    for refine in (False, True):
        assert len(set(assign(lone, cfg, "full", refine).labels.tolist())) == 1
        off = assign(lone, ReidConfig(match_threshold=0.15, handoff_discount=1.0), "full", refine)
        assert len(set(off.labels.tolist())) == 2
    c, d = unit(0, 1, 0), unit(0, 1, 0.1)
    pair = [
        *lone,
        make_tracklet("A", 0, 5.2, (0, 0.5), (3, 0.5), c),
        make_tracklet("B", 5.6, 9, (3.6, 0.5), (6, 0.5), d),
    ]
    labels = assign(pair, cfg, "full", True).labels
    assert labels[0] != labels[1]  # not unique any more: appearance alone decides, and refuses
