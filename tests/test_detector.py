from __future__ import annotations

import numpy as np
import pytest

from pipeline.detector import BACKENDS, YoloDetector, merge_overlapping, resolve_weights, tile_grid
from pipeline.errors import WeightsError
from pipeline.video import read_frames
from tests.builders import make_detections


@pytest.mark.parametrize(
    ("name", "message"),
    [("nowhere/yolo.pt", "detector weights not found"), ("yolo11n.pt", "no download is attempted")],
)
def test_missing_weights_are_an_error_not_a_download(name, message):
    with pytest.raises(WeightsError, match=message):
        resolve_weights(name)


def test_wrong_weights_format(tmp_path):
    bad = tmp_path / "weights.txt"
    bad.write_text("hello")
    with pytest.raises(WeightsError, match="not an Ultralytics weights file"):
        resolve_weights(bad)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="cannot load detector weights"):
        YoloDetector(corrupt, backend="torch")


@pytest.mark.parametrize(
    ("h", "w", "tiles", "expected"),
    [
        (480, 640, 1, [(0, 0, 640, 480)]),
        (
            100,
            100,
            2,
            [(0, 0, 100, 100), (0, 0, 56, 56), (44, 0, 100, 56), (0, 44, 56, 100), (44, 44, 100, 100)],
        ),
    ],
)
def test_tile_grid(h, w, tiles, expected):
    assert tile_grid(h, w, tiles) == expected


def test_tile_grid_covers_frame_with_overlap():
    windows = tile_grid(480, 640, 3)
    assert len(windows) == 10
    covered = np.zeros((480, 640), bool)
    for x0, y0, x1, y1 in windows[1:]:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


@pytest.mark.parametrize(
    ("boxes", "scores", "kept"),
    [
        ([], [], []),
        ([[0, 0, 10, 20]], [0.5], [0]),
        ([[0, 0, 10, 20], [1, 0, 11, 20]], [0.4, 0.9], [1]),  # near-duplicate: best score wins
        ([[0, 0, 10, 40], [0, 0, 10, 18]], [0.9, 0.6], [0]),  # half a person cut by a tile border
        ([[0, 0, 10, 20], [30, 0, 40, 20]], [0.9, 0.6], [0, 1]),  # two people
    ],
)
def test_merge_overlapping(boxes, scores, kept):
    dets = make_detections(boxes, scores)
    merged = merge_overlapping(dets)
    assert merged.xyxy.tolist() == dets.xyxy[kept].tolist()


@pytest.fixture(scope="module")
def frames(mot15):
    video = mot15 / "TUD-Stadtmitte" / "TUD-Stadtmitte.mp4"
    return [f.image for f in read_frames(video, stride=40)]


def _match(a, b):
    """Greedy IoU matching of two detection sets; returns index pairs."""
    from pipeline.boxes import box_iou

    iou = box_iou(a.xyxy, b.xyxy)
    pairs = []
    while iou.size and iou.max() > 0.5:
        i, j = np.unravel_index(iou.argmax(), iou.shape)
        pairs.append((i, j))
        iou[i, :] = 0
        iou[:, j] = 0
    return pairs


@pytest.mark.slow
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b not in ("torch", "openvino-int8")])
def test_exported_backends_detect_the_same_people(frames, backend):
    reference = YoloDetector(imgsz=320, backend="torch")
    other = YoloDetector(imgsz=320, backend=backend)
    assert other.model_path != reference.model_path and other.model_path.exists()
    total = 0
    for image in frames:
        a, b = reference(image), other(image)
        confident_a = a[a.confidence >= 0.3]
        pairs = _match(confident_a, b)
        assert len(pairs) == len(confident_a), "a confident torch detection has no counterpart"
        for i, j in pairs:
            assert np.abs(confident_a.xyxy[i] - b.xyxy[j]).max() < 2.0
            assert abs(confident_a.confidence[i] - b.confidence[j]) < 0.02
        total += len(pairs)
        assert b.keypoints is not None and b.keypoints.shape[1:] == (17, 3)
    assert total > 10
    # Cached: a second detector reuses the export.
    assert YoloDetector(imgsz=320, backend=backend).model_path == other.model_path


@pytest.mark.slow
def test_int8_backend_finds_the_confident_people_of_the_float_model(frames):
    """INT8 weights move boxes and scores a little, not who is found (quantised once, then cached)."""
    reference = YoloDetector(imgsz=320, backend="openvino")
    int8 = YoloDetector(imgsz=320, backend="openvino-int8")
    assert int8.model_path != reference.model_path and "-int8c" in int8.model_path.name
    total = 0
    for image in frames:
        a, b = reference(image), int8(image)
        confident = a[a.confidence >= 0.5]
        pairs = _match(confident, b)
        assert len(pairs) == len(confident), (
            "a confident detection of the float model has no INT8 counterpart"
        )
        assert all(abs(confident.confidence[i] - b.confidence[j]) < 0.1 for i, j in pairs)
        assert b.keypoints is not None and b.keypoints.shape[1:] == (17, 3)
        total += len(pairs)
    assert total > 10
    assert YoloDetector(imgsz=320, backend="openvino-int8").model_path == int8.model_path


@pytest.mark.slow
def test_int8_backend_runs_at_the_size_asked_for_not_the_exports(frames):
    """On Intel AMX CPUs Ultralytics pins INT8 models to their export size; the detector undoes the pinning."""
    int8 = YoloDetector(imgsz=320, backend="openvino-int8").with_imgsz(160)
    reference = YoloDetector(imgsz=320, backend="openvino").with_imgsz(160)
    for image in frames[:2]:
        got, want = int8(image), reference(image)
        assert list(int8.model.predictor.imgsz) == [160, 160]
        # Run at 160, the INT8 model finds about as many people as the float one at 160.
        assert abs(len(got) - len(want)) <= max(1, len(want) // 4)


def test_int8_calibration_is_deterministic_and_offline():
    """The calibration images come from photos inside installed packages, the same on every machine."""
    from pipeline.quantize import CALIBRATION_SAMPLES, calibration_images

    first, second = calibration_images(), calibration_images()
    assert len(first) == CALIBRATION_SAMPLES
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert all(im.ndim == 3 and im.shape[2] == 3 and im.shape[1] >= im.shape[0] for im in first)
    assert not all(np.array_equal(a, b) for a, b in zip(calibration_images(seed=1), first))


def test_int8_backend_needs_pytorch_weights(tmp_path):
    from pipeline.detector import exported_model

    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"not used")
    with pytest.raises(WeightsError, match=r"quantises PyTorch \.pt weights"):
        exported_model(onnx, "openvino-int8", 640)
