"""Seeded training loops for the ``siamese`` (cnn / head) and ``vae`` embedders.

Everything runs on CPU in minutes: the ``head`` variant embeds every crop with its frozen backbone
once (plus its mirror image) and then trains a small MLP on those features; ``cnn`` and ``vae`` train
small conv nets on 128x64 crops.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from pipeline.embedders.base import Embedder
from pipeline.embedders.batch import embed_crops
from pipeline.embedders.checkpoint import save_checkpoint
from pipeline.embedders.nets import CROP_HW, ResidualHead, SmallReIDNet, VAEDecoder, VAEEncoder
from pipeline.training.dataset import CropSet
from pipeline.training.losses import LOSSES, pair_masks, vae_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (stored in the model file).

    Attributes:
        method: ``siamese`` or ``vae``.
        arch: ``head`` (on a frozen backbone) or ``cnn`` (from scratch); ignored for ``vae``.
        loss: ``triplet`` or ``contrastive`` (siamese only).
        epochs: passes over the crops (at least ``min_steps_per_epoch`` batches each).
        p, k: a batch holds ``k`` crops of each of ``p`` groups (siamese); vae batches are ``p * k`` crops.
        max_steps: stop after this many optimiser steps in total (0 = no limit); tests use it.
        anchor: ``head`` only: weight of ``|head(x) - x|^2``, which keeps the adapted features near the
            backbone's. Without it the head overfits the few site identities and loses mAP on held-out
            data (measured in ``benchmarks/reid.py``: -5 to -14 mAP on market1501-mini for omz-0288).
    """

    method: str = "siamese"
    arch: str = "head"
    loss: str = "triplet"
    epochs: int = 30
    lr: float = 1e-3
    weight_decay: float = 5e-4
    margin: float | None = None
    p: int = 8
    k: int = 4
    min_steps_per_epoch: int = 8
    max_steps: int = 0
    seed: int = 0
    hidden: int = 512
    out_dim: int = 128
    width: int = 16
    latent: int = 128
    beta: float = 1.0
    anchor: float = 3.0

    def __post_init__(self) -> None:
        if self.method not in ("siamese", "vae"):
            raise ValueError(f"method must be 'siamese' or 'vae', got {self.method!r}")
        if self.method == "siamese" and self.arch not in ("head", "cnn"):
            raise ValueError(f"arch must be 'head' or 'cnn', got {self.arch!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.epochs < 1 or self.p < 2 or self.k < 2:
            raise ValueError("epochs must be >= 1, p and k >= 2")


@dataclass
class TrainResult:
    """What training produced: the model file's parts and the loss per step."""

    arch: str
    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class PKSampler:
    """Batches of ``k`` crops from each of ``p`` groups, chosen so that known-different groups meet.

    The first group is random; the rest are drawn first from groups known to differ from it (otherwise
    a batch of unrelated tracklets gives the losses nothing to push apart), then at random.
    """

    def __init__(
        self, labels: np.ndarray, cannot_link: np.ndarray, p: int, k: int, rng: np.random.Generator
    ) -> None:
        self.members = [np.flatnonzero(labels == g) for g in range(len(cannot_link))]
        self.cannot_link, self.p, self.k, self.rng = cannot_link, p, k, rng
        usable = np.array([len(m) >= 2 for m in self.members])
        self.anchors = np.flatnonzero(usable & cannot_link.any(axis=1))
        if len(self.anchors) == 0:
            self.anchors = np.flatnonzero(usable)
        if len(self.anchors) == 0:
            raise ValueError("no group has two crops: nothing to learn 'same person' from")
        self.usable = np.flatnonzero(usable)

    def batch(self) -> np.ndarray:
        first = self.rng.choice(self.anchors)
        partners = np.intersect1d(np.flatnonzero(self.cannot_link[first]), self.usable)
        partners = self.rng.permutation(partners)[: self.p - 1]
        others = np.setdiff1d(self.usable, np.concatenate([[first], partners]))
        extra = self.rng.permutation(others)[: self.p - 1 - len(partners)]
        groups = np.concatenate([[first], partners, extra]).astype(np.int64)
        return np.concatenate(
            [self.rng.choice(self.members[g], self.k, replace=len(self.members[g]) < self.k) for g in groups]
        )


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random mirror, small shift (pad 4 + crop) and brightness on a (B, 3, H, W) batch in [0, 1]."""
    b, _, h, w = x.shape
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (4, 4, 4, 4), mode="replicate")
    dy, dx = torch.randint(0, 9, (2,), generator=gen).tolist()  # one shift per batch: cheap, still varied
    x = padded[:, :, dy : dy + h, dx : dx + w]
    scale = 0.8 + 0.4 * torch.rand(b, 1, 1, 1, generator=gen)
    return (x * scale).clamp(0, 1)


def _crops_to_tensor(crops: np.ndarray) -> torch.Tensor:
    """(N, 256, 128, 3) uint8 BGR -> (N, 3, 128, 64) float RGB in [0, 1]."""
    x = torch.from_numpy(crops).permute(0, 3, 1, 2).flip(1).float() / 255.0
    return F.interpolate(x, size=CROP_HW, mode="bilinear", antialias=True, align_corners=False)


def _steps_per_epoch(n: int, cfg: TrainConfig) -> int:
    return max(cfg.min_steps_per_epoch, math.ceil(n / (cfg.p * cfg.k)))


def _loop(cfg: TrainConfig, n: int, step_fn, params, desc: str) -> tuple[list[float], list[float]]:
    optim = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = _steps_per_epoch(n, cfg)
    total = cfg.epochs * steps if not cfg.max_steps else min(cfg.max_steps, cfg.epochs * steps)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=total)
    losses, epoch_losses = [], []
    bar = tqdm(total=total, desc=desc, unit="step", leave=False, dynamic_ncols=True, disable=None)
    try:
        for _ in range(cfg.epochs):
            this_epoch = []
            for _ in range(steps):
                if len(losses) >= total:
                    break
                loss = step_fn()
                optim.zero_grad()
                loss.backward()
                optim.step()
                sched.step()
                losses.append(float(loss.detach()))
                this_epoch.append(losses[-1])
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(this_epoch):.4f}")
            if this_epoch:
                epoch_losses.append(float(np.mean(this_epoch)))
    finally:
        bar.close()
    return losses, epoch_losses


def backbone_features(backbone: Embedder, crops: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) backbone features of the crops and of their mirror images."""
    feats = embed_crops(backbone, crops)
    mirrored = embed_crops(backbone, np.ascontiguousarray(crops[:, :, ::-1]))
    return torch.from_numpy(feats), torch.from_numpy(mirrored)


def train_siamese(data: CropSet, cfg: TrainConfig, backbone: Embedder | None = None) -> TrainResult:
    """Train a Siamese ``head`` (needs ``backbone``) or ``cnn`` with ``cfg.loss`` on the weak labels."""
    seed_everything(cfg.seed)
    rng, gen = np.random.default_rng(cfg.seed), torch.Generator().manual_seed(cfg.seed)
    sampler = PKSampler(data.labels, data.cannot_link, cfg.p, cfg.k, rng)
    labels_t, cannot_t = torch.from_numpy(data.labels), torch.from_numpy(data.cannot_link)
    loss_fn = LOSSES[cfg.loss]
    # Contrastive margin 0.5: a larger one (1.0) pushes every known-different pair past the distances
    # the pretrained features use between different people, and wrecks them (measured: -25 to -40 mAP).
    margin = cfg.margin if cfg.margin is not None else (0.3 if cfg.loss == "triplet" else 0.5)
    if cfg.arch == "head":
        if backbone is None:
            raise ValueError("arch 'head' needs a backbone embedder")
        feats, mirrored = backbone_features(backbone, data.crops)
        net: torch.nn.Module = ResidualHead(feats.shape[1], cfg.hidden)
        model_config = {"in_dim": int(feats.shape[1]), "hidden": cfg.hidden, **_backbone_record(backbone)}

        def forward(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip[:, None], mirrored[idx], feats[idx])
            y = net(x)
            return y, cfg.anchor * (F.normalize(y, dim=1) - x).pow(2).sum(dim=1).mean()
    else:
        images = _crops_to_tensor(data.crops)
        net = SmallReIDNet(cfg.out_dim, cfg.width)
        model_config = {"out_dim": cfg.out_dim, "width": cfg.width}

        def forward(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            return net(_augment(images[idx], gen)), torch.zeros(())

    net.train()

    def step() -> torch.Tensor:
        idx = sampler.batch()
        pos, neg = pair_masks(labels_t[idx], cannot_t)
        emb, regulariser = forward(idx)
        return loss_fn(emb, pos, neg, margin) + regulariser

    losses, epoch_losses = _loop(cfg, len(data), step, net.parameters(), f"siamese-{cfg.arch} ({cfg.loss})")
    return TrainResult(cfg.arch, model_config, net.state_dict(), losses, epoch_losses, _meta(data, cfg))


def train_vae(data: CropSet, cfg: TrainConfig) -> TrainResult:
    """Train a convolutional VAE (reconstruction + ``beta`` * KL); only the encoder is returned."""
    seed_everything(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    images = _crops_to_tensor(data.crops)
    encoder, decoder = VAEEncoder(cfg.latent, cfg.width), VAEDecoder(cfg.latent, cfg.width)
    encoder.train()
    decoder.train()
    batch = cfg.p * cfg.k

    def step() -> torch.Tensor:
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        x = _augment(images[idx], gen)
        mu, logvar = encoder(x)
        z = mu + torch.randn(mu.shape, generator=gen) * (0.5 * logvar).exp()
        return vae_loss(decoder(z), x, mu, logvar, cfg.beta)

    params = list(encoder.parameters()) + list(decoder.parameters())
    losses, epoch_losses = _loop(cfg, len(data), step, params, "vae")
    config = {"latent": cfg.latent, "width": cfg.width}
    return TrainResult("vae", config, encoder.state_dict(), losses, epoch_losses, _meta(data, cfg))


def _backbone_record(backbone: Embedder) -> dict[str, Any]:
    path = getattr(backbone, "model_path", None)
    record: dict[str, Any] = {"backbone": backbone.name}
    if path is not None:
        record["backbone_file"] = Path(path).name
        record["backbone_path"] = str(Path(path).resolve())
    if getattr(backbone, "variant", None):
        record["backbone_variant"] = backbone.variant
    return record


def _meta(data: CropSet, cfg: TrainConfig) -> dict[str, Any]:
    return {
        "trained_on": data.source,
        "n_crops": len(data),
        "n_groups": data.n_groups,
        "n_negative_pairs": data.n_negative_pairs,
        "train_config": asdict(cfg),
        "created": datetime.now().isoformat(timespec="seconds"),
    }


def save_result(result: TrainResult, method: str, out: str | Path) -> Path:
    """Write the model file (see :mod:`pipeline.embedders.checkpoint`)."""
    meta = dict(result.meta, final_loss=result.epoch_losses[-1] if result.epoch_losses else None)
    return save_checkpoint(out, method, result.arch, result.config, result.state_dict, meta)


def save_loss_curve(result: TrainResult, path: str | Path, title: str = "") -> Path:
    """Plot the loss per step (and its per-epoch mean) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(np.arange(1, len(result.losses) + 1), result.losses, lw=0.8, alpha=0.5, label="per step")
    if result.epoch_losses:
        steps = len(result.losses) / len(result.epoch_losses)
        ax.plot(
            (np.arange(len(result.epoch_losses)) + 1) * steps,
            result.epoch_losses,
            "o-",
            ms=3,
            label="epoch mean",
        )
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title or "training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
