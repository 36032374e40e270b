"""Person-crop extraction: each box of a frame cut and resized with two small matrix products.

The resampling is torchvision's ``roi_align`` (``aligned=True``, ``sampling_ratio=2``): every output
pixel averages 2 x 2 bilinear samples of its bin. Bilinear weights factor into a row part and a column
part, so one box's crop is ``rows @ image @ cols.T`` with an (out_h, box rows) and a (box cols, out_w)
weight matrix. That gives the same crops (to float rounding, under 1e-3 of 0-255) at a third of
``roi_align``'s cost on a CPU, and converts only the boxes' pixels to float, not the whole frame. Measured
in ``track`` on TUD-Stadtmitte (970 crops, 2 cores): 3.9 instead of 7.3 ms a frame for the histogram's
128 x 64 crops, 6.3 instead of 18.3 ms for OMZ's 256 x 128 ones.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

SAMPLES = 2  # bilinear samples per output pixel along each axis (roi_align's sampling_ratio)


def axis_weights(start: float, size: float, out_n: int, length: int) -> tuple[npt.NDArray[np.float32], int]:
    """Resampling weights of one box along one image axis.

    Args:
        start: the box's first coordinate (pixel edges: 0 is the left/top edge of the first pixel).
        size: the box's extent along the axis (> 0).
        out_n: output pixels along the axis.
        length: the image's extent along the axis (pixels).

    Returns:
        ``(weights, first)``: (out_n, K) float32 weights over the image pixels ``first .. first + K - 1``.
        Each row averages ``SAMPLES`` bilinear samples, edge rules as ``roi_align``: a sample more than
        one pixel outside the image weighs nothing; one just outside reads the edge pixel.
    """
    bin_size = np.float32(size) / np.float32(out_n)
    offsets = (np.arange(SAMPLES, dtype=np.float32) + np.float32(0.5)) * bin_size / np.float32(SAMPLES)
    pos = np.float32(start) - np.float32(0.5) + np.arange(out_n, dtype=np.float32)[:, None] * bin_size
    pos = pos + offsets[None, :]  # (out_n, SAMPLES) sample centres, pixel-centre coordinates
    valid = (pos >= -1.0) & (pos <= length)
    pos = np.maximum(pos, np.float32(0.0))
    low = pos.astype(np.int64)
    at_end = low >= length - 1
    low = np.where(at_end, length - 1, low)
    high = np.where(at_end, length - 1, low + 1)
    frac = np.where(at_end, np.float32(0.0), pos - low).astype(np.float32)
    scale = valid.astype(np.float32) / np.float32(SAMPLES)
    first = int(low.min())
    weights = np.zeros((out_n, int(high.max()) + 1 - first), np.float32)
    rows = np.repeat(np.arange(out_n), SAMPLES)
    np.add.at(weights, (rows, (low - first).ravel()), ((1 - frac) * scale).ravel())
    np.add.at(weights, (rows, (high - first).ravel()), (frac * scale).ravel())
    return weights, first


def crop_boxes(xyxy: npt.ArrayLike, height: int, width: int) -> npt.NDArray[np.float32]:
    """(N, 4) float32 boxes as they are cut: clipped to the frame, and at least one pixel wide and tall
    (a degenerate box would give an empty crop)."""
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4).copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    boxes[:, 2] = np.maximum(boxes[:, 2], boxes[:, 0] + 1)
    boxes[:, 3] = np.maximum(boxes[:, 3], boxes[:, 1] + 1)
    return boxes


def crop_batch(
    image: npt.NDArray[np.uint8],
    xyxy: npt.NDArray[np.float32],
    out_hw: tuple[int, int],
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Cut and resize every box of one frame (resampling as ``roi_align``; see the module docstring).

    Args:
        image: (H, W, 3) uint8 BGR frame.
        xyxy: (N, 4) boxes in pixels; clipped to the frame.
        out_hw: output (height, width) of each crop.
        device: where the returned tensor lives.

    Returns:
        (N, 3, out_h, out_w) float32 tensor, BGR channel order, values 0-255.
    """
    out_h, out_w = out_hw
    h, w = image.shape[:2]
    boxes = crop_boxes(xyxy, h, w)
    out = torch.empty((len(boxes), 3, out_h, out_w), dtype=torch.float32)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        wy, r0 = axis_weights(y0, y1 - y0, out_h, h)
        wx, c0 = axis_weights(x0, x1 - x0, out_w, w)
        # A copy of the box's pixels: torch cannot view a mirrored (negative-stride) frame.
        patch = torch.from_numpy(np.ascontiguousarray(image[r0 : r0 + wy.shape[1], c0 : c0 + wx.shape[1]]))
        patch = patch.float()
        # torch, not numpy, multiplies: numpy's OpenBLAS threads keep spinning after each product and
        # take the cores from the detector running next (detector + OMZ crops in turn: 116 ms a frame
        # with numpy's products, 74 ms with torch's, 88 ms with roi_align).
        resized_rows = torch.from_numpy(wy) @ patch.reshape(patch.shape[0], -1)  # (out_h, cols * 3)
        out[k] = resized_rows.reshape(out_h, -1, 3).permute(2, 0, 1) @ torch.from_numpy(wx.T)
    return out.to(device)
