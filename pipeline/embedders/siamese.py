"""``siamese``: an embedding trained as a Siamese network (triplet or contrastive loss) on site.

Two architectures, both trained by ``python -m pipeline train-embedder --method siamese``:

- ``cnn``: :class:`~pipeline.embedders.nets.SmallReIDNet`, trained from scratch on 128x64 crops.
- ``head``: :class:`~pipeline.embedders.nets.ResidualHead` on a frozen pretrained backbone embedder
  (``omz``, ``osnet`` or ``mobilenet``). The backbone's file is found like the backbone itself would
  be (``SHOPPER_REID_MODELS``), else at the path recorded at training time.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from pipeline.embedders.base import Embedder, l2_normalise
from pipeline.embedders.checkpoint import load_checkpoint, load_state
from pipeline.embedders.crops import crop_batch
from pipeline.embedders.models import ModelNotFoundError
from pipeline.embedders.nets import CROP_HW, ResidualHead, SmallReIDNet, to_input
from pipeline.errors import WeightsError

BACKBONES = ("omz", "osnet", "mobilenet")


def build_backbone(name: str, model_path: str | Path | None = None, device: str = "cpu") -> Embedder:
    """The frozen pretrained embedder a ``head`` model sits on (OMZ in fp32: heads are trained and
    measured on the float features)."""
    if name == "omz":
        from pipeline.embedders.omz import OMZEmbedder

        return OMZEmbedder(model_path, precision="fp32")
    if name == "osnet":
        from pipeline.embedders.osnet import OSNetEmbedder

        return OSNetEmbedder(model_path)
    if name == "mobilenet":
        from pipeline.embedders.mobilenet import MobileNetEmbedder

        return MobileNetEmbedder(device=device)
    raise ValueError(f"unknown backbone {name!r}; valid: {', '.join(BACKBONES)}")


def _backbone_for(config: dict, path: Path, backbone_path: str | Path | None, device: str) -> Embedder:
    name = config.get("backbone")
    if name not in BACKBONES:
        raise WeightsError(f"{path}: unknown backbone {name!r}")
    if backbone_path is not None or name == "mobilenet":
        backbone = build_backbone(name, backbone_path, device)
    else:
        backbone = None
        if name == "omz":
            from pipeline.embedders.omz import resolve

            variant = str(config.get("backbone_variant", "0288"))
            with contextlib.suppress(ModelNotFoundError):
                backbone = build_backbone(name, resolve(None, (variant,)), device)
        else:
            with contextlib.suppress(ModelNotFoundError):
                backbone = build_backbone(name, None, device)
        if backbone is None:
            recorded = config.get("backbone_path")
            if not recorded or not Path(recorded).is_file():
                raise ModelNotFoundError(
                    f"{path} is a head on the {name!r} backbone ({config.get('backbone_file')}); that model file "
                    "was not found: put it in SHOPPER_REID_MODELS"
                )
            backbone = build_backbone(name, recorded, device)
    if backbone.dim != config.get("in_dim"):
        raise WeightsError(
            f"{path}: backbone {name!r} gives {backbone.dim}-d features, head expects {config.get('in_dim')}"
        )
    return backbone


class SiameseEmbedder:
    """Features of a trained Siamese model (``cnn`` or ``head``), L2-normalised."""

    name = "siamese"

    def __init__(
        self, model_path: str | Path | None, device: str = "cpu", backbone_path: str | Path | None = None
    ) -> None:
        payload = load_checkpoint(model_path, "siamese")
        self.model_path = Path(model_path)
        self.arch, self.config, self.meta = payload["arch"], payload["config"], payload.get("meta", {})
        self.device = torch.device(device)
        self.backbone: Embedder | None = None
        try:
            if self.arch == "cnn":
                net: torch.nn.Module = SmallReIDNet(int(self.config["out_dim"]), int(self.config["width"]))
            else:
                net = ResidualHead(int(self.config["in_dim"]), int(self.config["hidden"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise WeightsError(f"{model_path}: incomplete model config {self.config}: {exc}") from exc
        self.net = load_state(net, payload["state_dict"], model_path).to(self.device)
        if self.arch == "head":
            self.backbone = _backbone_for(self.config, self.model_path, backbone_path, device)
            self.dim = int(self.config["in_dim"])
        else:
            self.dim = int(self.config["out_dim"])

    @torch.inference_mode()
    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(xyxy) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self.backbone is not None:
            base = torch.from_numpy(self.backbone.embed(image, xyxy)).to(self.device)
            return l2_normalise(self.net(base).cpu().numpy())
        crops = to_input(crop_batch(image, xyxy, CROP_HW, self.device))
        feats = torch.cat([self.net(chunk) for chunk in torch.split(crops, 64)])
        return l2_normalise(feats.cpu().numpy())
