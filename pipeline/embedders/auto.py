"""``auto``: the best embedder available on this machine, chosen by measured accuracy.

Order (mAP on market1501-mini and on MOT15 crops, see ``benchmarks/reid.py``):
OMZ person-reidentification-retail-0287 > -0288 > OSNet x0_25 > colour histogram (which beats ImageNet
MobileNetV2 on every re-ID set measured and matches it in tracking, at a fraction of the cost).
The choice (and, when it is a fallback, why) is logged once per process.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.embedders import DEFAULT_PRECISION
from pipeline.embedders.base import Embedder
from pipeline.embedders.models import ENV_VAR, SOURCES, find_model
from pipeline.errors import WeightsError

log = logging.getLogger(__name__)
PREFERENCE = ("omz-0287", "omz-0288", "osnet")
_said: set[str] = set()


def _say_once(level: int, message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.log(level, message)


def _from_file(path: Path, device: str, precision: str) -> Embedder:
    if path.suffix.lower() == ".xml":
        from pipeline.embedders.omz import OMZEmbedder

        return OMZEmbedder(path, precision=precision)
    if path.suffix.lower() == ".onnx":
        from pipeline.embedders.osnet import OSNetEmbedder

        return OSNetEmbedder(path)
    if path.suffix.lower() in (".pt", ".pth"):
        from pipeline.embedders.checkpoint import load_checkpoint

        method = "siamese"
        try:
            load_checkpoint(path, "siamese")
        except WeightsError:
            method = "vae"
        if method == "vae":
            from pipeline.embedders.vae import VAEEmbedder

            return VAEEmbedder(path, device)
        from pipeline.embedders.siamese import SiameseEmbedder

        return SiameseEmbedder(path, device)
    raise WeightsError(
        f"{path}: --embedder auto takes an OpenVINO .xml, an OSNet .onnx or a trained .pt file"
    )


def auto_embedder(
    model_path: str | Path | None = None, device: str = "cpu", precision: str = DEFAULT_PRECISION
) -> Embedder:
    """Build the best available embedder (see module docstring).

    Args:
        model_path: a model file (used as is) or a directory to search instead of ``SHOPPER_REID_MODELS``.
        precision: passed to the embedders that offer a choice (``omz``).
    """
    if model_path is not None and Path(model_path).expanduser().is_file():
        embedder = _from_file(Path(model_path).expanduser(), device, precision)
        _say_once(logging.INFO, f"embedder auto: using {embedder.name} from {model_path}")
        return embedder
    for key in PREFERENCE:
        path = find_model(key, model_path)
        if path is None:
            continue
        embedder = _from_file(path, device, precision)
        _say_once(logging.INFO, f"embedder auto: using {key} ({path}), the most accurate re-ID model found")
        return embedder
    where = model_path or f"${ENV_VAR} / ~/.shopper_reid/models"
    reason = (
        f"no person re-ID model file found in {where}, so re-identification is weaker than it could be. "
        f"Obtain {SOURCES['omz']}"
    )
    # The colour histogram beats ImageNet MobileNetV2 on every re-ID set we measured (benchmarks/reid.py)
    # and on tracking, at a fraction of the cost, so it is the fallback.
    from pipeline.embedders.hist import HistEmbedder

    _say_once(logging.WARNING, f"embedder auto: falling back to the colour histogram; {reason}")
    return HistEmbedder()
