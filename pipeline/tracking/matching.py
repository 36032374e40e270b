"""Association maths: cost matrices, gating and linear assignment (after nwojke/deep_sort).

Every distance metric has one signature::

    distance_metric(tracks, detections, track_indices, detection_indices) -> (T, M) cost matrix

and :func:`min_cost_matching` / :func:`matching_cascade` take any such metric, so every association
stage of the tracker (appearance, IoU, low-confidence IoU) reuses the same solver. All cost
matrices are computed with vectorised numpy; there are no per-pair Python loops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from pipeline.boxes import box_iou
from pipeline.tracking.kalman import CHI2INV95, KalmanFilter, xyxy_to_xyah
from pipeline.tracking.track import Track
from pipeline.types import Detections

INFTY_COST = 1e5
_GEMM_SINGLE_THREAD_SIZE = 200_000

DistanceMetric = Callable[[Sequence[Track], Detections, list[int], list[int]], npt.NDArray[np.float64]]
R = TypeVar("R")  # what is matched from: tracks, or known shoppers in cross-camera identity
C = TypeVar("C", bound=Sized)  # what is matched to, as one sized collection: a frame's Detections, a batch
MatchResult = tuple[list[tuple[int, int]], list[int], list[int]]


def _all(indices: list[int] | None, n: int) -> list[int]:
    return list(range(n)) if indices is None else list(indices)


def iou_distance(
    tracks: Sequence[Track],
    detections: Detections,
    track_indices: list[int] | None = None,
    detection_indices: list[int] | None = None,
) -> npt.NDArray[np.float64]:
    """``1 - IoU`` between the tracks' predicted boxes and the detections' boxes.

    Returns:
        (len(track_indices), len(detection_indices)) costs in [0, 1].
    """
    track_indices = _all(track_indices, len(tracks))
    detection_indices = _all(detection_indices, len(detections))
    track_boxes = np.array([tracks[i].xyxy for i in track_indices], np.float64).reshape(-1, 4)
    return 1.0 - box_iou(track_boxes, detections.xyxy[detection_indices])


def cosine_distance_matrix(
    galleries: Sequence[npt.NDArray[np.float32]], features: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Smallest cosine distance between each gallery and each feature.

    Args:
        galleries: T arrays of shape (K_t, D), L2-normalised, each with K_t >= 1.
        features: (M, D) L2-normalised features.

    Returns:
        (T, M) ``min_k (1 - g_k . f)``, in [0, 2].
    """
    features = np.asarray(features, np.float32)
    if len(galleries) == 0 or len(features) == 0:
        return np.zeros((len(galleries), len(features)), np.float64)
    stacked = np.concatenate(galleries)  # (sum K_t, D): every track's gallery at once.
    starts = np.cumsum([0] + [len(g) for g in galleries[:-1]])
    # Row blocks keep each GEMM under OpenBLAS's multithreading threshold (M*N*K ~ 2.6e5): for these
    # small products waking BLAS threads costs far more than the arithmetic, up to 50x on a busy CPU.
    step = max(1, _GEMM_SINGLE_THREAD_SIZE // (features.shape[0] * features.shape[1]))
    sims = np.concatenate([stacked[i : i + step] @ features.T for i in range(0, len(stacked), step)])
    return np.minimum.reduceat(1.0 - sims, starts, axis=0).astype(np.float64)


def cosine_distance(
    tracks: Sequence[Track],
    detections: Detections,
    track_indices: list[int] | None = None,
    detection_indices: list[int] | None = None,
) -> npt.NDArray[np.float64]:
    """Nearest-neighbour cosine distance from each track's feature gallery to each detection.

    Tracks without a gallery get :data:`INFTY_COST` (they can only be matched by other stages).

    Raises:
        ValueError: ``detections.embedding`` is ``None``.
    """
    if detections.embedding is None:
        raise ValueError("cosine_distance needs detections.embedding, but it is None")
    track_indices = _all(track_indices, len(tracks))
    detection_indices = _all(detection_indices, len(detections))
    cost = np.full((len(track_indices), len(detection_indices)), INFTY_COST)
    rows = [r for r, i in enumerate(track_indices) if tracks[i].features is not None]
    if rows and detection_indices:
        galleries = [tracks[track_indices[r]].features for r in rows]
        cost[rows] = cosine_distance_matrix(galleries, detections.embedding[detection_indices])
    return cost


def gate_cost_matrix(
    kf: KalmanFilter,
    cost_matrix: npt.NDArray[np.float64],
    tracks: Sequence[Track],
    detections: Detections,
    track_indices: list[int],
    detection_indices: list[int],
    gated_cost: float = INFTY_COST,
    only_position: bool = False,
    motion_weight: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Invalidate infeasible pairs by Mahalanobis gating and optionally mix in the motion cost.

    A pair is gated (set to ``gated_cost``) when the squared Mahalanobis distance of the detection
    from the track's predicted box exceeds the chi-square 95% quantile (4 dof, 2 with ``only_position``).
    Otherwise the cost becomes ``motion_weight * d_maha / chi2 + (1 - motion_weight) * cost``; the
    Mahalanobis term is divided by the gate so it lies in [0, 1] like the cosine distance (deep_sort's
    ``lambda`` mixes raw Mahalanobis values, which makes any ``lambda > 0`` swamp the appearance term).

    Args:
        kf: the filter used for the tracks.
        cost_matrix: (len(track_indices), len(detection_indices)) costs; not modified.
        tracks: all tracks.
        detections: all detections of the frame.
        track_indices: rows of ``cost_matrix`` as indices into ``tracks``.
        detection_indices: columns of ``cost_matrix`` as indices into ``detections``.
        gated_cost: value given to infeasible pairs.
        only_position: gate on the box centre only.
        motion_weight: ``lambda`` in [0, 1].

    Returns:
        A new cost matrix of the same shape.

    Raises:
        ValueError: ``motion_weight`` outside [0, 1] or a shape mismatch.
    """
    if not 0.0 <= motion_weight <= 1.0:
        raise ValueError(f"motion_weight must be in [0, 1], but got {motion_weight}")
    expected = (len(track_indices), len(detection_indices))
    if cost_matrix.shape != expected:
        raise ValueError(f"cost_matrix must have shape {expected}, but got shape {cost_matrix.shape}")
    if cost_matrix.size == 0:
        return cost_matrix.copy()
    threshold = CHI2INV95[2 if only_position else 4]
    means = np.stack([tracks[i].mean for i in track_indices])
    covs = np.stack([tracks[i].covariance for i in track_indices])
    measurements = xyxy_to_xyah(detections.xyxy[detection_indices])
    maha = kf.gating_distance(means, covs, measurements, only_position)  # (T, M)
    out = (1.0 - motion_weight) * cost_matrix + motion_weight * (maha / threshold)
    out[maha > threshold] = gated_cost
    return out


def linear_assignment(cost_matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Minimum-cost assignment rows -> columns; (K, 2) array of ``(row, col)`` pairs."""
    if cost_matrix.size == 0:
        return np.zeros((0, 2), np.int64)
    rows, cols = linear_sum_assignment(cost_matrix)
    return np.stack([rows, cols], axis=1).astype(np.int64)


def min_cost_matching(
    distance_metric: Callable[[Sequence[R], C, list[int], list[int]], npt.NDArray[np.float64]],
    max_distance: float,
    tracks: Sequence[R],
    detections: C,
    track_indices: list[int] | None = None,
    detection_indices: list[int] | None = None,
) -> MatchResult:
    """Solve one linear assignment problem between rows (tracks) and columns (detections).

    Generic over what it matches: the tracker matches tracks to a frame's detections, cross-camera
    identity matches known shoppers to a batch of tracklets.

    Args:
        distance_metric: ``(tracks, detections, track_indices, detection_indices) -> (T, M)`` costs.
        max_distance: pairs costing more than this are never matched.
        tracks: all rows (e.g. tracks).
        detections: all columns (e.g. the detections of a frame), anything with a length.
        track_indices: tracks to consider (default: all).
        detection_indices: detections to consider (default: all).

    Returns:
        ``(matches, unmatched_tracks, unmatched_detections)``: ``(track_idx, detection_idx)`` pairs and
        the leftover indices, all as indices into ``tracks`` / ``detections``.
    """
    track_indices = _all(track_indices, len(tracks))
    detection_indices = _all(detection_indices, len(detections))
    if len(detection_indices) == 0 or len(track_indices) == 0:
        return [], track_indices, detection_indices  # Nothing to match.

    cost = np.asarray(distance_metric(tracks, detections, track_indices, detection_indices), np.float64)
    # Anything above the threshold is equally bad; capping keeps the solver from trading a good match
    # for avoiding an astronomically bad one.
    cost = np.minimum(cost, max_distance + 1e-5)
    pairs = linear_assignment(cost)

    matches: list[tuple[int, int]] = []
    matched_rows: set[int] = set()
    matched_cols: set[int] = set()
    for row, col in pairs.tolist():
        if cost[row, col] <= max_distance:
            matches.append((track_indices[row], detection_indices[col]))
            matched_rows.add(row)
            matched_cols.add(col)
    unmatched_tracks = [t for r, t in enumerate(track_indices) if r not in matched_rows]
    unmatched_detections = [d for c, d in enumerate(detection_indices) if c not in matched_cols]
    return matches, unmatched_tracks, unmatched_detections


def matching_cascade(
    distance_metric: DistanceMetric,
    max_distance: float,
    cascade_depth: int,
    tracks: Sequence[Track],
    detections: Detections,
    track_indices: list[int] | None = None,
    detection_indices: list[int] | None = None,
) -> MatchResult:
    """deep_sort's matching cascade: tracks seen more recently choose first.

    Level ``k`` (1-based) matches the tracks with ``time_since_update == k`` against the detections
    still unmatched, for ``k = 1 .. cascade_depth``. Tracks older than ``cascade_depth`` stay unmatched.

    Returns:
        ``(matches, unmatched_tracks, unmatched_detections)`` as :func:`min_cost_matching`.
    """
    track_indices = _all(track_indices, len(tracks))
    unmatched_detections = _all(detection_indices, len(detections))
    matches: list[tuple[int, int]] = []
    for level in range(cascade_depth):
        if not unmatched_detections:
            break  # No detections left.
        level_tracks = [k for k in track_indices if tracks[k].time_since_update == 1 + level]
        if not level_tracks:
            continue  # Nothing to match at this level.
        level_matches, _, unmatched_detections = min_cost_matching(
            distance_metric, max_distance, tracks, detections, level_tracks, unmatched_detections
        )
        matches += level_matches
    matched = {k for k, _ in matches}
    unmatched_tracks = [k for k in track_indices if k not in matched]
    return matches, unmatched_tracks, unmatched_detections
