"""Embed ready-cut crop images (files, training crops) through the same ``embed(frame, boxes)`` path.

Crops are resized to one size and tiled side by side into a mosaic image; one ``embed`` call then cuts
and embeds all of them in a single batch, exactly as the tracker does with boxes of a frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.embedders.base import Embedder

TILE_HW = (256, 128)
_GAP = 4  # pixels between tiles, so bilinear sampling at a tile edge never reads its neighbour


def mosaic(crops: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Tile (N, H, W, 3) crops left to right.

    Returns:
        The (H, N*(W+gap), 3) image and the (N, 4) xyxy box of each tile.
    """
    n, h, w = crops.shape[:3]
    stride = w + _GAP
    # Every tile has a gap on both sides (the first one too), so edge sampling is the same for all tiles
    # and a crop's features do not depend on its position in the batch.
    canvas = np.zeros((h, _GAP + max(n, 1) * stride, 3), np.uint8)
    canvas[:, _GAP:].reshape(h, max(n, 1), stride, 3)[:, :n, :w] = crops.transpose(1, 0, 2, 3)
    x1 = _GAP + np.arange(n, dtype=np.float32) * stride
    boxes = np.stack([x1, np.zeros(n, np.float32), x1 + w, np.full(n, h, np.float32)], axis=1)
    return canvas, boxes.astype(np.float32)


def resize_crops(images: Sequence[npt.NDArray[np.uint8]], size_hw: tuple[int, int] = TILE_HW) -> np.ndarray:
    """Resize BGR images of any size to (N, H, W, 3) uint8 (I/O preparation, not the tracking hot path)."""
    if not images:
        return np.zeros((0, *size_hw, 3), np.uint8)
    return np.stack(
        [cv2.resize(im, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_LINEAR) for im in images]
    )


def embed_crops(embedder: Embedder, crops: npt.NDArray[np.uint8], chunk: int = 64) -> npt.NDArray[np.float32]:
    """Embed (N, H, W, 3) uint8 BGR crops of equal size; returns (N, D) float32."""
    if len(crops) == 0:
        return np.zeros((0, embedder.dim), np.float32)
    out = []
    for start in range(0, len(crops), chunk):
        image, boxes = mosaic(crops[start : start + chunk])
        out.append(embedder.embed(image, boxes))
    return np.concatenate(out).astype(np.float32)
