"""INT8 OMZ re-ID (the default precision): same features as the float model, quantised once and cached."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

import pipeline.embedders.int8
from pipeline.embedders import get_embedder
from pipeline.embedders.omz import OMZEmbedder
from pipeline.errors import WeightsError
from pipeline.track_settings import TrackSettings

OMZ = "person-reidentification-retail-0287"


def gt_crops(shared: Path, frames: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(frame image, GT boxes xyxy, GT ids) of TUD-Campus at the given 1-based frames."""
    seq = shared / "data" / "mot15" / "TUD-Campus"
    gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)
    cap = cv2.VideoCapture(str(seq / "TUD-Campus.mp4"))
    out, index = [], 0
    while index < max(frames):
        ok, image = cap.read()
        assert ok
        index += 1
        if index in frames:
            rows = gt[gt[:, 0] == index]
            boxes = np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1).astype(np.float32)
            out.append((image, boxes, rows[:, 1].astype(int)))
    cap.release()
    return out


def test_int8_features_match_the_float_model(models_dir: Path, shared: Path) -> None:
    int8 = OMZEmbedder(models_dir / OMZ)
    fp32 = OMZEmbedder(models_dir / OMZ, precision="fp32")
    assert int8.precision == "int8" and fp32.precision == "fp32"
    (image_a, boxes_a, ids_a), (image_b, boxes_b, ids_b) = gt_crops(shared, (1, 40))
    for image, boxes in ((image_a, boxes_a), (image_b, boxes_b)):
        agreement = (int8.embed(image, boxes) * fp32.embed(image, boxes)).sum(axis=1)
        assert agreement.min() >= 0.95, agreement
    # Who each person of frame 1 looks most like in frame 40: the same answers at both precisions.
    both = np.intersect1d(ids_a, ids_b)
    assert len(both) >= 3
    a, b = np.isin(ids_a, both), np.isin(ids_b, both)
    for model in (int8, fp32):
        nearest = ids_b[b][(model.embed(image_a, boxes_a[a]) @ model.embed(image_b, boxes_b[b]).T).argmax(1)]
        assert (nearest == ids_a[a]).mean() >= 0.75, (model.precision, nearest, ids_a[a])


def test_int8_model_is_quantised_once_and_cached(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    OMZEmbedder(models_dir / OMZ)
    cached = list((tmp_path / "shopper-reid" / "reid-int8").glob(f"{OMZ}-*-int8c*/{OMZ}.xml"))
    assert len(cached) == 1 and cached[0].with_suffix(".bin").is_file()

    def no_second_quantisation(*_: object) -> None:
        raise AssertionError("the cached INT8 model was not reused")

    monkeypatch.setattr(pipeline.embedders.int8, "quantize_reid", no_second_quantisation)
    assert OMZEmbedder(models_dir / OMZ).precision == "int8"


def test_a_folder_where_the_cached_model_should_be_is_replaced(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    OMZEmbedder(models_dir / OMZ)
    (folder,) = (tmp_path / "shopper-reid" / "reid-int8").iterdir()
    (folder / f"{OMZ}.xml").unlink()  # a damaged cache entry
    embedder = OMZEmbedder(models_dir / OMZ)
    assert (folder / f"{OMZ}.xml").is_file()
    assert embedder.embed(np.zeros((64, 64, 3), np.uint8), np.array([[0, 0, 32, 64]], np.float32)).shape == (
        1,
        256,
    )


def test_a_failed_quantisation_falls_back_to_the_float_model(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def broken(*_: object) -> None:
        raise WeightsError("INT8 re-ID needs the nncf package (No module named 'nncf'): pip install nncf")

    monkeypatch.setattr(pipeline.embedders.int8, "quantize_reid", broken)
    with caplog.at_level(logging.WARNING, logger="pipeline.embedders.omz"):
        embedder = OMZEmbedder(models_dir / OMZ)
    assert embedder.precision == "fp32"
    assert "INT8 re-ID unavailable" in caplog.text and "nncf" in caplog.text
    float_model = OMZEmbedder(models_dir / OMZ, precision="fp32")
    image, boxes = np.zeros((128, 128, 3), np.uint8), np.array([[8, 8, 40, 100]], np.float32)
    np.testing.assert_allclose(embedder.embed(image, boxes), float_model.embed(image, boxes), atol=1e-5)


def test_unknown_precision_is_a_clear_error(models_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"reid precision must be one of int8, fp32, but got 'fp16'"):
        get_embedder("omz", model_path=models_dir, precision="fp16")
    with pytest.raises(ValueError, match=r"reid_precision must be one of int8, fp32"):
        TrackSettings(reid_precision="half")


def test_videos_tracked_before_reid_precision_existed_are_compared_as_float() -> None:
    from pipeline.track_settings import tracked_alike

    settings = TrackSettings(embedder="auto")
    older = {k: v for k, v in settings.as_dict().items() if k != "reid_precision"}
    assert tracked_alike(older, settings, "hist")  # the histogram has no precision: no re-tracking
    assert not tracked_alike(older, settings, "omz")  # OMZ ran in float then, INT8 now
    assert tracked_alike(older, TrackSettings(embedder="auto", reid_precision="fp32"), "omz")
    assert tracked_alike(settings.as_dict(), settings, "omz")
    assert not tracked_alike({**older, "conf": 0.3}, settings, "hist")
