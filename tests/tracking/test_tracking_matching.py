"""Association maths: IoU / cosine tables, gating, min_cost_matching and the matching cascade."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.tracking.kalman import KalmanFilter, xyxy_to_xyah
from pipeline.tracking.matching import (
    INFTY_COST,
    cosine_distance,
    cosine_distance_matrix,
    gate_cost_matrix,
    iou_distance,
    matching_cascade,
    min_cost_matching,
)
from pipeline.tracking.track import Track
from tests.tracking.tracking_builders import make_detections, person_box, unit

KF = KalmanFilter()


def make_track(box, track_id=1, feature=None, time_since_update=1, nn_budget=None):
    mean, cov = KF.initiate(xyxy_to_xyah(np.asarray(box, np.float64)))
    track = Track(mean, cov, track_id, n_init=1, nn_budget=nn_budget, feature=feature)
    track.time_since_update = time_since_update
    return track


def table_metric(table):
    """A distance metric that looks costs up in a fixed (tracks x detections) table."""
    table = np.asarray(table, np.float64)

    def metric(tracks, detections, track_indices, detection_indices):
        return table[np.ix_(track_indices, detection_indices)]

    return metric


def test_iou_distance_uses_predicted_track_boxes():
    tracks = [make_track(person_box(100)), make_track(person_box(300))]
    tracks[0].mean[4] = 50.0  # moving right at 50 px/s ...
    tracks[0].mean, tracks[0].covariance = KF.predict(tracks[0].mean, tracks[0].covariance, 1.0)
    dets = make_detections([person_box(300), person_box(150), person_box(105)])
    cost = iou_distance(tracks, dets)
    assert cost.shape == (2, 3)
    assert cost[0, 1] == pytest.approx(0.0)  # ... so after 1 s it sits at x = 150
    assert cost[0, 2] == pytest.approx(1.0)
    assert cost[1, 0] == pytest.approx(0.0)
    assert cost[1, 2] == pytest.approx(1.0)
    assert iou_distance(tracks, dets, [], [0]).shape == (0, 1)


@pytest.mark.parametrize(
    ("galleries", "features", "expected"),
    [
        ([[unit(3, 0)]], [unit(3, 0), unit(3, 1)], [[0.0, 1.0]]),
        # min over the gallery: the second gallery entry matches the feature
        ([[unit(3, 0), unit(3, 1)]], [unit(3, 1)], [[0.0]]),
        ([[unit(3, 0)], [[-1.0, 0, 0]]], [unit(3, 0)], [[0.0], [2.0]]),
        ([], [unit(3, 0)], np.zeros((0, 1))),  # no tracks
        ([[unit(3, 0)]], np.zeros((0, 3)), np.zeros((1, 0))),  # no detections
    ],
)
def test_cosine_distance_matrix(galleries, features, expected):
    galleries = [np.asarray(g, np.float32) for g in galleries]
    got = cosine_distance_matrix(galleries, np.asarray(features, np.float32))
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_cosine_distance_tracks_without_gallery_are_infinite():
    tracks = [make_track(person_box(100), feature=np.float32(unit(2, 0))), make_track(person_box(200))]
    dets = make_detections([person_box(100)], embedding=[unit(2, 0)])
    cost = cosine_distance(tracks, dets)
    assert cost[0, 0] == pytest.approx(0.0) and cost[1, 0] == INFTY_COST


def test_cosine_distance_needs_embeddings():
    with pytest.raises(ValueError, match="embedding"):
        cosine_distance([make_track(person_box(100))], make_detections([person_box(100)]))


@pytest.mark.parametrize(
    ("det_x", "motion_weight", "expected"),
    [
        (100.0, 0.0, 0.3),  # same place: appearance cost unchanged
        (400.0, 0.0, INFTY_COST),  # far: gated out
        (100.0, 0.5, 0.15),  # mixing in a zero Mahalanobis distance halves the cost
        (106.0, 1.0, None),  # pure motion cost: in (0, 1] for a nearby box
    ],
)
def test_gate_cost_matrix(det_x, motion_weight, expected):
    tracks = [make_track(person_box(100))]
    dets = make_detections([person_box(det_x)])
    cost = gate_cost_matrix(KF, np.array([[0.3]]), tracks, dets, [0], [0], motion_weight=motion_weight)
    if expected is None:
        assert 0.0 < cost[0, 0] <= 1.0
    else:
        assert cost[0, 0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("shape", "motion_weight", "error"),
    [
        ((0, 0), 0.0, None),  # empty
        ((1, 1), 1.5, ValueError),
        ((2, 1), 0.0, ValueError),  # does not match the index lists
    ],
)
def test_gate_cost_matrix_validation(shape, motion_weight, error):
    tracks = [make_track(person_box(100))]
    dets = make_detections([person_box(100)])
    ti, di = ([], []) if shape == (0, 0) else ([0], [0])
    args = (KF, np.zeros(shape), tracks, dets, ti, di)
    if error is None:
        assert gate_cost_matrix(*args, motion_weight=motion_weight).shape == shape
    else:
        with pytest.raises(error):
            gate_cost_matrix(*args, motion_weight=motion_weight)


@pytest.mark.parametrize(
    ("table", "max_distance", "track_indices", "detection_indices", "expected"),
    [
        ([[0.1, 0.9], [0.8, 0.2]], 0.5, None, None, ([(0, 0), (1, 1)], [], [])),
        ([[0.1, 0.9], [0.8, 0.2]], 0.15, None, None, ([(0, 0)], [1], [1])),
        # the globally best assignment, not the greedy one
        ([[0.1, 0.2], [0.15, 0.9]], 0.5, None, None, ([(0, 1), (1, 0)], [], [])),
        ([[0.1, 0.9, 0.3]], 0.5, None, None, ([(0, 0)], [], [1, 2])),  # more detections
        ([[0.1], [0.05]], 0.5, None, None, ([(1, 0)], [0], [])),  # more tracks
        ([[0.1, 0.9], [0.8, 0.2]], 0.5, [1], [0, 1], ([(1, 1)], [], [0])),  # index subsets
        ([[0.6, 0.7]], 0.5, None, None, ([], [0], [0, 1])),  # nothing under threshold
        (np.zeros((2, 0)), 0.5, None, None, ([], [0, 1], [])),  # no detections
        (np.zeros((0, 2)), 0.5, None, None, ([], [], [0, 1])),  # no tracks
    ],
)
def test_min_cost_matching(table, max_distance, track_indices, detection_indices, expected):
    table = np.asarray(table, np.float64)
    tracks = [make_track(person_box(100 * k)) for k in range(table.shape[0])]
    dets = make_detections([person_box(100 * k) for k in range(table.shape[1])])
    got = min_cost_matching(table_metric(table), max_distance, tracks, dets, track_indices, detection_indices)
    assert (sorted(got[0]), sorted(got[1]), sorted(got[2])) == expected


def test_matching_cascade_lets_recent_tracks_choose_first():
    # Track 0 was missed for 3 steps but is the cheaper match; track 1 was seen last step and wins.
    tracks = [make_track(person_box(100), time_since_update=3), make_track(person_box(100), 2)]
    tracks[1].time_since_update = 1
    dets = make_detections([person_box(100)])
    metric = table_metric([[0.05], [0.1]])
    matches, unmatched_tracks, unmatched_dets = matching_cascade(metric, 0.5, 5, tracks, dets)
    assert matches == [(1, 0)] and unmatched_tracks == [0] and unmatched_dets == []
    # A global assignment would have picked the cheaper, older track.
    assert min_cost_matching(metric, 0.5, tracks, dets)[0] == [(0, 0)]


@pytest.mark.parametrize(
    ("cascade_depth", "n_dets", "expected_matches"),
    [
        (5, 2, [(0, 0), (1, 1)]),
        (1, 2, [(0, 0)]),  # track 1 (time_since_update=2) is beyond the cascade depth
        (5, 0, []),  # empty detections
    ],
)
def test_matching_cascade_depth(cascade_depth, n_dets, expected_matches):
    tracks = [make_track(person_box(100), 1, time_since_update=1), make_track(person_box(300), 2, None, 2)]
    dets = make_detections([person_box(100), person_box(300)][:n_dets])
    metric = table_metric(np.array([[0.1, 0.9], [0.9, 0.1]])[:, :n_dets])
    matches, unmatched_tracks, _ = matching_cascade(metric, 0.5, cascade_depth, tracks, dets)
    assert sorted(matches) == expected_matches
    assert sorted(unmatched_tracks) == sorted({0, 1} - {t for t, _ in matches})


@pytest.mark.parametrize(("n_tracks", "n_dets", "dim"), [(1, 1, 8), (30, 25, 1280), (3, 0, 16)])
def test_cosine_distance_matrix_matches_brute_force(n_tracks, n_dets, dim):
    # Large enough to be computed in several row blocks.
    rng = np.random.default_rng(0)

    def norm(a):
        return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)

    galleries = [norm(rng.normal(size=(int(rng.integers(1, 11)), dim))) for _ in range(n_tracks)]
    features = norm(rng.normal(size=(n_dets, dim))) if n_dets else np.zeros((0, dim), np.float32)
    expected = np.array([[np.min(1 - g @ f) for f in features] for g in galleries]).reshape(n_tracks, n_dets)
    np.testing.assert_allclose(cosine_distance_matrix(galleries, features), expected, atol=1e-5)
