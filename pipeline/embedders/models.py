"""Where re-ID model files live: an explicit path, or a model directory (``SHOPPER_REID_MODELS``).

The product never downloads weights. A user points it at files they obtained once (see
:data:`SOURCES`), either per run (``--reid-model PATH``) or for every run through the environment
variable ``SHOPPER_REID_MODELS`` (one or more directories, separated by ``os.pathsep``). Without the
variable, ``~/.shopper_reid/models`` is searched. Directories are searched recursively, so the layout
that ``omz_downloader`` writes (``intel/<name>/FP32/<name>.xml``) works as is.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import WeightsError

ENV_VAR = "SHOPPER_REID_MODELS"
DEFAULT_DIR = Path("~/.shopper_reid/models")

#: File name patterns (glob) each pretrained model is found by, best-first.
FILE_PATTERNS: dict[str, tuple[str, ...]] = {
    "omz-0288": ("person-reidentification-retail-0288.xml",),
    "omz-0287": ("person-reidentification-retail-0287.xml",),
    "osnet": ("osnet_x0_25*.onnx", "osnet*.onnx"),
}

#: Where a user with internet obtains each model (shown in "not found" errors and the README).
SOURCES: dict[str, str] = {
    "omz": (
        "Intel Open Model Zoo person-reidentification-retail-0287 (preferred; or -0288), OpenVINO IR FP32: "
        "`pip install openvino-dev && omz_downloader --name person-reidentification-retail-0287` "
        "(Apache-2.0); use the .xml/.bin IR files, not the ONNX export"
    ),
    "osnet": (
        "OSNet x0_25 (MSMT17) from the torchreid model zoo (github.com/KaiyangZhou/deep-person-reid, MIT), "
        "exported to ONNX with input Nx3x256x128 (torchreid's `torch.onnx.export` of `osnet_x0_25`)"
    ),
}


class ModelNotFoundError(WeightsError, FileNotFoundError):
    """No model file for an embedder was given or found in the model directories."""


def model_dirs() -> list[Path]:
    """Directories searched for model files: ``$SHOPPER_REID_MODELS`` entries, else the default dir."""
    raw = os.environ.get(ENV_VAR, "")
    dirs = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    return dirs or [DEFAULT_DIR.expanduser()]


def _search(directory: Path, patterns: tuple[str, ...]) -> Path | None:
    if directory.is_file():
        return directory if any(directory.match(p) for p in patterns) else None
    if not directory.is_dir():
        return None
    for pattern in patterns:
        hits = sorted(directory.rglob(pattern))
        if hits:
            return hits[0]
    return None


def find_model(key: str, model_path: str | Path | None = None) -> Path | None:
    """Locate the file for model ``key`` (a key of :data:`FILE_PATTERNS`), or ``None``.

    Args:
        key: e.g. ``"omz-0288"`` or ``"osnet"``.
        model_path: a file, or a directory to search instead of the model directories.
    """
    patterns = FILE_PATTERNS[key]
    if model_path is not None:
        return _search(Path(model_path).expanduser(), patterns)
    for directory in model_dirs():
        found = _search(directory, patterns)
        if found is not None:
            return found
    return None


def require_file(model_path: str | Path, suffixes: tuple[str, ...], what: str) -> Path:
    """Return ``model_path`` if it is an existing file with one of ``suffixes``.

    Raises:
        ModelNotFoundError: the file does not exist.
        WeightsError: it exists but has the wrong format (by suffix).
    """
    path = Path(model_path).expanduser()
    if not path.exists():
        raise ModelNotFoundError(f"{what} model file not found: {path}")
    if not path.is_file():
        raise WeightsError(f"{what} model path is not a file: {path}")
    if path.suffix.lower() not in suffixes:
        raise WeightsError(
            f"{path} is not a {what} model file: expected a {' or '.join(suffixes)} file, got {path.suffix or 'no suffix'!r}"
        )
    return path


def not_found_message(what: str, source_key: str, model_path: str | Path | None) -> str:
    where = str(model_path) if model_path is not None else ", ".join(str(d) for d in model_dirs())
    return (
        f"no {what} model file found in {where}. Pass --reid-model PATH or set {ENV_VAR} to a directory "
        f"holding it. Obtain it from: {SOURCES[source_key]}"
    )
