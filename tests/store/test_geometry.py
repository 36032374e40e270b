"""Polygon validation and homography application (the store model's geometry primitives)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.store.geometry import apply_homography, validate_polygon

SQUARE = [[0, 0], [4, 0], [4, 4], [0, 4]]


@pytest.mark.parametrize(
    ("points", "error"),
    [
        ([], "at least 3 points, but got 0"),
        ([[0, 0], [1, 1]], "at least 3 points, but got 2"),
        ([[0, 0], [1, 1], [2, 2]], "zero area"),
        ([[0, 0], [1, 0], [0, 0], [1, 0]], "zero area"),
        ([[0, 0], [4, 4], [4, 0], [0, 4]], "self-intersection"),
        ([[0, 0], [1, 0], [float("nan"), 1]], "NaN or infinite"),
        (SQUARE, None),
    ],
)
def test_validate_polygon(points, error):
    if error is None:
        assert validate_polygon(points, "zone 'Sq'").area == 16
    else:
        with pytest.raises(ConfigError, match=error) as info:
            validate_polygon(points, "zone 'Sq'")
        assert "zone 'Sq'" in str(info.value)


def test_apply_homography_projective():
    h = np.array([[1, 0, 0], [0, 1, 0], [0.1, 0, 1]])
    out = apply_homography(h, [[0, 0], [10, 5], [-10, 0]])
    assert out[0].tolist() == [0, 0]
    assert out[1] == pytest.approx([5, 2.5])
    assert np.isnan(out[2]).all()  # on the horizon


def test_apply_homography_empty_input():
    assert apply_homography(np.eye(3), np.zeros((0, 2))).shape == (0, 2)
