"""Camera calibration: fitting a homography to point pairs, and the floor-plan checks."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import FloorPlan
from pipeline.errors import ConfigError
from pipeline.store.calibration import compute_homography, fit_homography, validate_floor_bounds
from pipeline.store.geometry import apply_homography, validate_homography

# A perspective camera: floor square metres seen as a trapezoid (far side narrower, higher in the image).
TRUE_H = np.array([[0.02, 0.004, -1.0], [0.0, -0.05, 24.0], [0.0, 0.0008, 1.0]])
IMAGE_PTS = np.array([[100, 450], [540, 450], [450, 250], [190, 250], [320, 350], [400, 400]], float)
FLOOR_PTS = apply_homography(TRUE_H, IMAGE_PTS)
PLAN = FloorPlan(20, 20)


def test_recovers_a_known_homography():
    h = compute_homography(IMAGE_PTS, FLOOR_PTS, floor_plan=PLAN, image_size=(640, 480))
    probe = np.array([[10.0, 470.0], [320.0, 300.0], [600.0, 260.0]])
    np.testing.assert_allclose(apply_homography(h, probe), apply_homography(TRUE_H, probe), atol=1e-6)
    assert h[2, 2] == pytest.approx(1.0)


def test_four_points_are_enough_and_lists_work():
    h = compute_homography(IMAGE_PTS[:4].tolist(), FLOOR_PTS[:4].tolist())
    np.testing.assert_allclose(apply_homography(h, IMAGE_PTS), FLOOR_PTS, atol=1e-6)


@pytest.mark.parametrize(
    ("image_pts", "floor_pts", "kwargs", "message"),
    [
        (IMAGE_PTS[:3], FLOOR_PTS[:3], {}, "at least 4 point pairs, but got 3"),
        (IMAGE_PTS, FLOOR_PTS[:5], {}, "must pair up, but got 6 and 5"),
        (IMAGE_PTS[:, :1], FLOOR_PTS, {}, r"image_pts must have shape \(N, 2\)"),
        ([[0, 0], [1, 1], [2, 2], [3, 3]], FLOOR_PTS[:4], {}, "image_pts are collinear"),
        (IMAGE_PTS[:4], [[0, 0], [1, 0], [2, 0], [3, 0]], {}, "floor_pts are collinear"),
        (np.vstack([IMAGE_PTS[:3], [[np.nan, 1]]]), FLOOR_PTS[:4], {}, "image_pts contains NaN"),
        ([["a", "b"]] * 4, FLOOR_PTS[:4], {}, "image_pts must be a list of \\[x, y\\] points"),
        # One mistyped floor point among 6: the fit cannot explain it.
        (IMAGE_PTS, np.vstack([FLOOR_PTS[:5], FLOOR_PTS[5] + [3.0, 0.0]]), {}, "point pair . is .* m off"),
        # Points that land outside the floor plan.
        (IMAGE_PTS, FLOOR_PTS + np.array([30.0, 0.0]), {"floor_plan": PLAN}, "outside the floor plan"),
        (
            IMAGE_PTS,
            FLOOR_PTS,
            {"floor_plan": FloorPlan(5, 5), "image_size": (640, 480)},
            "outside the floor plan",
        ),
    ],
)
def test_compute_homography_errors(image_pts, floor_pts, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        compute_homography(image_pts, floor_pts, **kwargs)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2], [3, 4]], "must be a 3x3 matrix"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, float("inf")]], "NaN or infinite"),
        ([[1, 2, 3], [2, 4, 6], [0, 0, 1]], "singular"),
        ("not a matrix", "3x3 matrix of numbers"),
    ],
)
def test_validate_homography_errors(matrix, message):
    with pytest.raises(ConfigError, match=message):
        validate_homography(matrix)


def test_horizon_crossing_the_image_bottom_is_refused():
    # Projective scale changes sign across the bottom row: part of it maps "behind" the camera.
    h = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.01, 0, -3.0]])
    with pytest.raises(ConfigError, match="crosses the horizon"):
        validate_floor_bounds(h, FloorPlan(1000, 1000), image_size=(640, 480))
    validate_floor_bounds(h, None, image_size=(640, 480))  # no floor plan: nothing to check


def test_fit_homography_returns_each_pairs_error():
    h, errors = fit_homography(IMAGE_PTS, FLOOR_PTS)
    assert errors.shape == (len(IMAGE_PTS),)
    np.testing.assert_allclose(errors, 0, atol=1e-6)
    np.testing.assert_allclose(apply_homography(h, IMAGE_PTS), FLOOR_PTS, atol=1e-6)
