"""Metric-learning losses over a batch, using only pairs whose relation is known.

``pos_mask[i, j]``: crops i and j show the same person; ``neg_mask[i, j]``: known different people.
Pairs that are neither (two tracklets from different cameras or times) contribute nothing: they may
well be the same shopper.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pair_masks(labels: torch.Tensor, cannot_link: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, B) positive and negative masks for a batch of group ``labels`` and a (G, G) cannot-link matrix."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, cannot_link[labels][:, labels]


def _distances(emb: torch.Tensor) -> torch.Tensor:
    emb = F.normalize(emb, dim=1)
    return (2 - 2 * emb @ emb.T).clamp_min(1e-12).sqrt()


def batch_hard_triplet(
    emb: torch.Tensor, pos_mask: torch.Tensor, neg_mask: torch.Tensor, margin: float = 0.3
) -> torch.Tensor:
    """Batch-hard triplet loss (Hermans et al. 2017) on L2-normalised embeddings.

    For each anchor with a positive and a known negative in the batch: ``relu(d(a, hardest p) -
    d(a, hardest n) + margin)``; averaged over such anchors (0 if none).
    """
    if len(emb) == 0:
        return emb.sum() * 0  # Nothing to compare.
    dist = _distances(emb)
    hardest_pos = (dist * pos_mask).amax(dim=1)
    hardest_neg = dist.masked_fill(~neg_mask, float("inf")).amin(dim=1)
    valid = pos_mask.any(dim=1) & neg_mask.any(dim=1)
    if not valid.any():
        return emb.sum() * 0
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


def contrastive(
    emb: torch.Tensor, pos_mask: torch.Tensor, neg_mask: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """Contrastive loss (Hadsell et al. 2006): ``d^2`` for positives, ``relu(margin - d)^2`` for negatives,
    each averaged over its pairs and summed."""
    dist = _distances(emb)
    loss = emb.sum() * 0
    if pos_mask.any():
        loss = loss + dist[pos_mask].pow(2).mean()
    if neg_mask.any():
        loss = loss + F.relu(margin - dist[neg_mask]).pow(2).mean()
    return loss


LOSSES = {"triplet": batch_hard_triplet, "contrastive": contrastive}


def vae_loss(
    recon: torch.Tensor, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0
) -> torch.Tensor:
    """Per-image summed squared reconstruction error + ``beta`` * KL(q(z|x) || N(0, I)), batch-averaged."""
    rec = (recon - target).pow(2).flatten(1).sum(dim=1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
    return (rec + beta * kl).mean()
