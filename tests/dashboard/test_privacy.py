"""Face blurring: head from pose keypoints, else the top band of the box; nothing else changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.privacy import TOP_BAND, blur_people, head_boxes


def test_head_box_falls_back_to_top_band():
    heads = head_boxes(np.array([[10, 20, 50, 120]], np.float32))
    np.testing.assert_allclose(heads, [[10, 20, 50, 20 + TOP_BAND * 100]])


def test_head_box_follows_visible_head_keypoints():
    kp = np.zeros((17, 3), np.float32)
    kp[:5] = [[30, 10, 0.9], [28, 8, 0.9], [32, 8, 0.9], [26, 9, 0.2], [34, 9, 0.9]]  # one ear hidden
    (head,) = head_boxes(np.array([[10, 20, 50, 120]], np.float32), [kp])
    assert head[1] < 8 and head[0] < 28 and head[2] > 34  # covers the keypoints above the box top
    assert head[3] >= 20 + TOP_BAND * 100  # and never less than the top band


@pytest.mark.parametrize("boxes", [np.zeros((0, 4)), np.array([[-50, -50, -10, -10]])])
def test_no_people_or_off_image_leaves_image_unchanged(boxes):
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    np.testing.assert_array_equal(blur_people(image, boxes), image)


def test_blur_changes_only_the_head_region():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)
    out = blur_people(image, np.array([[50, 40, 110, 190]], np.float32))
    head = slice(40, math.ceil(40 + TOP_BAND * 150)), slice(50, 110)
    assert np.abs(out[head].astype(int) - image[head].astype(int)).mean() > 30  # noise is gone
    outside = np.ones(image.shape[:2], bool)
    outside[head] = False
    np.testing.assert_array_equal(out[outside], image[outside])


def test_exported_frame_is_blurred_when_keypoints_are_null(tmp_path):
    """People tracked with plain (non-pose) detector weights have NULL keypoints: still blurred, no crash."""
    import cv2
    import duckdb

    from dashboard.evidence import blurred_frame

    rng = np.random.default_rng(2)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (160, 120))
    writer.write(image)
    writer.release()
    people = duckdb.connect().execute(
        "SELECT 40.0 AS x1, 10.0 AS y1, 100.0 AS x2, 110.0 AS y2, NULL::REAL[] AS keypoints"
    ).df()  # what DuckDB gives the dashboard for a person without keypoints
    original = cv2.VideoCapture(str(path)).read()[1]
    out = blurred_frame(path, 0, people)
    head = slice(10, math.ceil(10 + TOP_BAND * 100)), slice(40, 100)
    assert np.abs(out[head].astype(int) - original[head].astype(int)).mean() > 20
