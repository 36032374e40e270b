"""Training on a tiny real crop set runs, is seeded, reduces the loss and writes self-describing files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.embedders.checkpoint import FORMAT
from pipeline.errors import UserError
from pipeline.training.dataset import read_market_folder
from pipeline.training.trainer import TrainConfig, save_loss_curve, train_siamese, train_vae


@pytest.fixture(scope="module")
def crops(market_train: Path):
    torch.set_num_threads(2)
    return read_market_folder(market_train)


@pytest.fixture(scope="module")
def osnet(models_dir: Path):
    from pipeline.embedders.osnet import OSNetEmbedder

    return OSNetEmbedder(models_dir / "osnet_x0_25_msmt17.onnx")


def _drop(losses: list[float], k: int = 5) -> tuple[float, float]:
    return float(np.mean(losses[:k])), float(np.mean(losses[-k:]))


@pytest.mark.parametrize("loss", ["triplet", "contrastive"])
def test_head_training_reduces_loss(loss: str, crops, osnet) -> None:
    result = train_siamese(crops, TrainConfig("siamese", "head", loss, epochs=3, lr=3e-3), osnet)
    first, last = _drop(result.losses)
    assert last < first
    assert result.config["backbone"] == "osnet" and result.config["in_dim"] == 512


@pytest.mark.parametrize("loss", ["triplet", "contrastive"])
def test_cnn_training_reduces_loss(loss: str, crops) -> None:
    cfg = TrainConfig("siamese", "cnn", loss, epochs=2, width=8, out_dim=32, lr=3e-3)
    result = train_siamese(crops, cfg)
    first, last = _drop(result.losses)
    assert last < first
    assert len(result.losses) == 16


def test_vae_training_reduces_loss(crops) -> None:
    result = train_vae(crops, TrainConfig("vae", epochs=2, width=8, latent=16, lr=3e-3))
    first, last = _drop(result.losses, 3)
    assert last < 0.8 * first
    assert not any(k.startswith("fc.") or k.startswith("net.") for k in result.state_dict)  # decoder dropped


def test_training_is_seeded(crops) -> None:
    cfg = TrainConfig("siamese", "cnn", "triplet", epochs=1, max_steps=3, width=8, out_dim=16)
    assert train_siamese(crops, cfg).losses == train_siamese(crops, cfg).losses


def test_model_file_is_self_describing(trained_models) -> None:
    payload = torch.load(trained_models["siamese-head"], weights_only=True)
    assert payload["format"] == FORMAT and payload["method"] == "siamese" and payload["arch"] == "head"
    assert payload["config"]["backbone"] == "osnet" and "fc1.weight" in payload["state_dict"]
    assert payload["meta"]["n_crops"] == 32


def test_loss_curve_png(crops, tmp_path: Path) -> None:
    result = train_vae(crops, TrainConfig("vae", epochs=1, max_steps=2, width=8, latent=16))
    png = save_loss_curve(result, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "gan"}, "method"),
        ({"arch": "resnet"}, "arch"),
        ({"loss": "arcface"}, "loss"),
        ({"epochs": 0}, "epochs"),
    ],
)
def test_bad_config(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_market_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        read_market_folder(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(UserError, match="no crops named like Market-1501"):
        read_market_folder(tmp_path)
