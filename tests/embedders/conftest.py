"""Fixtures for embedder tests: the shared test data folder, real frames, tiny trained models.

The shared folder (real re-ID model files, MOT15 footage, Market-1501 crops) lives outside the repo:
``$SHOPPER_SHARED`` or ``../shared`` next to the repository. Tests that need it skip with a clear
reason when it is absent, and fail instead when ``CI`` is set (CI must have it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The shared folder, or skip (fail under CI) when it is missing."""
    path = Path(os.environ.get("SHOPPER_SHARED", REPO.parent / "shared"))
    if not (path / "models").is_dir() or not (path / "data").is_dir():
        reason = f"shared test data folder not found at {path} (set SHOPPER_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    return shared_dir()


@pytest.fixture(scope="session")
def models_dir(shared: Path) -> Path:
    return shared / "models"


@pytest.fixture
def reid_models_env(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point SHOPPER_REID_MODELS at the shared model copies."""
    monkeypatch.setenv("SHOPPER_REID_MODELS", str(models_dir))
    return models_dir


@pytest.fixture
def no_models_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model directory: no re-ID model file is available."""
    empty = tmp_path / "empty-models"
    empty.mkdir()
    monkeypatch.setenv("SHOPPER_REID_MODELS", str(empty))
    return empty


@pytest.fixture(scope="session")
def market_train(shared: Path) -> Path:
    return shared / "data" / "reid" / "market1501-mini" / "bounding_box_train"


@pytest.fixture(scope="session")
def frame_and_boxes(shared: Path) -> tuple[np.ndarray, np.ndarray]:
    """First frame of TUD-Campus and its ground-truth person boxes (xyxy)."""
    import cv2

    seq = shared / "data" / "mot15" / "TUD-Campus"
    cap = cv2.VideoCapture(str(seq / "TUD-Campus.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)
    rows = gt[gt[:, 0] == 1]
    boxes = np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1).astype(np.float32)
    return frame, boxes


@pytest.fixture(scope="session")
def trained_models(
    tmp_path_factory: pytest.TempPathFactory, market_train: Path, models_dir: Path
) -> dict[str, Path]:
    """Tiny real models (a few steps on real crops): siamese cnn, siamese head on OSNet, vae."""
    import torch

    from pipeline.embedders.osnet import OSNetEmbedder
    from pipeline.training.dataset import read_market_folder
    from pipeline.training.trainer import TrainConfig, save_result, train_siamese, train_vae

    torch.set_num_threads(2)
    out = tmp_path_factory.mktemp("models")
    data = read_market_folder(market_train)
    cnn = train_siamese(
        data, TrainConfig("siamese", "cnn", "triplet", epochs=1, max_steps=2, width=8, out_dim=32)
    )
    head = train_siamese(
        data, TrainConfig("siamese", "head", "contrastive", epochs=1, max_steps=2),
        OSNetEmbedder(models_dir / "osnet_x0_25_msmt17.onnx"),
    )  # fmt: skip
    vae = train_vae(data, TrainConfig("vae", epochs=1, max_steps=2, width=8, latent=16))
    return {
        "siamese-cnn": save_result(cnn, "siamese", out / "cnn.pt"),
        "siamese-head": save_result(head, "siamese", out / "head.pt"),
        "vae": save_result(vae, "vae", out / "vae.pt"),
    }
