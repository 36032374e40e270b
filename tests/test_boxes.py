"""Box geometry in xyxy pixels (pipeline.boxes): IoU, intersection and area tables, the frame border."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.boxes import border_normals, box_area, box_intersection, box_iou, paired_iou, touches_border


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([[0, 0, 10, 10]], [[0, 0, 10, 10]], [[1.0]]),
        ([[0, 0, 10, 10]], [[20, 20, 30, 30]], [[0.0]]),
        ([[0, 0, 10, 10]], [[5, 0, 15, 10]], [[50 / 150]]),
        ([[0, 0, 10, 10]], [[2, 2, 8, 8], [0, 0, 20, 10]], [[0.36, 0.5]]),
        ([[0, 0, 0, 0]], [[0, 0, 0, 0]], [[0.0]]),  # degenerate boxes: no division by zero
        (np.zeros((0, 4)), [[0, 0, 1, 1]], np.zeros((0, 1))),  # empty
    ],
)
def test_box_iou(a, b, expected):
    np.testing.assert_allclose(box_iou(a, b), expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([[0, 0, 10, 10]], [[5, 5, 20, 20]], [[25.0]]),
        ([[0, 0, 10, 10]], [[10, 0, 20, 10]], [[0.0]]),  # touching edges share no area
        (np.zeros((0, 4)), np.zeros((0, 4)), np.zeros((0, 0))),  # empty
    ],
)
def test_box_intersection(a, b, expected):
    np.testing.assert_allclose(box_intersection(a, b), expected)


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [([[0, 0, 10, 5]], [50.0]), ([[10, 10, 0, 0]], [0.0]), (np.zeros((0, 4)), np.zeros(0))],
)
def test_box_area(boxes, expected):
    np.testing.assert_allclose(box_area(boxes), expected)


def test_paired_iou_is_the_diagonal_of_box_iou():
    rng = np.random.default_rng(0)
    a = np.sort(rng.uniform(0, 100, (20, 4)).reshape(20, 2, 2), axis=1).reshape(20, 4)
    b = np.sort(rng.uniform(0, 100, (20, 4)).reshape(20, 2, 2), axis=1).reshape(20, 4)
    np.testing.assert_allclose(paired_iou(a, b), np.diag(box_iou(a, b)))
    assert paired_iou(np.zeros((0, 4)), np.zeros((0, 4))).shape == (0,)
    with pytest.raises(ValueError, match="as many boxes"):
        paired_iou(a, b[:3])


@pytest.mark.parametrize(
    ("box", "sides"),
    [
        ([100, 100, 200, 300], []),
        ([0, 100, 50, 300], [[-1, 0]]),  # left
        ([600, 400, 640, 480], [[1, 0], [0, 1]]),  # right and bottom
        ([100, 0.5, 200, 300], [[0, -1]]),  # top, within the 1 px margin
    ],
)
def test_border_normals_are_the_outward_normals_of_the_sides_touched(box, sides):
    normals = border_normals(box, (640, 480))
    assert normals.shape == (len(sides), 2)
    assert normals.tolist() == sides
    assert touches_border(box, (640, 480)) is bool(sides)
