"""On-site calibration of the cross-camera threshold: the pure fit, pair mining, and the database round trip."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.reid.calibrate import (
    MIN_DIFF,
    MIN_SAME,
    different_person_pairs,
    fit_threshold,
    same_person_distances,
)
from tests.reid.reid_builders import make_tracklet as tk
from tests.reid.reid_builders import unit


def test_fit_threshold_meets_the_target_on_fresh_samples() -> None:
    rng = np.random.default_rng(1)
    same, diff = rng.normal(0.25, 0.06, 300), rng.normal(0.65, 0.08, 400)
    cal = fit_threshold(same, diff, target=0.01)
    assert cal.source == "site" and cal.n_same == 300 and cal.n_diff == 400
    assert cal.est_false_join <= 0.01 + 1e-9
    # Held-out check: new samples from the same distributions.
    fresh = rng.normal(0.65, 0.08, 100_000)
    assert (fresh <= cal.threshold).mean() <= 0.02
    assert cal.est_join > 0.9  # the two populations are well apart: most same-person pairs still join
    assert f"{cal.threshold:.3f}" in cal.note


def test_a_stricter_target_gives_a_lower_threshold() -> None:
    rng = np.random.default_rng(2)
    same, diff = rng.normal(0.3, 0.1, 200), rng.normal(0.6, 0.1, 200)
    assert fit_threshold(same, diff, 0.001).threshold < fit_threshold(same, diff, 0.05).threshold


@pytest.mark.parametrize(("n_same", "n_diff"), [(0, 0), (MIN_SAME - 1, 500), (500, MIN_DIFF - 1)])
def test_too_little_data_falls_back_and_says_so(n_same: int, n_diff: int) -> None:
    cal = fit_threshold(np.full(n_same, 0.2), np.full(n_diff, 0.7))
    assert cal.threshold is None and cal.source == "fixed" and "built-in" in cal.note


@pytest.mark.parametrize("target", [0.0, 0.5, -1.0])
def test_fit_threshold_rejects_bad_target(target: float) -> None:
    with pytest.raises(ValueError, match="target"):
        fit_threshold([0.1] * 20, [0.8] * 50, target)


def test_same_person_distance_compares_early_and_late_halves() -> None:
    a, b = unit(1, 0, 0), unit(0, 1, 0)
    chunks = [(0.0, 0.5, a, 3), (0.5, 1.0, a, 3), (3.0, 3.5, b, 3), (3.5, 4.0, b, 3)]
    assert same_person_distances(chunks) == pytest.approx(1.0)
    assert same_person_distances([(0.0, 0.5, a, 3), (0.5, 1.0, a, 2)]) is None  # too short: no gap
    assert same_person_distances([(0.0, 0.5, None, 0), (3.0, 3.5, a, 2)]) is None  # one embedded chunk
    assert same_person_distances([]) is None


def test_different_person_pairs_are_simultaneous_on_one_camera_or_infeasible() -> None:
    e = unit(1, 0, 0)
    t = [
        tk("A", 0, 10, embedding=e),
        tk("A", 5, 12, embedding=e),  # together with 0 on camera A for 5 s
        tk("A", 11, 20, embedding=e),  # with 1 for 1 s, never with 0
        tk("B", 0, 10, embedding=e),  # another camera: no evidence without space/time
    ]
    assert different_person_pairs(t) == [(0, 1), (1, 2)]
    feasible = np.ones((4, 4), bool)
    feasible[0, 3] = feasible[3, 0] = False
    assert different_person_pairs(t, feasible) == [(0, 1), (0, 3), (1, 2)]
    assert different_person_pairs([]) == []
    # Together only where one was filled in over detector misses: no evidence of two people.
    t[1] = tk("A", 5, 12, embedding=e, filled=(5, 10.4))
    assert different_person_pairs(t) == [(1, 2)]


def test_unusable_evidence_falls_back_instead_of_disabling_joins() -> None:
    """Duplicated footage: 'different' pairs as close as same-person pairs would give a threshold near 0."""
    rng = np.random.default_rng(3)
    same = rng.normal(0.3, 0.05, 100)
    diff = np.concatenate([np.zeros(20), rng.normal(0.6, 0.1, 200)])
    cal = fit_threshold(same, diff)
    assert cal.threshold is None and cal.source == "fixed" and "rejected" in cal.note
