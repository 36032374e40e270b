"""DeepSORT with a ByteTrack-style low-confidence pass and real time steps.

One call of :meth:`DeepSortTracker.update` per processed frame:

1. predict every track ``dt = timestamp - previous timestamp`` seconds ahead (strides and variable
   frame rates are fine: the Kalman filter and ``max_age`` work in seconds);
2. split detections into *high* (``confidence >= high_conf_threshold``) and *low*
   (``low_conf_threshold <= confidence < high_conf_threshold``); the rest is ignored;
3. appearance stage: confirmed tracks vs high detections on the nearest-neighbour cosine distance of
   the track's feature gallery, Mahalanobis-gated (chi-square 95%), optionally through deep_sort's
   matching cascade; skipped when the detections carry no embedding;
4. IoU stage: tentative tracks and confirmed tracks left over vs the remaining high detections; a
   confirmed track may not take a detection that looks clearly different (``appearance_veto``);
5. low-confidence stage (ByteTrack): confirmed tracks still unmatched vs low detections by IoU;
6. update matched tracks, age the others, start tentative tracks from unmatched high detections.

Given ``frame_size``, a confirmed track whose last box touched the frame's border, whose velocity points out
through that side at walking pace (``track.MIN_OUT_SPEED``), and that finds no box on the next step has walked
out of view, and ends there: coasting
on, its prediction would wait at the border and take the next person who comes in there, one shopper's track
carrying on as another's. A person standing or walking along the border (a high camera's bottom edge cutting
the shoppers below it) coasts through a missed detection as anywhere else.

The result is a new :class:`~pipeline.types.Detections`: the rows of the input matched to confirmed
tracks, with ``track_id`` set. Ids start at 1 and are never reused.

Measured accuracy and speed are in docs/benchmarks.md (tables in benchmarks/results/), not here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pipeline.boxes import border_normals
from pipeline.tracking import matching
from pipeline.tracking.kalman import KalmanFilter, xyxy_to_xyah
from pipeline.tracking.track import Track, TrackState
from pipeline.types import Detections


class DeepSortTracker:
    """Multi-person tracker: Kalman motion + appearance gallery + IoU, in seconds.

    The score thresholds are chosen leave-one-sequence-out by ``benchmarks/tracking.py`` (see
    docs/benchmarks.md); the rest follow deep_sort and ByteTrack. One parameter set serves every embedder.

    Args:
        max_cosine_distance: appearance matches costing more than this are rejected. Tuned for the
            ``hist`` and ``mobilenet`` embedders (0.12-0.18 all work); re-tune for a new embedder.
        nn_budget: size of each track's feature gallery (newest kept); ``None`` = unbounded.
        max_iou_distance: ``1 - IoU`` threshold of the IoU stage for high-confidence detections.
        max_age: **seconds** a confirmed track survives without a detection (seconds, not frames, so
            frame strides and variable frame rates do not change how long a person is remembered).
        n_init: hits that confirm a track; a tentative track dies on its first miss.
        high_conf_threshold: detections at or above this score take part in all stages.
        low_conf_threshold: detections in ``[low, high)`` are only used to extend confirmed tracks;
            set it equal to ``high_conf_threshold`` to disable the low-confidence pass.
        new_track_threshold: unmatched high detections need at least this score to start a track;
            must lie in ``[high_conf_threshold, 1]``; ``None`` means ``high_conf_threshold``.
        max_low_iou_distance: ``1 - IoU`` threshold of the low-confidence stage.
        motion_weight: ``lambda`` mixing the normalised Mahalanobis cost into the appearance cost.
        use_cascade: match recently seen tracks first (deep_sort's cascade); ``False`` = one global
            assignment, which scored better here with modern embedders.
        iou_stage_max_misses: confirmed tracks that the appearance stage left over enter the IoU stage
            only if missed for at most this many steps (deep_sort uses 1); ``None`` = all of them.
            Without embeddings every track enters it.
        confidence_weighted_update: scale the Kalman measurement noise by ``1 - confidence``
            (StrongSORT's NSA Kalman).
        kalman_filter: the motion model (default :class:`KalmanFilter()`).
        max_low_seconds: a confirmed track with no confident box for longer than this many seconds is
            ended, whether low-score boxes kept it alive meanwhile or it coasted (``None`` = ``max_age``).
            Low-score boxes bridge short occlusions; a track that lives on them for long has usually slid
            onto a static look-alike (a mannequin, a poster) where its person left. Below ``max_age`` it
            also shortens coasting: a track is remembered ``max_age`` after its last box of any score, but
            at most ``max_low_seconds`` after its last confident one.
        appearance_veto: in the IoU stage, a confirmed track with an appearance gallery may not take a
            detection whose cosine distance to that gallery exceeds ``appearance_veto * max_cosine_distance``
            (``None`` = IoU alone, as deep_sort). Small, partly occluded people overlap: without the veto a
            track whose person walks behind someone slides onto the box in front by IoU. 1.5 was chosen
            leave-one-sequence-out by ``benchmarks/appearance_veto.py`` (both folds pick it).
        frame_size: ``(width, height)`` of the frames, when known: a confirmed track whose last box
            touched the border (within 1 px) and moves out through it ends on its first miss (see above).
            ``None``: no border rule.
            :class:`~pipeline.tracking.offline.OfflineTrackRunner` sets it from the video.

    Raises:
        ValueError: an argument is out of range.

    Example:
        >>> tracker = DeepSortTracker()
        >>> for frame in frames:
        ...     tracked = tracker.update(detections_of(frame), frame.timestamp)
        ...     tracked.track_id  # ids of the confirmed people seen in this frame
    """

    def __init__(
        self,
        max_cosine_distance: float = 0.15,
        nn_budget: int | None = 10,
        max_iou_distance: float = 0.7,
        max_age: float = 2.0,
        n_init: int = 2,
        high_conf_threshold: float = 0.5,
        low_conf_threshold: float = 0.2,
        new_track_threshold: float | None = 0.7,
        max_low_iou_distance: float = 0.3,
        motion_weight: float = 0.1,
        use_cascade: bool = False,
        iou_stage_max_misses: int | None = None,
        confidence_weighted_update: bool = True,
        kalman_filter: KalmanFilter | None = None,
        max_low_seconds: float | None = None,
        appearance_veto: float | None = 1.5,
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        if new_track_threshold is None:
            new_track_threshold = high_conf_threshold
        _check_range("max_cosine_distance", max_cosine_distance, 0.0, 2.0)
        _check_range("max_iou_distance", max_iou_distance, 0.0, 1.0)
        _check_range("max_low_iou_distance", max_low_iou_distance, 0.0, 1.0)
        _check_range("high_conf_threshold", high_conf_threshold, 0.0, 1.0)
        _check_range("low_conf_threshold", low_conf_threshold, 0.0, high_conf_threshold)
        _check_range("new_track_threshold", new_track_threshold, high_conf_threshold, 1.0)
        _check_range("motion_weight", motion_weight, 0.0, 1.0)
        if nn_budget is not None and nn_budget < 1:
            raise ValueError(f"nn_budget must be >= 1 or None, but got {nn_budget}")
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0 seconds, but got {max_age}")
        if max_low_seconds is not None and max_low_seconds < 0:
            raise ValueError(f"max_low_seconds must be >= 0 seconds, but got {max_low_seconds}")
        if appearance_veto is not None and appearance_veto <= 0:
            raise ValueError(f"appearance_veto must be > 0 or None, but got {appearance_veto}")
        if n_init < 1:
            raise ValueError(f"n_init must be >= 1, but got {n_init}")
        if frame_size is not None and (len(frame_size) != 2 or min(frame_size) <= 0):
            raise ValueError(f"frame_size must be (width, height) > 0, but got {frame_size!r}")
        if iou_stage_max_misses is not None and iou_stage_max_misses < 1:
            raise ValueError(f"iou_stage_max_misses must be >= 1, but got {iou_stage_max_misses}")
        self.max_cosine_distance = max_cosine_distance
        self.nn_budget = nn_budget
        self.max_iou_distance = max_iou_distance
        self.max_age = max_age
        self.max_low_seconds = max_age if max_low_seconds is None else max_low_seconds
        self.n_init = n_init
        self.high_conf_threshold = high_conf_threshold
        self.low_conf_threshold = low_conf_threshold
        self.new_track_threshold = new_track_threshold
        self.max_low_iou_distance = max_low_iou_distance
        self.motion_weight = motion_weight
        self.use_cascade = use_cascade
        self.iou_stage_max_misses = iou_stage_max_misses
        self.confidence_weighted_update = confidence_weighted_update
        self.kf = kalman_filter if kalman_filter is not None else KalmanFilter()
        self.appearance_veto = appearance_veto
        self.frame_size = frame_size

        self.tracks: list[Track] = []
        self.step = -1  # index of the last update call
        self._timestamp: float | None = None
        self._next_id = 1
        self._backfill: list[tuple[int, int, int]] = []
        self._output_rows = np.zeros(0, np.int64)
        self._matched_rows = np.zeros(0, np.int64)
        self._started_rows = np.zeros(0, np.int64)

    @property
    def backfill(self) -> list[tuple[int, int, int]]:
        """Earlier rows of the tracks confirmed by the last :meth:`update`.

        ``(step, detection_index, track_id)`` for every hit a track made while tentative, excluding the
        current step (those rows are already in the returned ``Detections``). ``step`` counts update
        calls from 0; see :class:`~pipeline.tracking.offline.OfflineTrackRunner` for a consumer.
        """
        return list(self._backfill)

    @property
    def output_rows(self) -> npt.NDArray[np.int64]:
        """Indices into the last ``update``'s input of the rows it returned."""
        return self._output_rows.copy()

    @property
    def just_lost(self) -> list[Track]:
        """Confirmed tracks that the last ``update`` found no detection for, having had one the step
        before: the moment their newest appearance is what a later detection will be compared with."""
        return [t for t in self.tracks if t.is_confirmed() and t.time_since_update == 1]

    @property
    def matched_rows(self) -> npt.NDArray[np.int64]:
        """Indices into the last ``update``'s input of every row matched to a track, tentative ones included
        (sorted)."""
        return self._matched_rows.copy()

    @property
    def started_rows(self) -> npt.NDArray[np.int64]:
        """Indices into the last ``update``'s input of the rows that started a new (tentative) track."""
        return self._started_rows.copy()

    def drop(self, track_id: int) -> None:
        """Forget track ``track_id`` now (no-op when there is none): someone else follows that person."""
        self.tracks = [t for t in self.tracks if t.track_id != track_id]

    def new_track_id(self) -> int:
        """Take the next unused track id for a track made outside this tracker (ids are never reused)."""
        self._next_id += 1
        return self._next_id - 1

    def update(self, detections: Detections, timestamp: float) -> Detections:
        """Advance the tracker to ``timestamp`` and associate this frame's detections.

        Args:
            detections: the frame's people; ``embedding`` may be ``None`` (motion and IoU only).
            timestamp: seconds; must not decrease between calls.

        Returns:
            The subset of ``detections`` matched to confirmed tracks, with ``track_id`` set, in input order.

        Raises:
            ValueError: ``timestamp`` went backwards.
        """
        if self._timestamp is not None and timestamp < self._timestamp:
            raise ValueError(f"timestamp must not decrease, but got {timestamp} after {self._timestamp}")
        dt = 0.0 if self._timestamp is None else float(timestamp - self._timestamp)
        self._timestamp = float(timestamp)
        self.step += 1
        self._backfill = []
        self._predict(dt)

        conf = detections.confidence
        high = np.flatnonzero(conf >= self.high_conf_threshold).tolist()
        low = np.flatnonzero((conf >= self.low_conf_threshold) & (conf < self.high_conf_threshold)).tolist()
        matches, unmatched_tracks, unmatched_high = self._associate(detections, high)

        # ByteTrack's second pass: low-score boxes (often occluded people) only extend confirmed tracks.
        low_candidates = [k for k in unmatched_tracks if self.tracks[k].is_confirmed()]
        low_matches, _, _ = matching.min_cost_matching(
            matching.iou_distance, self.max_low_iou_distance, self.tracks, detections, low_candidates, low
        )
        matches += low_matches
        low_matched = {k for k, _ in low_matches}
        unmatched_tracks = [k for k in unmatched_tracks if k not in low_matched]

        self._apply(detections, matches, unmatched_tracks, unmatched_high)
        return self._output(detections)

    # -- stages -------------------------------------------------------------------------------------

    def _predict(self, dt: float) -> None:
        if not self.tracks:
            return
        means = np.stack([t.mean for t in self.tracks])
        covs = np.stack([t.covariance for t in self.tracks])
        means, covs = self.kf.predict(means, covs, dt)
        for track, mean, cov in zip(self.tracks, means, covs):
            track.mean, track.covariance = mean, cov
            track.mark_predicted(dt)

    def _associate(
        self, detections: Detections, detection_indices: list[int]
    ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        confirmed = [i for i, t in enumerate(self.tracks) if t.is_confirmed()]
        unconfirmed = [i for i, t in enumerate(self.tracks) if not t.is_confirmed()]
        has_embedding = detections.embedding is not None

        if has_embedding:
            metric = self._gated_appearance_metric
            if self.use_cascade:
                cascade_depth = max((self.tracks[k].time_since_update for k in confirmed), default=0)
                matches_a, unmatched_a, unmatched_dets = matching.matching_cascade(
                    metric,
                    self.max_cosine_distance,
                    cascade_depth,
                    self.tracks,
                    detections,
                    confirmed,
                    detection_indices,
                )
            else:
                matches_a, unmatched_a, unmatched_dets = matching.min_cost_matching(
                    metric, self.max_cosine_distance, self.tracks, detections, confirmed, detection_indices
                )
            limit = self.iou_stage_max_misses
            recent = [k for k in unmatched_a if limit is None or self.tracks[k].time_since_update <= limit]
            stale = [k for k in unmatched_a if limit is not None and self.tracks[k].time_since_update > limit]
        else:
            # Without appearance, IoU (with the Kalman prediction) is the only cue: every track takes part.
            matches_a, recent, stale, unmatched_dets = [], confirmed, [], detection_indices

        iou_metric = matching.iou_distance
        if has_embedding and self.appearance_veto is not None:
            iou_metric = self._appearance_vetoed_iou
        matches_b, unmatched_b, unmatched_dets = matching.min_cost_matching(
            iou_metric,
            self.max_iou_distance,
            self.tracks,
            detections,
            unconfirmed + recent,
            unmatched_dets,
        )
        return matches_a + matches_b, stale + unmatched_b, unmatched_dets

    def _gated_appearance_metric(
        self,
        tracks: Sequence[Track],
        detections: Detections,
        track_indices: list[int],
        detection_indices: list[int],
    ) -> npt.NDArray[np.float64]:
        cost = matching.cosine_distance(tracks, detections, track_indices, detection_indices)
        return matching.gate_cost_matrix(
            self.kf,
            cost,
            tracks,
            detections,
            track_indices,
            detection_indices,
            motion_weight=self.motion_weight,
        )

    def _appearance_vetoed_iou(
        self,
        tracks: Sequence[Track],
        detections: Detections,
        track_indices: list[int],
        detection_indices: list[int],
    ) -> npt.NDArray[np.float64]:
        """``1 - IoU``, made infeasible where a confirmed track's gallery and an embedded detection look
        too different (see ``appearance_veto``)."""
        cost = matching.iou_distance(tracks, detections, track_indices, detection_indices)
        rows = [
            r
            for r, k in enumerate(track_indices)
            if tracks[k].is_confirmed() and tracks[k].features is not None
        ]
        embedded = np.linalg.norm(detections.embedding[detection_indices], axis=1) > 0  # zero: never embedded
        if rows and embedded.any():
            looks = matching.cosine_distance(
                tracks, detections, [track_indices[r] for r in rows], detection_indices
            )
            veto = (looks > self.appearance_veto * self.max_cosine_distance) & embedded[None, :]
            cost[rows] = np.where(veto, matching.INFTY_COST, cost[rows])
        return cost

    def _apply(
        self,
        detections: Detections,
        matches: list[tuple[int, int]],
        unmatched_tracks: list[int],
        unmatched_detections: list[int],
    ) -> None:
        xyah = xyxy_to_xyah(detections.xyxy)
        emb = detections.embedding
        kps = detections.keypoints
        conf = detections.confidence
        self._matched_rows = np.array(sorted(d for _, d in matches), np.int64)
        for track_idx, det_idx in matches:
            track = self.tracks[track_idx]
            # Low-score boxes are often occluded: keep their (mixed) appearance out of the gallery.
            feature = emb[det_idx] if emb is not None and conf[det_idx] >= self.high_conf_threshold else None
            confirmed_now = track.update(
                self.kf,
                xyah[det_idx],
                det_idx,
                self.step,
                feature=feature,
                keypoints=None if kps is None else kps[det_idx],
                confidence=float(conf[det_idx]) if self.confidence_weighted_update else None,
                confident=bool(conf[det_idx] >= self.high_conf_threshold),
            )
            if confirmed_now:
                self._backfill += [(s, d, track.track_id) for s, d in track.pending if s != self.step]
                track.pending = []
            if self.frame_size is not None:
                track.border_normals = border_normals(detections.xyxy[det_idx], self.frame_size)
        for track_idx in unmatched_tracks:
            track = self.tracks[track_idx]
            track.mark_missed(self.max_age)
            if track.is_confirmed() and track.moving_out():
                track.state = TrackState.DELETED  # walked out of view
        for track in self.tracks:
            if track.is_confirmed() and track.seconds_since_confident > self.max_low_seconds:
                track.state = TrackState.DELETED
        new = [d for d in unmatched_detections if conf[d] >= self.new_track_threshold]
        self._started_rows = np.array(new, np.int64)
        if new:
            means, covs = self.kf.initiate(xyah[new])
            for det_idx, mean, cov in zip(new, means, covs):
                self.tracks.append(
                    Track(
                        mean,
                        cov,
                        self._next_id,
                        self.n_init,
                        self.nn_budget,
                        feature=None if emb is None else emb[det_idx],
                        detection_index=det_idx,
                        step=self.step,
                        keypoints=None if kps is None else kps[det_idx],
                    )
                )
                self._next_id += 1
        self.tracks = [t for t in self.tracks if not t.is_deleted()]

    def _output(self, detections: Detections) -> Detections:
        ids = np.full(len(detections), -1, np.int64)
        for track in self.tracks:
            if track.state == TrackState.CONFIRMED and track.time_since_update == 0:
                ids[track.last_detection_index] = track.track_id
        keep = np.flatnonzero(ids >= 0)
        self._output_rows = keep
        return detections[keep].with_track_id(ids[keep])


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], but got {value}")
