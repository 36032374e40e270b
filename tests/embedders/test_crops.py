"""Person crops: the separable resampling gives torchvision ``roi_align``'s crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import roi_align

from pipeline.embedders.crops import axis_weights, crop_batch, crop_boxes


def reference(image: np.ndarray, xyxy: np.ndarray, out_hw: tuple[int, int]) -> torch.Tensor:
    """torchvision's ``roi_align`` on the same clipped boxes (what ``crop_batch`` reproduces)."""
    boxes = crop_boxes(xyxy, *image.shape[:2])
    frame = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).float()
    rois = torch.cat([torch.zeros((len(boxes), 1)), torch.from_numpy(boxes)], dim=1)
    return roi_align(frame, rois, output_size=out_hw, spatial_scale=1.0, sampling_ratio=2, aligned=True)


@pytest.mark.parametrize("out_hw", [(128, 64), (256, 128), (7, 3)])
def test_crops_match_roi_align(out_hw: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    x0, y0 = rng.uniform(-20, 125, 60), rng.uniform(-20, 95, 60)
    w, h = rng.uniform(0.1, 80, 60), rng.uniform(0.1, 90, 60)
    boxes = np.stack([x0, y0, x0 + w, y0 + h], axis=1).astype(np.float32)
    # Boxes on every edge, the whole frame, and one pixel wide at the far corner.
    boxes = np.vstack([boxes, [[0, 0, 120, 90], [119, 89, 120, 90], [0, 10, 3, 80], [100, 0, 120, 2]]])
    got = crop_batch(image, boxes, out_hw)
    assert got.shape == (len(boxes), 3, *out_hw) and got.dtype == torch.float32
    assert torch.allclose(got, reference(image, boxes, out_hw), atol=1e-3, rtol=0)


def test_weights_average_the_samples_of_each_bin() -> None:
    weights, first = axis_weights(10.0, 4.0, 2, 100)
    # Two output pixels of 2 px each: samples at 10.0, 11.0 (pixel-centre coordinates) and 12.0, 13.0;
    # the last sample's upper neighbour (pixel 14) is in the span with weight 0.
    assert first == 10
    np.testing.assert_allclose(weights, [[0.5, 0.5, 0, 0, 0], [0, 0, 0.5, 0.5, 0]], atol=1e-6)
    between, _ = axis_weights(10.25, 4.0, 2, 100)  # samples 0.25 px further: 3/4 - 1/4 splits
    np.testing.assert_allclose(between[0, :3], [0.375, 0.5, 0.125], atol=1e-6)
    assert np.allclose(weights.sum(axis=1), 1.0)


def test_no_boxes_and_device() -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    empty = crop_batch(image, np.zeros((0, 4), np.float32), (8, 4))
    assert empty.shape == (0, 3, 8, 4)
    one = crop_batch(
        np.full((20, 30, 3), 200, np.uint8), np.array([[5, 5, 15, 18]], np.float32), (8, 4), "cpu"
    )
    assert one.device.type == "cpu" and torch.allclose(one, torch.full_like(one, 200.0))


def test_boxes_are_clipped_and_never_empty() -> None:
    boxes = crop_boxes([[-5, -5, 10, 10], [25, 15, 40, 30], [7, 7, 7, 7]], 20, 30)
    np.testing.assert_array_equal(boxes, [[0, 0, 10, 10], [25, 15, 30, 20], [7, 7, 8, 8]])


def test_a_mirrored_frame_is_cut_like_a_copy_of_it() -> None:
    rng = np.random.default_rng(2)
    mirrored = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)[:, ::-1]  # negative strides
    boxes = np.array([[3, 4, 30, 38], [20, 0, 50, 40]], np.float32)
    assert torch.equal(crop_batch(mirrored, boxes, (16, 8)), crop_batch(mirrored.copy(), boxes, (16, 8)))
