"""Self-describing model files of the trainable embedders (``siamese``, ``vae``).

A file is a plain dict saved with ``torch.save`` and read back with ``weights_only=True`` (no pickled
code runs on load)::

    {"format": "shopper-reid-embedder", "format_version": 1,
     "method": "siamese" | "vae", "arch": "cnn" | "head" | "vae",
     "config": {...constructor arguments...}, "state_dict": {...}, "meta": {...training record...}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pipeline.embedders.models import ModelNotFoundError, require_file
from pipeline.errors import WeightsError

FORMAT = "shopper-reid-embedder"
FORMAT_VERSION = 1
ARCHES = {"siamese": ("cnn", "head"), "vae": ("vae",)}


def save_checkpoint(
    path: str | Path,
    method: str,
    arch: str,
    config: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a model file (parent directories are created)."""
    if arch not in ARCHES.get(method, ()):
        raise ValueError(f"arch {arch!r} is not valid for method {method!r}; valid: {ARCHES}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "method": method,
        "arch": arch,
        "config": dict(config),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        "meta": dict(meta or {}),
    }
    torch.save(payload, path)
    return path


def load_checkpoint(path: str | Path | None, method: str) -> dict[str, Any]:
    """Read and validate a model file written by :func:`save_checkpoint` for ``method``.

    Raises:
        ModelNotFoundError: no path given or the file is missing.
        WeightsError: not a Shopper ReID model file, or one for another method.
    """
    if path is None:
        raise ModelNotFoundError(
            f"the {method!r} embedder needs a trained model file: run `python -m pipeline train-embedder "
            f"--method {method} --db STORE.duckdb --out MODEL.pt`, then pass --reid-model MODEL.pt"
        )
    path = require_file(path, (".pt", ".pth"), f"trained {method}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path} is not a Shopper ReID model file (torch.load failed: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise WeightsError(
            f"{path} is not a Shopper ReID embedder file (a plain state dict or another program's checkpoint?); "
            "train one with `python -m pipeline train-embedder`"
        )
    if payload.get("format_version") != FORMAT_VERSION:
        raise WeightsError(
            f"{path}: model file format version {payload.get('format_version')} is not supported"
        )
    if payload.get("method") != method:
        raise WeightsError(
            f"{path} holds a {payload.get('method')!r} model, not {method!r}: use --embedder {payload.get('method')}"
        )
    if payload.get("arch") not in ARCHES[method] or not isinstance(payload.get("state_dict"), dict):
        raise WeightsError(f"{path}: unknown architecture {payload.get('arch')!r} for {method!r}")
    return payload


def load_state(
    module: torch.nn.Module, state_dict: dict[str, torch.Tensor], path: str | Path
) -> torch.nn.Module:
    """``module.load_state_dict`` with a :class:`WeightsError` naming the file on mismatch."""
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as exc:
        raise WeightsError(f"{path}: weights do not fit the stored architecture: {exc}") from exc
    return module.eval()
