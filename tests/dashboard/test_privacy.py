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


@pytest.mark.slow
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
    people = (
        duckdb.connect()
        .execute("SELECT 40.0 AS x1, 10.0 AS y1, 100.0 AS x2, 110.0 AS y2, NULL::REAL[] AS keypoints")
        .df()
    )  # what DuckDB gives the dashboard for a person without keypoints
    original = cv2.VideoCapture(str(path)).read()[1]
    out = blurred_frame(path, 0, people)
    head = slice(10, math.ceil(10 + TOP_BAND * 100)), slice(40, 100)
    assert np.abs(out[head].astype(int) - original[head].astype(int)).mean() > 20


# -- fresh detection pass: untracked people, videos without tracks, thumbnails ----------------------

TUD_FRAMES = [("TUD-Stadtmitte", 0), ("TUD-Campus", 30)]


def _head_sharpness(image: np.ndarray, box: np.ndarray) -> float:
    import cv2

    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * 0.2, (y2 - y1) * 0.2  # the middle: where the face is, away from the blur's edge
    x1, y1, x2, y2 = np.maximum(np.array([x1 + dx, y1 + dy, x2 - dx, y2 - dy]).astype(int), 0)
    return float(cv2.Laplacian(cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


@pytest.fixture(scope="module")
def verifier():
    """A second, stricter look: the detector at 1280 px, confident people only."""
    from pipeline.detector import YoloDetector

    return YoloDetector(imgsz=1280, conf=0.5)


@pytest.mark.slow
@pytest.mark.parametrize(("sequence", "frame"), TUD_FRAMES)
def test_nobody_tracked_still_every_head_blurred(sequence, frame, verifier):
    """A camera whose video has no track points (or people the tracker never followed): every head
    that a 1280 px detection finds in the original frame is blurred in what the dashboard shows."""
    import pandas as pd

    from dashboard.evidence import blurred_frame, read_frame
    from tests.conftest import require_shared

    path = require_shared("data", "mot15", sequence, f"{sequence}.mp4")
    nobody = pd.DataFrame(columns=["x1", "y1", "x2", "y2", "keypoints"])
    original = read_frame(path, frame)
    shown = blurred_frame(path, frame, nobody)
    people = verifier(original)
    assert len(people.xyxy) >= 4  # a busy frame, so the test means something
    for head in head_boxes(people.xyxy, list(people.keypoints)):
        x1, y1, x2, y2 = np.maximum(head.astype(int), 0)
        changed = (
            np.abs(shown[y1:y2, x1:x2].astype(int) - original[y1:y2, x1:x2].astype(int)).max(2) > 0
        ).mean()
        assert changed > 0.9, f"head {head} only {changed:.0%} blurred"
        assert _head_sharpness(shown, head) < 0.3 * _head_sharpness(original, head)


@pytest.mark.slow
def test_thumbnail_is_cut_from_the_checked_frame():
    """Flag thumbnails are padded crops, so bystanders show: they come from the fully checked frame."""
    import pandas as pd

    from dashboard.evidence import blurred_frame, crop_thumbnail, thumbnail
    from tests.conftest import require_shared

    path = require_shared("data", "mot15", "TUD-Stadtmitte", "TUD-Stadtmitte.mp4")
    one = pd.DataFrame({"x1": [300.0], "y1": [150.0], "x2": [360.0], "y2": [330.0], "keypoints": [None]})
    box = (300.0, 150.0, 360.0, 330.0)
    shown = thumbnail(str(path), 0, box, one)
    np.testing.assert_array_equal(shown, crop_thumbnail(blurred_frame(path, 0, one), box))


def test_a_frame_that_cannot_be_checked_is_not_shown(tmp_path, monkeypatch, caplog):
    import cv2
    import pandas as pd

    from dashboard import evidence
    from pipeline import people_finder

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (160, 120))
    writer.write(np.full((120, 160, 3), 128, np.uint8))
    writer.release()

    class Broken:  # the failure a missing or corrupt weights file gives at load or at inference
        def __call__(self, image):
            raise RuntimeError("weights unavailable")

    monkeypatch.setattr(people_finder, "_detector", Broken())
    nobody = pd.DataFrame(columns=["x1", "y1", "x2", "y2", "keypoints"])
    assert evidence.read_frame(path, 0) is not None
    assert evidence.blurred_frame(path, 0, nobody) is None
    assert "privacy check failed" in caplog.text
    assert evidence.blurred_frame(tmp_path / "missing.avi", 0, nobody) is None


def test_pages_show_camera_images_only_through_the_privacy_pass():
    """No page or helper reads video frames or images around dashboard.evidence."""
    from tests.dashboard.dashboard_testkit import REPO

    sources = [*(REPO / "dashboard").rglob("*.py"), REPO / "streamlit_app.py"]
    readers = ("VideoCapture", "read_frame(", "frame_at(", "imread(", "open_video(", "iter_frames(")
    offenders = [
        f"{p.relative_to(REPO)}: {r}"
        for p in sources
        if p.name != "evidence.py"
        for r in readers
        if r in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
