"""``hist``: HSV colour histograms over horizontal stripes of the person box.

A weak but free baseline: no weights, fast, and robust to small pose changes. Stripes keep a coarse
top/bottom layout (shirt vs trousers) that a single whole-box histogram loses.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import torch

from pipeline.embedders.base import l2_normalise
from pipeline.embedders.crops import crop_batch

CROP_HW = (128, 64)


class HistEmbedder:
    """Concatenated per-stripe H-S histograms (plus a V histogram), square-rooted (Hellinger)."""

    name = "hist"

    def __init__(self, stripes: int = 6, h_bins: int = 8, s_bins: int = 4, v_bins: int = 4) -> None:
        if stripes < 1 or min(h_bins, s_bins, v_bins) < 1:
            raise ValueError("stripes and bin counts must be >= 1")
        self.stripes, self.h_bins, self.s_bins, self.v_bins = stripes, h_bins, s_bins, v_bins
        self.dim = stripes * (h_bins * s_bins + v_bins)

    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        n = len(xyxy)
        if n == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = crop_batch(image, xyxy, CROP_HW).clamp(0, 255).to(torch.uint8)
        # (N, H, W, 3) BGR -> one tall image so a single cvtColor converts every crop.
        bgr = crops.permute(0, 2, 3, 1).numpy()
        hsv = cv2.cvtColor(bgr.reshape(-1, CROP_HW[1], 3), cv2.COLOR_BGR2HSV).reshape(bgr.shape)
        hue = (hsv[..., 0].astype(np.int64) * self.h_bins) // 180
        sat = (hsv[..., 1].astype(np.int64) * self.s_bins) // 256
        val = (hsv[..., 2].astype(np.int64) * self.v_bins) // 256
        stripe = (np.arange(CROP_HW[0]) * self.stripes // CROP_HW[0])[None, :, None]
        hs_bins = self.h_bins * self.s_bins
        per_stripe = hs_bins + self.v_bins
        # Low-saturation pixels carry no reliable hue: they go to the value histogram only.
        coloured = hsv[..., 1] >= 32
        code_hs = stripe * per_stripe + hue * self.s_bins + sat
        code_v = stripe * per_stripe + hs_bins + val
        code = np.where(coloured, code_hs, code_v)
        offsets = (np.arange(n) * self.dim)[:, None, None]
        counts = np.bincount((code + offsets).ravel(), minlength=n * self.dim)
        feats = counts.reshape(n, self.dim).astype(np.float32)
        feats /= np.maximum(feats.sum(axis=1, keepdims=True), 1.0)
        return l2_normalise(np.sqrt(feats))
