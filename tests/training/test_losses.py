"""Losses use only known pairs and reward separating known-different people."""

from __future__ import annotations

import pytest
import torch

from pipeline.training.losses import LOSSES, pair_masks, vae_loss

LABELS = torch.tensor([0, 0, 1, 1])
ALL_DIFFERENT = ~torch.eye(2, dtype=torch.bool)
NONE_KNOWN = torch.zeros(2, 2, dtype=torch.bool)
SEPARATED = torch.tensor([[1.0, 0.0], [1.0, 0.01], [-1.0, 0.0], [-1.0, 0.01]])
MIXED = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.01], [-1.0, 0.01]])


def test_pair_masks() -> None:
    pos, neg = pair_masks(LABELS, ALL_DIFFERENT)
    assert pos.tolist() == [[False, True, False, False], [True, False, False, False],
                            [False, False, False, True], [False, False, True, False]]  # fmt: skip
    assert neg[0].tolist() == [False, False, True, True]
    assert not pair_masks(LABELS, NONE_KNOWN)[1].any()


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize(
    ("emb", "cannot_link", "expect"),
    [
        (SEPARATED, ALL_DIFFERENT, "small"),
        (MIXED, ALL_DIFFERENT, "large"),
        (MIXED, NONE_KNOWN, "no negatives"),  # unknown pairs (other camera / time) are never pushed apart
        (torch.zeros((0, 2)), ALL_DIFFERENT, "empty"),
    ],
)
def test_losses_table(loss: str, emb: torch.Tensor, cannot_link: torch.Tensor, expect: str) -> None:
    labels = LABELS[: len(emb)]
    pos, neg = pair_masks(labels, cannot_link)
    value = LOSSES[loss](emb, pos, neg)
    assert torch.isfinite(value)
    if expect == "small":
        assert value < 0.05
    elif expect == "large":
        assert value > 0.5
    elif expect == "no negatives" and loss == "triplet":
        assert value == 0  # no anchor has a known negative
    elif expect == "empty":
        assert value == 0


def test_losses_have_gradients() -> None:
    emb = MIXED.clone().requires_grad_(True)
    pos, neg = pair_masks(LABELS, ALL_DIFFERENT)
    for fn in LOSSES.values():
        emb.grad = None
        fn(emb, pos, neg).backward()
        assert emb.grad is not None and emb.grad.abs().sum() > 0


def test_vae_loss_zero_only_for_perfect_standard_normal() -> None:
    x = torch.rand(2, 3, 4, 4)
    zeros = torch.zeros(2, 8)
    assert vae_loss(x, x, zeros, zeros) == 0
    assert vae_loss(x * 0, x, zeros, zeros) > 0
    assert vae_loss(x, x, zeros + 1, zeros) > 0
