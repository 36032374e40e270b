"""Every embedder family through the registry: shapes, dtype, unit norm, empty input, bad files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.embedders import available_embedders, get_embedder
from pipeline.embedders.batch import embed_crops, mosaic
from pipeline.embedders.models import ModelNotFoundError, find_model
from pipeline.errors import WeightsError

PRETRAINED = [("hist", 216), ("mobilenet", 1280), ("osnet", 512), ("omz", 256), ("auto", 256)]


def check_features(features: np.ndarray, n: int, dim: int) -> None:
    assert features.shape == (n, dim)
    assert features.dtype == np.float32
    if n:
        np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(("name", "dim"), PRETRAINED)
def test_pretrained_embedder_shapes(name: str, dim: int, reid_models_env: Path, frame_and_boxes) -> None:
    frame, boxes = frame_and_boxes
    embedder = get_embedder(name)
    assert embedder.dim == dim
    check_features(embedder.embed(frame, boxes), len(boxes), dim)
    check_features(embedder.embed(frame, np.zeros((0, 4), np.float32)), 0, dim)


@pytest.mark.parametrize(
    ("name", "model", "dim"),
    [("siamese", "siamese-cnn", 32), ("siamese", "siamese-head", 512), ("vae", "vae", 16)],
)
def test_trained_embedder_shapes(name: str, model: str, dim: int, trained_models, frame_and_boxes) -> None:
    frame, boxes = frame_and_boxes
    embedder = get_embedder(name, model_path=trained_models[model])
    assert embedder.name == name and embedder.dim == dim
    check_features(embedder.embed(frame, boxes), len(boxes), dim)
    check_features(embedder.embed(frame, np.zeros((0, 4), np.float32)), 0, dim)


def test_boxes_outside_frame_and_degenerate(reid_models_env: Path, frame_and_boxes) -> None:
    frame, _ = frame_and_boxes
    boxes = np.array([[-50, -50, 30, 80], [600, 400, 900, 700], [10, 10, 10, 10]], np.float32)
    check_features(get_embedder("omz").embed(frame, boxes), 3, 256)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"valid names: .*omz.*osnet.*siamese.*vae"):
        get_embedder("resnet")
    assert {"auto", "hist", "mobilenet", "omz", "osnet", "siamese", "vae"} <= set(available_embedders())


def _garbage(tmp_path: Path, name: str, content: bytes = b"not a model") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _plain_state_dict(tmp_path: Path) -> Path:
    path = tmp_path / "plain.pt"
    torch.save({"weight": torch.zeros(2)}, path)
    return path


def _ir_without_bin(tmp_path: Path) -> Path:
    return _garbage(tmp_path, "person-reidentification-retail-0288.xml", b"<net/>")


BAD_PATHS = [
    # name, make path (tmp_path, trained_models) -> path, expected error, message pattern
    ("osnet", lambda t, m: t / "missing.onnx", ModelNotFoundError, "not found"),
    ("osnet", lambda t, m: _garbage(t, "model.txt"), WeightsError, r"expected a \.onnx"),
    ("osnet", lambda t, m: _garbage(t, "model.onnx"), WeightsError, "not a loadable ONNX"),
    ("omz", lambda t, m: _garbage(t, "model.onnx"), WeightsError, r"expected a \.xml"),
    ("omz", lambda t, m: _ir_without_bin(t), WeightsError, r"\.bin is missing"),
    (
        "omz",
        lambda t, m: (_garbage(t, "m.bin"), _garbage(t, "m.xml"))[1],
        WeightsError,
        "not a readable OpenVINO",
    ),
    ("siamese", lambda t, m: None, ModelNotFoundError, "train-embedder"),
    ("siamese", lambda t, m: _garbage(t, "model.pt"), WeightsError, "not a Shopper ReID model file"),
    ("siamese", lambda t, m: _plain_state_dict(t), WeightsError, "not a Shopper ReID embedder file"),
    ("siamese", lambda t, m: m["vae"], WeightsError, "use --embedder vae"),
    ("vae", lambda t, m: m["siamese-cnn"], WeightsError, "use --embedder siamese"),
    ("vae", lambda t, m: _garbage(t, "model.onnx"), WeightsError, r"expected a \.pt"),
    ("auto", lambda t, m: _garbage(t, "model.bin"), WeightsError, "auto takes"),
]


@pytest.mark.parametrize(("name", "make", "error", "match"), BAD_PATHS)
def test_bad_model_paths(name, make, error, match, tmp_path: Path, trained_models) -> None:
    with pytest.raises(error, match=match):
        get_embedder(name, model_path=make(tmp_path, trained_models))


@pytest.mark.parametrize("name", ["osnet", "omz"])
def test_missing_model_says_where_to_get_it(name: str, no_models_env: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"SHOPPER_REID_MODELS.*Obtain it from"):
        get_embedder(name)


def test_model_path_may_be_a_directory(models_dir: Path, no_models_env: Path) -> None:
    assert get_embedder("omz", model_path=models_dir).variant == "0287"
    assert get_embedder("osnet", model_path=models_dir).dim == 512


def test_find_model_in_omz_downloader_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ir = (
        tmp_path
        / "intel"
        / "person-reidentification-retail-0287"
        / "FP32"
        / "person-reidentification-retail-0287.xml"
    )
    ir.parent.mkdir(parents=True)
    ir.write_text("<net/>")
    monkeypatch.setenv("SHOPPER_REID_MODELS", f"{tmp_path / 'nothing'}:{tmp_path}")
    assert find_model("omz-0287") == ir
    assert find_model("omz-0288") is None


def test_auto_picks_best_model_and_says_so_once(
    reid_models_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from pipeline.embedders import auto

    auto._said.clear()
    with caplog.at_level(logging.INFO, logger="pipeline.embedders.auto"):
        first = get_embedder("auto")
        get_embedder("auto")
    assert first.name == "omz" and first.variant == "0287"
    assert len([r for r in caplog.records if "embedder auto" in r.message]) == 1


def test_auto_falls_back_and_warns_once(no_models_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    from pipeline.embedders import auto

    auto._said.clear()
    with caplog.at_level(logging.INFO, logger="pipeline.embedders.auto"):
        first = get_embedder("auto")
        get_embedder("auto")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert first.name == "hist"
    assert len(warnings) == 1 and "no person re-ID model file found" in warnings[0].message


def test_auto_uses_a_given_trained_model(trained_models) -> None:
    assert get_embedder("auto", model_path=trained_models["vae"]).name == "vae"
    assert get_embedder("auto", model_path=trained_models["siamese-cnn"]).name == "siamese"


def test_embed_crops_matches_one_at_a_time(reid_models_env: Path, frame_and_boxes) -> None:
    from pipeline.training.mining import extract_crops

    _, boxes = frame_and_boxes
    shared = reid_models_env.parent
    crops = extract_crops(
        shared / "data" / "mot15" / "TUD-Campus" / "TUD-Campus.mp4", np.zeros(len(boxes), np.int64), boxes
    )
    embedder = get_embedder("osnet")
    together = embed_crops(embedder, crops, chunk=3)
    alone = np.concatenate([embed_crops(embedder, crops[i : i + 1]) for i in range(len(crops))])
    np.testing.assert_allclose(together, alone, atol=1e-4)
    check_features(embed_crops(embedder, crops[:0]), 0, 512)


def test_mosaic_boxes_tile_the_crops() -> None:
    crops = np.stack([np.full((4, 2, 3), i, np.uint8) for i in range(3)])
    image, boxes = mosaic(crops)
    for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
        assert (image[y1:y2, x1:x2] == i).all()
