"""``python -m pipeline train-embedder`` end to end on real crops and a real store database."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.cli import main


def test_train_siamese_head_from_crops_then_embed(
    market_train: Path, models_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "siamese.pt"
    argv = ["train-embedder", "--method", "siamese", "--crops", str(market_train), "--out", str(out),
            "--backbone", "osnet", "--reid-model", str(models_dir / "osnet_x0_25_msmt17.onnx"), "--epochs", "2"]  # fmt: skip
    assert main(argv) == 0
    assert out.is_file() and out.with_suffix(".loss.png").is_file()
    assert "use it with: --embedder siamese" in capsys.readouterr().out
    feats = tmp_path / "f.npy"
    images = sorted(market_train.glob("*.jpg"))[:3]
    assert (
        main(
            [
                "embed",
                *map(str, images),
                "--embedder",
                "siamese",
                "--reid-model",
                str(out),
                "--out",
                str(feats),
            ]
        )
        == 0
    )
    assert np.load(feats).shape == (3, 512)


def test_train_siamese_from_store_db(shared: Path, models_dir: Path, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_mining_tests", Path(__file__).with_name("test_mining.py"))
    mining_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mining_tests)
    db = mining_tests.make_store(tmp_path / "store.duckdb", shared)
    out = tmp_path / "siamese.pt"
    assert main(["train-embedder", "--method", "siamese", "--db", str(db), "--out", str(out), "--epochs", "1",
                 "--per-tracklet", "6", "--backbone", "osnet", "--reid-model", str(models_dir)]) == 0  # fmt: skip
    assert out.is_file()


def test_refuses_too_little_data(market_train: Path, tmp_path: Path, capsys) -> None:
    few = tmp_path / "few"
    few.mkdir()
    for path in sorted(market_train.glob("*.jpg"))[:4]:
        shutil.copy(path, few / path.name)
    code = main(
        ["train-embedder", "--method", "siamese", "--crops", str(few), "--out", str(tmp_path / "m.pt")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "not enough training data" in err and "need at least" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--out", "model.onnx"], "must end in .pt"), (["--threads", "0"], "--threads")],
)
def test_bad_arguments(extra: list[str], message: str, market_train: Path, tmp_path: Path, capsys) -> None:
    argv = [
        "train-embedder",
        "--method",
        "vae",
        "--crops",
        str(market_train),
        "--out",
        str(tmp_path / "m.pt"),
        *extra,
    ]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
