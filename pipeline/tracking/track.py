"""One tracked person: Kalman state, life-cycle counters and an appearance gallery."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

from pipeline.tracking.kalman import FloatArray, KalmanFilter, xyah_to_xyxy

# Outward speed (box heights per second) from which a track at the frame's edge is walking out of view: a
# tenth of a slow walk (about 1 box height a second). A standing person's box jitters by 1-3 px, which the
# filter turns into velocities of a few px/s either way, a few hundredths of a 100 px box a second.
MIN_OUT_SPEED = 0.1


class TrackState(IntEnum):
    """Life cycle: a track is *tentative* until ``n_init`` hits, then *confirmed*, finally *deleted*."""

    TENTATIVE = 1
    CONFIRMED = 2
    DELETED = 3


class Track:
    """A single target, as in deep_sort: owns its state, the filter maths is passed in.

    Attributes:
        mean: (8,) Kalman state ``(u, v, a, h, vu, vv, va, vh)``, velocities per second.
        covariance: (8, 8) state covariance.
        track_id: unique id (>= 1).
        hits: number of measurement updates.
        age: number of tracker steps since birth.
        time_since_update: tracker steps since the last update (1 right after a predict of a track
            that was updated on the previous step; used for the matching cascade).
        seconds_since_update: seconds since the last update (used for deletion).
        seconds_since_confident: seconds since the last update by a confident (high-score) detection;
            low-score boxes only bridge short occlusions (see ``DeepSortTracker.max_low_seconds``).
        state: :class:`TrackState`.
        features: (K, D) appearance gallery, newest last, ``K <= nn_budget``; ``None`` without embeddings.
        feature_keys: ``(step, detection_index)`` of each gallery feature's detection, parallel to
            ``features`` (so a feature can be replaced later, see :meth:`replace_feature`).
        last_detection_index: row of the detection that last updated the track in its frame, or -1.
        keypoints: (17, 3) keypoints of that detection, or ``None``.
        pending: ``(step, detection_index)`` of the hits made while tentative, for backfilling.
        border_normals: ``(k, 2)`` outward normals of the frame sides its last detected box touched
            (set by the tracker when it knows the frame size; ``(0, 2)`` inside the frame).
    """

    def __init__(
        self,
        mean: FloatArray,
        covariance: FloatArray,
        track_id: int,
        n_init: int,
        nn_budget: int | None,
        feature: npt.NDArray[np.float32] | None = None,
        detection_index: int = -1,
        step: int = 0,
        keypoints: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.mean = mean
        self.covariance = covariance
        self.track_id = track_id
        self.hits = 1
        self.age = 1
        self.time_since_update = 0
        self.seconds_since_update = 0.0
        self.seconds_since_confident = 0.0
        self.state = TrackState.CONFIRMED if n_init <= 1 else TrackState.TENTATIVE
        self._n_init = n_init
        self._nn_budget = nn_budget
        self.features = None if feature is None else np.asarray(feature, np.float32)[None, :]
        self.feature_keys: list[tuple[int, int]] = [] if feature is None else [(step, detection_index)]
        self.last_detection_index = detection_index
        self.keypoints = keypoints
        self.pending: list[tuple[int, int]] = [] if n_init <= 1 else [(step, detection_index)]
        self.border_normals = np.zeros((0, 2))

    @property
    def xyxy(self) -> FloatArray:
        """(4,) current state as a box ``(x1, y1, x2, y2)``."""
        return xyah_to_xyxy(self.mean[:4])

    def moving_out(self) -> bool:
        """Whether its last box touched a side of the frame and the filter's velocity points out through
        that side at walking pace, at least :data:`MIN_OUT_SPEED` box heights a second (walking out of view,
        not standing or walking along the border: a standing person's box jitters by a pixel or two, which
        gives the velocity a random sign at a few pixels a second)."""
        return bool(np.any(self.border_normals @ self.mean[4:6] > MIN_OUT_SPEED * self.mean[3]))

    def is_tentative(self) -> bool:
        return self.state == TrackState.TENTATIVE

    def is_confirmed(self) -> bool:
        return self.state == TrackState.CONFIRMED

    def is_deleted(self) -> bool:
        return self.state == TrackState.DELETED

    def mark_predicted(self, dt: float) -> None:
        """Bookkeeping after the tracker has propagated ``mean``/``covariance`` by ``dt`` seconds."""
        self.age += 1
        self.time_since_update += 1
        self.seconds_since_update += dt
        self.seconds_since_confident += dt

    def update(
        self,
        kf: KalmanFilter,
        measurement: FloatArray,
        detection_index: int,
        step: int,
        feature: npt.NDArray[np.float32] | None = None,
        keypoints: npt.NDArray[np.float32] | None = None,
        confidence: float | None = None,
        confident: bool = True,
    ) -> bool:
        """Correct the state with a matched detection.

        Args:
            kf: the shared filter.
            measurement: (4,) box in xyah.
            detection_index: row of the detection in this step's ``Detections``.
            step: tracker step number (for backfilling).
            feature: (D,) appearance feature to add to the gallery, or ``None`` (e.g. for low-confidence
                detections whose crops are unreliable).
            keypoints: (17, 3) keypoints of the detection.
            confidence: detector score, forwarded to :meth:`KalmanFilter.update`.
            confident: the detection scored high enough to vouch for the track (resets
                ``seconds_since_confident``).

        Returns:
            ``True`` when this update confirmed a tentative track.
        """
        self.mean, self.covariance = kf.update(self.mean, self.covariance, measurement, confidence)
        if feature is not None:
            feature = np.asarray(feature, np.float32)[None, :]
            self.features = feature if self.features is None else np.concatenate([self.features, feature])
            self.feature_keys.append((step, detection_index))
            if self._nn_budget is not None and len(self.features) > self._nn_budget:
                self.features = self.features[-self._nn_budget :]
                self.feature_keys = self.feature_keys[-self._nn_budget :]
        self.hits += 1
        self.time_since_update = 0
        self.seconds_since_update = 0.0
        if confident:
            self.seconds_since_confident = 0.0
        self.last_detection_index = detection_index
        self.keypoints = keypoints
        if self.state == TrackState.TENTATIVE:
            self.pending.append((step, detection_index))
            if self.hits >= self._n_init:
                self.state = TrackState.CONFIRMED
                return True
        return False

    def replace_feature(self, key: tuple[int, int], feature: npt.NDArray[np.float32]) -> bool:
        """Replace the gallery feature of detection ``key`` (``(step, detection_index)``); ``False`` when
        that feature is no longer in the gallery."""
        if key not in self.feature_keys or self.features is None:
            return False
        self.features[self.feature_keys.index(key)] = feature
        return True

    def mark_missed(self, max_age: float) -> None:
        """No detection this step: a tentative track dies, a confirmed one after ``max_age`` seconds."""
        self.last_detection_index = -1
        if self.state == TrackState.TENTATIVE or self.seconds_since_update > max_age:
            self.state = TrackState.DELETED

    def __repr__(self) -> str:
        return (
            f"Track(id={self.track_id}, state={self.state.name}, hits={self.hits}, "
            f"time_since_update={self.time_since_update})"
        )
