"""``python -m pipeline embed IMAGE... --embedder NAME --out FEATURES.npy``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.cli import main


@pytest.fixture(scope="module")
def crop_files(shared: Path) -> list[Path]:
    return sorted((shared / "data" / "reid" / "market1501-mini" / "query").glob("*.jpg"))[:4]


@pytest.mark.parametrize(("embedder", "dim"), [("hist", 216), ("omz", 256)])
def test_embed_writes_one_row_per_image_in_order(
    embedder: str, dim: int, crop_files, models_dir, tmp_path
) -> None:
    out = tmp_path / "f.npy"
    args = [str(p) for p in crop_files] + ["--embedder", embedder, "--out", str(out)]
    if embedder == "omz":
        args += ["--reid-model", str(models_dir / "person-reidentification-retail-0288")]
    assert main(["embed", *args]) == 0
    feats = np.load(out)
    assert feats.shape == (len(crop_files), dim) and feats.dtype == np.float32
    reversed_out = tmp_path / "r.npy"
    args_rev = [str(p) for p in reversed(crop_files)] + args[len(crop_files) :]
    args_rev[args_rev.index("--out") + 1] = str(reversed_out)
    assert main(["embed", *args_rev]) == 0
    np.testing.assert_allclose(np.load(reversed_out)[::-1], feats, atol=1e-4)


def test_embed_with_trained_model(crop_files, trained_models, tmp_path) -> None:
    out = tmp_path / "f.npy"
    argv = [
        "embed",
        *map(str, crop_files),
        "--embedder",
        "vae",
        "--reid-model",
        str(trained_models["vae"]),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert np.load(out).shape == (len(crop_files), 16)


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda t, f: [str(t / "missing.jpg"), "--embedder", "hist"], "image not found"),
        (
            lambda t, f: [str((t / "x.jpg").write_text("x") and t / "x.jpg"), "--embedder", "hist"],
            "cannot read",
        ),
        (lambda t, f: [str(f[0]), "--embedder", "osnet", "--reid-model", str(t / "nope.onnx")], "not found"),
    ],
)
def test_embed_errors_are_one_line(make_args, message, crop_files, tmp_path, capsys) -> None:
    code = main(["embed", *make_args(tmp_path, crop_files), "--out", str(tmp_path / "o.npy")])
    assert code == 2
    assert message in capsys.readouterr().err
