"""``python -m pipeline train-embedder``: train a ``siamese`` or ``vae`` embedder on the store's footage.

Without labels, from a processed store (``--db``): crops of one confident tracklet are one person,
tracklets overlapping in time in one camera are different people. Or from labelled crops named like
Market-1501 (``--crops DIR``). Writes MODEL.pt and MODEL.loss.png.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pipeline.errors import UserError

NAME = "train-embedder"
HELP = "train a Siamese (triplet/contrastive) or VAE appearance embedder on site, without labels"
ORDER = 61


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", required=True, choices=("siamese", "vae"), help="what to train")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", metavar="STORE.duckdb", help="processed store database to mine crops from")
    source.add_argument("--crops", metavar="DIR", help="folder of labelled crops named PPPP_cC...jpg")
    parser.add_argument("--out", required=True, metavar="MODEL.pt", help="model file to write")
    parser.add_argument("--loss", default="triplet", choices=("triplet", "contrastive"), help="siamese loss")
    parser.add_argument(
        "--arch", default="head", choices=("head", "cnn"),
        help="siamese: a head on a frozen pretrained backbone (default) or a small CNN from scratch",
    )  # fmt: skip
    parser.add_argument(
        "--backbone", default="auto", choices=("auto", "omz", "osnet", "mobilenet"),
        help="frozen backbone of --arch head (default: the best re-ID model found)",
    )  # fmt: skip
    parser.add_argument("--reid-model", metavar="PATH", help="backbone model file or directory")
    parser.add_argument(
        "--epochs", type=int, default=None, help="training epochs (default: 30 head, 20 cnn/vae)"
    )
    parser.add_argument(
        "--max-steps", type=int, default=None,
        help="cap on optimiser steps, so big stores still train in minutes (default: 600 cnn/vae, none for head)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default: 2)")
    parser.add_argument(
        "--min-points", type=int, default=10, help="confident tracklet: at least this many points"
    )
    parser.add_argument(
        "--min-score", type=float, default=0.5, help="confident tracklet: mean detection score"
    )
    parser.add_argument(
        "--per-tracklet", type=int, default=16, help="crops sampled per tracklet (default: 16)"
    )


def _backbone(args: argparse.Namespace):
    from pipeline.embedders.siamese import build_backbone

    if args.backbone != "auto":
        return build_backbone(args.backbone, args.reid_model)
    from pipeline.embedders.auto import auto_embedder

    backbone = auto_embedder(args.reid_model, precision="fp32")  # as build_backbone loads it back
    if backbone.name not in ("omz", "osnet", "mobilenet"):
        raise UserError(
            f"--arch head needs a pretrained backbone, found only {backbone.name!r}; use --arch cnn"
        )
    return backbone


def run(args: argparse.Namespace) -> int:
    import torch

    from pipeline.training.dataset import read_market_folder
    from pipeline.training.mining import mine_store
    from pipeline.training.trainer import TrainConfig, save_loss_curve, save_result, train_siamese, train_vae

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads < 1:
        raise UserError("--threads must be >= 1")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.suffix not in (".pt", ".pth"):
        raise UserError(f"--out must end in .pt, got {out}")
    arch = args.arch if args.method == "siamese" else "vae"
    epochs = args.epochs if args.epochs is not None else (30 if arch == "head" else 20)
    max_steps = args.max_steps if args.max_steps is not None else (0 if arch == "head" else 600)
    try:
        cfg = TrainConfig(
            method=args.method, arch=arch, loss=args.loss, epochs=epochs, seed=args.seed, max_steps=max_steps
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    started = time.monotonic()
    if args.db:
        data = mine_store(args.db, args.min_points, args.min_score, args.per_tracklet, seed=args.seed)
        data.check_enough(args.method, "tracklets")
    else:
        data = read_market_folder(args.crops)
        data.check_enough(args.method, "identities")
    print(f"training data: {data.summary()}")
    if args.method == "vae":
        result = train_vae(data, cfg)
    else:
        backbone = _backbone(args) if arch == "head" else None
        if backbone is not None:
            print(f"frozen backbone: {backbone.name} ({getattr(backbone, 'model_path', 'built-in weights')})")
        result = train_siamese(data, cfg, backbone)
    path = save_result(result, args.method, out)
    png = save_loss_curve(
        result,
        out.with_suffix(".loss.png"),
        f"{args.method} {result.arch} {args.loss if args.method == 'siamese' else ''}",
    )
    first, last = result.epoch_losses[0], result.epoch_losses[-1]
    print(
        f"wrote {path} ({args.method}/{result.arch}, loss {first:.4f} -> {last:.4f} over {len(result.epoch_losses)} "
        f"epochs, {time.monotonic() - started:.0f} s) and loss curve {png}"
    )
    print(f"use it with: --embedder {args.method} --reid-model {path}")
    return 0
