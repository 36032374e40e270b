"""Multi-person tracking: DeepSORT with real time steps and a ByteTrack-style low-confidence pass.

    >>> from pipeline.tracking import DeepSortTracker
    >>> tracker = DeepSortTracker()
    >>> tracked = tracker.update(detections, timestamp=frame.timestamp)

:mod:`~pipeline.tracking.kalman` and :mod:`~pipeline.tracking.matching` hold the maths as pure
functions; :class:`~pipeline.tracking.track.Track` and the tracker hold the state.
"""

from __future__ import annotations

from pipeline.tracking.kalman import CHI2INV95, KalmanFilter
from pipeline.tracking.matching import (
    cosine_distance,
    gate_cost_matrix,
    iou_distance,
    matching_cascade,
    min_cost_matching,
)
from pipeline.tracking.offline import OfflineTrackRunner, TrackedFrame
from pipeline.tracking.track import Track, TrackState
from pipeline.tracking.tracker import DeepSortTracker

__all__ = [
    "CHI2INV95",
    "DeepSortTracker",
    "KalmanFilter",
    "OfflineTrackRunner",
    "Track",
    "TrackState",
    "TrackedFrame",
    "cosine_distance",
    "gate_cost_matrix",
    "iou_distance",
    "matching_cascade",
    "min_cost_matching",
]
