"""``vae``: the mean of a convolutional VAE's encoder, trained on site on unlabelled person crops.

Training (``python -m pipeline train-embedder --method vae``) optimises reconstruction + KL; only the
encoder is saved. Without identity supervision the latent space mostly captures colour and layout, so
this is a self-supervised baseline between ``hist`` and the re-ID networks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from pipeline.embedders.base import l2_normalise
from pipeline.embedders.checkpoint import load_checkpoint, load_state
from pipeline.embedders.crops import crop_batch
from pipeline.embedders.nets import CROP_HW, VAEEncoder, to_input
from pipeline.errors import WeightsError


class VAEEmbedder:
    """Encoder mean of each crop, L2-normalised."""

    name = "vae"

    def __init__(self, model_path: str | Path | None, device: str = "cpu") -> None:
        payload = load_checkpoint(model_path, "vae")
        self.config, self.meta = payload["config"], payload.get("meta", {})
        try:
            encoder = VAEEncoder(int(self.config["latent"]), int(self.config["width"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise WeightsError(f"{model_path}: incomplete model config {self.config}: {exc}") from exc
        self.device = torch.device(device)
        self.encoder = load_state(encoder, payload["state_dict"], model_path).to(self.device)
        self.dim = int(self.config["latent"])

    @torch.inference_mode()
    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(xyxy) == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = to_input(crop_batch(image, xyxy, CROP_HW, self.device))
        mu = torch.cat([self.encoder(chunk)[0] for chunk in torch.split(crops, 64)])
        return l2_normalise(mu.cpu().numpy())
