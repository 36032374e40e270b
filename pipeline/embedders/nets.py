"""Networks of the trainable embedders (``siamese``, ``vae``), shared by training and inference.

All take crops as (N, 3, 128, 64) float tensors, RGB in [0, 1] (see :func:`to_input`).
"""

from __future__ import annotations

import torch
from torch import nn

CROP_HW = (128, 64)
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def to_input(crops_bgr: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) BGR 0-255 crops (as ``crop_batch`` returns) -> RGB in [0, 1]."""
    return crops_bgr.flip(1).clamp(0, 255) / 255.0


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class SmallReIDNet(nn.Module):
    """A small CNN trained from scratch: four conv stages, global average + max pooling, linear embedding."""

    def __init__(self, out_dim: int = 128, width: int = 32) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _block(3, w), nn.MaxPool2d(2),
            _block(w, 2 * w), _block(2 * w, 2 * w), nn.MaxPool2d(2),
            _block(2 * w, 4 * w), _block(4 * w, 4 * w), nn.MaxPool2d(2),
            _block(4 * w, 8 * w),
        )  # fmt: skip
        self.embed = nn.Linear(16 * w, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features((x - _MEAN.to(x.device)) / _STD.to(x.device))
        pooled = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1)
        return self.embed(pooled)


class ResidualHead(nn.Module):
    """``x + W2 relu(W1 x)`` on frozen backbone features; ``W2`` starts at zero so training starts
    exactly from the backbone's own metric and can only move away from it where the site data says so."""

    def __init__(self, in_dim: int, hidden: int = 512) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, in_dim)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(torch.relu(self.fc1(x)))


class VAEEncoder(nn.Module):
    """Conv encoder: 128x64 crop -> (mu, logvar) of a ``latent``-d Gaussian."""

    def __init__(self, latent: int = 128, width: int = 32) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _block(3, w, 2), _block(w, 2 * w, 2), _block(2 * w, 4 * w, 2), _block(4 * w, 8 * w, 2)
        )  # -> (8w, 8, 4)
        self.mu = nn.Linear(8 * w * 8 * 4, latent)
        self.logvar = nn.Linear(8 * w * 8 * 4, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x * 2 - 1).flatten(1)
        return self.mu(f), self.logvar(f).clamp(-10, 10)


class VAEDecoder(nn.Module):
    """Mirror of :class:`VAEEncoder`; used only during training, never saved."""

    def __init__(self, latent: int = 128, width: int = 32) -> None:
        super().__init__()
        w = width
        self.w = w
        self.fc = nn.Linear(latent, 8 * w * 8 * 4)

        def up(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )

        self.net = nn.Sequential(
            up(8 * w, 4 * w), up(4 * w, 2 * w), up(2 * w, w), nn.ConvTranspose2d(w, 3, 4, stride=2, padding=1)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(self.fc(z).view(-1, 8 * self.w, 8, 4)))
