"""Box geometry in ``xyxy`` pixels: the one IoU of the project (tracking, detector tiling, benchmarks), and
whether a box touches the frame's border."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def box_intersection(xyxy_a: npt.ArrayLike, xyxy_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pairwise intersection areas of (A, 4) and (B, 4) xyxy boxes -> (A, B)."""
    a = np.asarray(xyxy_a, np.float64).reshape(-1, 4)
    b = np.asarray(xyxy_b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(rb - lt, 0, None), axis=2)


def box_area(xyxy: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """(N,) areas of (N, 4) xyxy boxes; an inverted box has area 0."""
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)


def box_iou(xyxy_a: npt.ArrayLike, xyxy_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pairwise IoU of (A, 4) and (B, 4) xyxy boxes -> (A, B); empty inputs give an empty matrix."""
    inter = box_intersection(xyxy_a, xyxy_b)
    union = box_area(xyxy_a)[:, None] + box_area(xyxy_b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def paired_iou(xyxy_a: npt.ArrayLike, xyxy_b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """IoU of row ``i`` of (N, 4) ``xyxy_a`` with row ``i`` of (N, 4) ``xyxy_b`` -> (N,) (aligned pairs, not
    every pair as :func:`box_iou`)."""
    a = np.asarray(xyxy_a, np.float64).reshape(-1, 4)
    b = np.asarray(xyxy_b, np.float64).reshape(-1, 4)
    if len(a) != len(b):
        raise ValueError(f"paired_iou needs as many boxes on each side, but got {len(a)} and {len(b)}")
    inter = np.prod(np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None), axis=1)
    union = box_area(a) + box_area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


_OUTWARD = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 0.0], [0.0, 1.0]])  # left, top, right, bottom


def border_normals(
    xyxy: npt.ArrayLike, frame_size: tuple[int, int], margin: float = 1.0
) -> npt.NDArray[np.float64]:
    """Outward unit normals ``(k, 2)`` (image x right, y down) of the sides of a ``(width, height)`` frame
    that box ``xyxy`` touches (within ``margin`` px); ``(0, 2)`` for a box inside the frame."""
    x1, y1, x2, y2 = (float(v) for v in np.asarray(xyxy).reshape(4))
    width, height = frame_size
    return _OUTWARD[[x1 <= margin, y1 <= margin, x2 >= width - margin, y2 >= height - margin]]


def touches_border(xyxy: npt.ArrayLike, frame_size: tuple[int, int], margin: float = 1.0) -> bool:
    """Whether box ``xyxy`` touches the border of a ``(width, height)`` frame (within ``margin`` px): a
    person cut by the frame's edge, walking into or out of view."""
    return bool(cut_by_border(np.asarray(xyxy).reshape(1, 4), frame_size, margin)[0])


def cut_by_border(
    xyxy: npt.ArrayLike, frame_size: tuple[int, int], margin: float = 1.0
) -> npt.NDArray[np.bool_]:
    """(N,) :func:`touches_border` of each of the (N, 4) boxes ``xyxy``."""
    b = np.asarray(xyxy, np.float64).reshape(-1, 4)
    width, height = frame_size
    return (
        (b[:, 0] <= margin) | (b[:, 1] <= margin) | (b[:, 2] >= width - margin) | (b[:, 3] >= height - margin)
    )
