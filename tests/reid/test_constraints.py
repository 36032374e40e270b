from __future__ import annotations

import numpy as np
import pytest

from pipeline.reid.constraints import (
    feasibility_matrix,
    handoff_feasible,
    pair_feasible,
    seen_together_seconds,
    sequence_feasible,
)
from pipeline.reid.settings import ReidConfig
from tests.reid.reid_builders import make_tracklet as tk

CFG = ReidConfig(max_walking_speed=2.0, position_slack=0.5, colocation_radius=1.0)


@pytest.mark.parametrize(
    ("a", "b", "feasible"),
    [
        # Hand-off: 3 m in 2 s at <= 2 m/s (+0.5 m slack) is possible...
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 7, 9, (8, 0), (9, 0)), True),
        # ...10 m in 2 s is not (impossible transit).
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 7, 9, (15, 0), (16, 0)), False),
        # Slack covers foot-point noise at a touching hand-off.
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("A", 5, 9, (5.4, 0), (8, 0)), True),
        # Simultaneous in one camera: two people, wherever they are.
        (tk("A", 0, 5, (0, 0)), tk("A", 2, 6, (0.1, 0)), False),
        # Simultaneous in two cameras at different floor spots: two people.
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 2, 6, (9, 9), (9, 8)), False),
        # Simultaneous in two cameras at the same floor spot: overlapping views of one person.
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 2, 6, (2.2, 0.3), (6.2, 0.3)), True),
        # Overlapping views need floor positions: image pixels of two cameras cannot be compared.
        (tk("A", 0, 5, (0, 0), (5, 0), space="image"), tk("B", 2, 6, (2, 0), (6, 0)), False),
        # Sequential with image positions: nothing to measure, only time order matters.
        (tk("A", 0, 5, (0, 0), space="image"), tk("B", 6, 9, (500, 400), space="image"), True),
        # Overlap shorter than the tracker's hand-over jitter counts as touching.
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("A", 4.95, 9, (5, 0), (8, 0)), True),
        # Crossing into the next camera: both see part of the person for 0.4 s, 1.2 m apart (over the
        # colocation radius) but within walking reach over the overlap (2 m/s x 0.4 s + 0.5 m slack).
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 4.6, 9, (6.2, 0), (9, 0)), True),
        # ... not when the second starts out of reach,
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 4.6, 9, (7.0, 0), (9, 0)), False),
        # ... nor when they overlap longer than crossing a body width takes (1 s),
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 3.5, 9, (6.2, 0), (9, 0)), False),
        # ... nor when one is seen while the other is, start to end (not a walk from one into the other),
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 4.6, 4.9, (6.2, 0), (6.4, 0)), False),
        # ... nor in one camera (two people), nor without floor positions.
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("A", 4.6, 9, (5.5, 0), (9, 0)), False),
        (tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 4.6, 9, (6.2, 0), (9, 0), space="image"), False),
    ],
)
def test_pair_feasible(a, b, feasible):
    assert pair_feasible(a, b, CFG) is feasible
    assert pair_feasible(b, a, CFG) is feasible  # symmetric


# A track that lost its shopper at 3 s, was filled in until 4.96 s and then took a box 0.8 m further on (the
# Campus case in docs/benchmarks.md): the shopper's new track starts at 4.0 s where the old one was coasting.
LOST = tk("A", 0, 5, (0, 0), (5, 0), filled=(3.01, 4.97))


@pytest.mark.parametrize(
    ("b", "feasible"),
    [
        # The new track starts within reach of the filled-in position: one person handed over.
        (tk("A", 4.0, 9, (4.5, 0), (9, 0)), True),
        # ... not when it starts out of reach (2 m/s x 1 s + 0.5 m slack),
        (tk("A", 4.0, 9, (7.0, 0), (9, 0)), False),
        # ... nor when both were found together longer than hand-over jitter (0.1 s): from 2.5 to 3 s.
        (tk("A", 2.5, 9, (2.6, 0), (9, 0)), False),
    ],
)
def test_overlap_only_where_filled_in(b, feasible):
    assert pair_feasible(LOST, b, CFG) is feasible
    assert pair_feasible(b, LOST, CFG) is feasible


def test_seen_together_counts_found_boxes_only():
    full = tk("A", 4.0, 9, (4.5, 0))
    assert seen_together_seconds(LOST, full) == pytest.approx(0.0)  # one common frame, at 5.0 s
    assert seen_together_seconds(tk("A", 0, 5), full) == pytest.approx(1.0)  # no box filled in: overlap
    gappy = tk("A", 2.0, 9, filled=(2.5, 8))
    assert seen_together_seconds(LOST, gappy) == pytest.approx(0.48, abs=1e-6)  # frames 2.0 .. 2.48
    assert seen_together_seconds(gappy, LOST) == pytest.approx(0.48, abs=1e-6)
    assert seen_together_seconds(LOST, tk("A", 6, 9, filled=(6, 7))) == -np.inf
    ghost = tk("A", 4, 4.5, filled=(3, 5))  # every box filled in
    assert seen_together_seconds(tk("A", 0, 5, filled=(1, 2)), ghost) == -np.inf
    assert seen_together_seconds(ghost, tk("A", 0, 5, filled=(1, 2))) == -np.inf


def test_feasibility_matrix_matches_pairwise():
    rng = np.random.default_rng(3)
    cams = ["A", "B", "C"]
    tracklets = []
    for _ in range(25):
        t0 = float(rng.uniform(0, 30))
        p0 = rng.uniform(0, 10, 2)
        tracklets.append(
            tk(
                cams[rng.integers(3)],
                t0,
                t0 + float(rng.uniform(0.2, 6)),
                tuple(p0),
                tuple(p0 + rng.normal(0, 3, 2)),
                filled=(t0 + 0.1, t0 + 1.0) if rng.random() < 0.4 else None,
            )
        )
    matrix = feasibility_matrix(tracklets, CFG)
    expected = np.array(
        [
            [i == j or pair_feasible(a, b, CFG) for j, b in enumerate(tracklets)]
            for i, a in enumerate(tracklets)
        ]
    )
    assert matrix.shape == (25, 25)
    np.testing.assert_array_equal(matrix, expected)
    assert 0 < matrix.sum() < 25 * 25  # the random walk exercises both outcomes


def test_feasibility_matrix_empty():
    assert feasibility_matrix([], CFG).shape == (0, 0)


@pytest.mark.parametrize(
    ("config", "gap", "feasible"),
    [
        (ReidConfig(), 5.0, True),  # nothing configured
        (ReidConfig(adjacency={"A": frozenset({"B"}), "B": frozenset({"A"})}), 5.0, True),
        (ReidConfig(adjacency={"A": frozenset({"C"}), "C": frozenset({"A"})}), 5.0, False),
        (ReidConfig(transit_time={("A", "B"): (1.0, 10.0), ("B", "A"): (1.0, 10.0)}), 5.0, True),
        (ReidConfig(transit_time={("A", "B"): (1.0, 10.0), ("B", "A"): (1.0, 10.0)}), 0.5, False),
        (ReidConfig(transit_time={("A", "B"): (1.0, 10.0), ("B", "A"): (1.0, 10.0)}), 20.0, False),
    ],
)
def test_handoff_adjacency_and_transit_windows(config, gap, feasible):
    prev = tk("A", 0, 5, (0, 0), (1, 0), space="image")
    nxt = tk("B", 5 + gap, 40, (0, 0), space="image")
    assert handoff_feasible(prev, nxt, config) is feasible
    assert sequence_feasible([nxt, prev], config) is feasible


def test_crossing_between_cameras_is_a_handoff_for_adjacency_and_transit():
    """Tracklets whose ends overlap as a person crosses from A into B are a direct hand-off: camera
    adjacency applies, and a transit window counts the overlap as no time at all."""
    prev, nxt = tk("A", 0, 5, (0, 0), (5, 0)), tk("B", 4.6, 9, (6.2, 0), (9, 0))
    assert not sequence_feasible(
        [prev, nxt], ReidConfig(adjacency={"A": frozenset({"C"}), "C": frozenset({"A"})})
    )
    assert sequence_feasible(
        [prev, nxt], ReidConfig(adjacency={"A": frozenset({"B"}), "B": frozenset({"A"})})
    )
    window = {("A", "B"): (0.0, 10.0), ("B", "A"): (0.0, 10.0)}
    assert sequence_feasible([prev, nxt], ReidConfig(transit_time=window))
    # Overlapping views seen together for longer are not a hand-off: adjacency does not apply.
    both = tk("B", 1, 9, (1, 0), (9, 0))
    assert sequence_feasible(
        [prev, both], ReidConfig(adjacency={"A": frozenset({"C"}), "C": frozenset({"A"})})
    )


def test_sequence_checks_only_direct_handoffs():
    # A -> B -> C with adjacency A-B, B-C: A and C are never a direct hand-off.
    config = ReidConfig(adjacency={"A": frozenset({"B"}), "B": frozenset({"A", "C"}), "C": frozenset({"B"})})
    a, b, c = tk("A", 0, 2), tk("B", 3, 5), tk("C", 6, 8)
    assert sequence_feasible([a, b, c], config)
    assert not sequence_feasible([a, c], config)
    assert sequence_feasible([], config)


def test_a_glimpse_in_an_overlapping_view_is_not_the_previous_camera():
    # A walks on into C; B's overlapping view saw them for a second on the way. The hand-off into C is
    # from A (adjacent), not from B (not adjacent to C, ended 9 s before).
    config = ReidConfig(adjacency={"A": frozenset({"B", "C"}), "B": frozenset({"A"}), "C": frozenset({"A"})})
    a, b, c = tk("A", 0, 10, (0, 0), (5, 0)), tk("B", 1, 2, (0.5, 0), (1, 0)), tk("C", 11, 15, (6, 0), (9, 0))
    assert sequence_feasible([a, b, c], config)
    assert not sequence_feasible([b, c], config)


@pytest.mark.parametrize(
    ("glimpse_xy", "feasible"),
    [
        ((5.0, 0), True),  # where the long tracklet was at that moment: maybe the same person
        ((9.5, 0), False),  # 4.5 m from it then, though within reach of where it ends (10 m)
    ],
)
def test_a_glimpse_inside_a_tracklet_is_checked_against_where_it_was_then(glimpse_xy, feasible):
    long_walk = tk("A", 0, 10, (0, 0), (10, 0))
    glimpse = tk("B", 5.0, 5.08, glimpse_xy)  # 2 frames: shorter than a simultaneous overlap counts
    assert pair_feasible(long_walk, glimpse, CFG) is feasible
    assert pair_feasible(glimpse, long_walk, CFG) is feasible
    matrix = feasibility_matrix([glimpse, long_walk], CFG)
    assert matrix[0, 1] == matrix[1, 0] == feasible


def test_unique_handoff_is_a_lone_walk_between_two_cameras():
    from pipeline.reid.constraints import unique_handoffs

    left = tk("A", 0, 5, (0, 0), (3, 0))  # walks right, leaves camera A at x = 3
    right = tk("B", 5.5, 9, (3.6, 0), (6, 0))  # appears in camera B half a second later, 0.6 m on
    far = tk("B", 5.5, 9, (20, 0), (21, 0))  # someone else entering B at its far end: out of reach
    unique = unique_handoffs([left, right, far], CFG)
    assert unique[0, 1] and unique[1, 0]  # symmetric
    assert not unique[0, 2] and not unique[1, 2]


def test_two_people_crossing_together_give_no_unique_handoff():
    """Wherever evidence could pick the wrong one of two, there is none."""
    from pipeline.reid.constraints import unique_handoffs

    a1 = tk("A", 0, 5, (0, 0), (3, 0))
    a2 = tk("A", 0, 5.2, (0, 0.5), (3, 0.5))  # a second walker, side by side
    b1 = tk("B", 5.5, 9, (3.6, 0), (6, 0))
    b2 = tk("B", 5.6, 9, (3.6, 0.5), (6, 0.5))
    assert not unique_handoffs([a1, a2, b1, b2], CFG).any()


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (tk("B", 9.0, 12, (3.6, 0), (6, 0)), "starts after the hand-off window (3 s)"),
        (tk("A", 5.5, 9, (3.6, 0), (6, 0)), "same camera: a fragment, not a hand-off"),
        (tk("B", 5.5, 9, (3.6, 0), (6, 0), space="image"), "no floor position to check the walk"),
    ],
)
def test_no_unique_handoff(second, why):
    from pipeline.reid.constraints import unique_handoffs

    first = tk("A", 0, 5, (0, 0), (3, 0))
    assert not unique_handoffs([first, second], ReidConfig(handoff_window_s=3.0)).any(), why
