"""``python -m pipeline embed IMAGE... --embedder NAME --out FEATURES.npy``: embed ready-cut crops.

One row per image, in argument order; rows are L2-normalised float32.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import UserError

NAME = "embed"
HELP = "embed person crop images with an appearance embedder (one feature row per image)"
ORDER = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline.embedders import DEFAULT_PRECISION, PRECISIONS, available_embedders

    parser.add_argument("images", nargs="+", metavar="IMAGE", help="person crop image files")
    parser.add_argument(
        "--embedder", default="auto", choices=available_embedders(), help="embedder name (default: auto)"
    )
    parser.add_argument(
        "--reid-model", metavar="PATH", help="model file or directory (.xml IR, .onnx, or a trained .pt)"
    )
    parser.add_argument(
        "--reid-precision",
        choices=PRECISIONS,
        default=DEFAULT_PRECISION,
        help=f"numeric precision of the omz model (default {DEFAULT_PRECISION}; see `track --help`)",
    )
    parser.add_argument("--out", required=True, metavar="FEATURES.npy", help="output .npy, shape (N, D)")
    parser.add_argument("--device", default="cpu", help="torch device for torch embedders (default: cpu)")


def run(args: argparse.Namespace) -> int:
    from pipeline.embedders import get_embedder
    from pipeline.embedders.batch import embed_crops, resize_crops

    images = []
    for name in args.images:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"image not found: {path}")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise UserError(f"cannot read {path} as an image")
        images.append(image)
    out = Path(args.out)
    if out.suffix != ".npy":
        raise UserError(f"--out must be a .npy file, got {out}")
    embedder = get_embedder(
        args.embedder, model_path=args.reid_model, device=args.device, precision=args.reid_precision
    )
    features = embed_crops(embedder, resize_crops(images))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, features.astype(np.float32))
    print(f"wrote {out}: {features.shape[0]} x {features.shape[1]} features ({embedder.name})")
    return 0
