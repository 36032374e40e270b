"""Batched person-crop extraction: every box of a frame resized in one call (no per-crop loop)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
from torchvision.ops import roi_align


def crop_batch(
    image: npt.NDArray[np.uint8],
    xyxy: npt.NDArray[np.float32],
    out_hw: tuple[int, int],
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Cut and resize every box of one frame in a single ``roi_align`` call.

    Args:
        image: (H, W, 3) uint8 BGR frame.
        xyxy: (N, 4) boxes in pixels; clipped to the frame.
        out_hw: output (height, width) of each crop.
        device: where the returned tensor lives.

    Returns:
        (N, 3, out_h, out_w) float32 tensor, BGR channel order, values 0-255.
    """
    n = len(xyxy)
    if n == 0:
        return torch.zeros((0, 3, *out_hw), dtype=torch.float32, device=device)
    h, w = image.shape[:2]
    boxes = np.asarray(xyxy, np.float32).copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
    # Degenerate boxes would produce NaN-free but empty crops; give them at least one pixel.
    boxes[:, 2] = np.maximum(boxes[:, 2], boxes[:, 0] + 1)
    boxes[:, 3] = np.maximum(boxes[:, 3], boxes[:, 1] + 1)
    frame = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    frame = frame.permute(2, 0, 1).unsqueeze(0).float()
    rois = torch.cat([torch.zeros((n, 1)), torch.from_numpy(boxes)], dim=1).to(device)
    return roi_align(frame, rois, output_size=out_hw, spatial_scale=1.0, sampling_ratio=2, aligned=True)
