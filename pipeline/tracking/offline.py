"""Offline use of a tracker: emit the tentative frames of tracks once they are confirmed, and fill short gaps.

An online tracker only reports a person after ``n_init`` hits, so the first ``n_init - 1`` frames of
every track are lost. Offline processing can wait: :class:`OfflineTrackRunner` holds each frame back
until no pending tentative track can still claim it (a tentative track dies on its first miss, so
that is ``n_init - 1`` steps), then releases it with the backfilled ids.

It also fills short gaps. A small or partly hidden person is often missed by the detector for a few
frames while the tracker keeps them (it remembers a person for ``max_age`` seconds). When a confirmed
track is matched again at most ``fill_gap_s`` seconds after its previous box, the frames in between get a
box linearly interpolated in time between the two (``data['interpolated']`` True, confidence 0, no
embedding, keypoints invisible). For that the runner holds each frame back until ``fill_gap_s`` seconds
of later frames have been tracked. Longer gaps stay gaps: a person out of sight that long may have
walked anywhere.

And it keeps faint people (:mod:`pipeline.tracking.faint`): boxes too weak to start a track that walk.
A frame with boxes of a faint track that has not moved enough yet is held back until the track moves
(its boxes get an id), a new main track starts on it (the new track gets those of its boxes that reach it
without a gap over ``MAX_GAP_S``: a person's weak first frames), it dies, or ``HOLD_S`` seconds of later
frames have been tracked (they are dropped). The gaps between the boxes a track gets that way, and
between them and its own boxes, are filled as any other gap of a confirmed track.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from pipeline.boxes import box_iou, touches_border
from pipeline.tracking.faint import HANDOVER_IOU, FaintTracks
from pipeline.tracking.faint import N_INIT as FAINT_N_INIT
from pipeline.tracking.tracker import DeepSortTracker
from pipeline.types import N_KEYPOINTS, Detections

# Longest gap (seconds) bridged by interpolation: the held-out rule of benchmarks/tracking.py applied to both
# TUD sequences and both embedders (docs/benchmarks.md). Bounded by the tracker's memory (max_age, 2 s).
FILL_GAP_S = 1.0
# A new track takes over the held boxes of the faint track it starts on (its weak first frames) back to the
# first gap longer than this: the same bound as gap filling, for the same reason.
MAX_GAP_S = FILL_GAP_S
INTERPOLATED = "interpolated"  # Detections.data key: True for a filled-in box


@dataclass(frozen=True)
class TrackedFrame:
    """The tracked people of one processed frame.

    Attributes:
        step: 0-based number of the :meth:`OfflineTrackRunner.update` call.
        timestamp: seconds, as passed to ``update``.
        detections: rows of that call's input with ``track_id`` set (confirmed tracks only), then any
            interpolated boxes (``data['interpolated']``).
    """

    step: int
    timestamp: float
    detections: Detections


@dataclass
class _Held:
    """One frame waiting for release: its input, a track id per input row (-1 = none), filled boxes."""

    step: int
    timestamp: float
    detections: Detections
    ids: np.ndarray
    fills: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (track id, xyxy)
    faint: list[tuple[int, int]] = field(default_factory=list)  # (faint track id, row) not yet a person


class OfflineTrackRunner:
    """Wraps a :class:`DeepSortTracker`: delays output to backfill new tracks and fill short gaps.

    Args:
        tracker: a fresh tracker (its ``update`` must only be called through this runner).
        fill_gap_s: longest gap in a confirmed track (seconds between two of its boxes) filled by
            interpolation; 0 turns filling off.
        faint: also keep faint people, boxes below the track start that walk
            (:mod:`pipeline.tracking.faint`); their frames are held back up to ``HOLD_S`` seconds.
        frame_size: ``(width, height)`` of the frames, when known: a faint track's boxes cut by the frame
            edge (part of a person, their foot point off) are then never handed to a new track.

    Example:
        >>> runner = OfflineTrackRunner(DeepSortTracker())
        >>> out = []
        >>> for ts, dets in stream:
        ...     out += runner.update(dets, ts)  # finished frames, in order, possibly none yet
        >>> out += runner.finish()  # the held-back tail
    """

    def __init__(
        self,
        tracker: DeepSortTracker,
        fill_gap_s: float = FILL_GAP_S,
        faint: bool = True,
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        if tracker.step != -1:
            raise ValueError("tracker must be fresh (update() already called)")
        if not np.isfinite(fill_gap_s) or fill_gap_s < 0:
            raise ValueError(f"fill_gap_s must be >= 0 seconds, but got {fill_gap_s}")
        self.tracker = tracker
        self.fill_gap_s = float(fill_gap_s)
        self.faint = FaintTracks(tracker) if faint else None
        self.frame_size = frame_size
        if frame_size is not None and tracker.frame_size is None:
            tracker.frame_size = frame_size  # its people walk out of view at the border
        # A confirmation reports hits up to n_init - 1 steps back (both trackers).
        self._delay = max(tracker.n_init, FAINT_N_INIT if faint else 0) - 1
        self._buffer: deque[_Held] = deque()
        self._last: dict[int, tuple[int, float, np.ndarray]] = {}  # track id -> its newest (step, t, xyxy)
        # (step, row) starting a main track on a faint track -> (faint id, its main id if it was a person)
        self._handovers: dict[tuple[int, int], tuple[int, int | None]] = {}
        self._alias: dict[int, int] = {}  # main track id -> the id it continues (a handed-over faint track)

    def update(self, detections: Detections, timestamp: float) -> list[TrackedFrame]:
        """Track one frame; return the frames that can no longer change (oldest first)."""
        tracked = self.tracker.update(detections, timestamp)
        ids = np.full(len(detections), -1, np.int64)
        ids[self.tracker.output_rows] = tracked.track_id
        self._buffer.append(_Held(self.tracker.step, float(timestamp), detections, ids))
        first_step = self._buffer[0].step
        for step, det_idx, track_id in sorted(self.tracker.backfill):
            held = self._buffer[step - first_step]
            held.ids[det_idx] = track_id
            if self.fill_gap_s > 0:
                self._last[track_id] = (step, held.timestamp, held.detections.xyxy[det_idx])
        if self.faint is not None:
            self._add_faint(detections, timestamp, first_step)
        if self.fill_gap_s > 0:
            self._fill(self._buffer[-1], first_step)
        released = []
        while (
            len(self._buffer) > self._delay
            and (
                self._buffer[-1].timestamp - self._buffer[0].timestamp >= self.fill_gap_s - 1e-9
                or self.fill_gap_s == 0
            )
            and not self._faint_waiting(self._buffer[0])
        ):
            released.append(self._release())
        return released

    def _add_faint(self, detections: Detections, timestamp: float, first_step: int) -> None:
        """Run the faint tracks (:mod:`pipeline.tracking.faint`) on this frame: a person's boxes get a main
        id, held frames included; the others wait in ``_Held.faint``."""
        hits, promoted_now, handed = self.faint.update(detections, timestamp)
        self._handovers.update({(self.tracker.step, row): (f, main_id) for row, f, main_id in handed})
        given = set()
        for step, row, faint_id in hits:
            if step < first_step:
                continue  # Already released.
            held = self._buffer[step - first_step]
            track_id = self.faint.promoted.get(faint_id)
            if track_id is None:
                held.faint.append((faint_id, row))
            else:
                held.ids[row] = track_id
                if step < self.tracker.step:  # this frame's boxes reach _fill below
                    given.add(track_id)
        for track_id in given:
            self._fill_held(track_id)
        for faint_id in promoted_now:
            self._give(faint_id, self.faint.promoted[faint_id])
        # Once the new main track of a hand-over is confirmed, a faint track that was a person lends it
        # its id; one that was not gives it its held boxes (the person's weak first frames).
        for (step, row), (faint_id, main_id) in list(self._handovers.items()):
            new_id = int(self._buffer[step - first_step].ids[row]) if step >= first_step else -1
            if new_id >= 0:
                if main_id is not None:
                    self._alias[new_id] = main_id
                    self._fill_alias_gap(main_id, step, row, first_step)
                else:
                    self._give(faint_id, new_id, until=self._buffer[step - first_step].timestamp)
                del self._handovers[(step, row)]
            elif self.tracker.step - step >= self.tracker.n_init - 1 or step < first_step:
                del self._handovers[(step, row)]  # Not confirmed in time: that track never was.

    def _fill_alias_gap(self, main_id: int, step: int, row: int, first_step: int) -> None:
        """Fill the held frames between ``main_id``'s newest box and box ``row`` of frame ``step``, where
        the new track that continues it (under its id) starts: the same gap in one person's boxes as any
        other detector miss."""
        prev = self._last.get(main_id)
        if prev is None or step - prev[0] < 2:
            return
        p_step, p_t, p_box = prev
        held = self._buffer[step - first_step]
        between = [self._buffer[s - first_step] for s in range(max(p_step + 1, first_step), step)]
        self._interpolate(main_id, between, p_t, p_box, held.timestamp, held.detections.xyxy[row])

    def _give(self, faint_id: int, track_id: int, until: float | None = None) -> None:
        """The held boxes of faint track ``faint_id`` become boxes of track ``track_id``.

        With ``until`` (the time ``track_id`` starts), only the boxes joined to it without a gap longer
        than ``MAX_GAP_S`` (a person unseen that long may have walked anywhere, so older boxes may be
        someone else's), and newer than any that overlaps another tracked person's box in its frame (IoU
        ``HANDOVER_IOU``: that box may have been part of them) or is cut by the frame edge (part of a
        person entering: its foot point is off). The others are dropped.
        """
        boxes = [(held, row) for held in self._buffer for f, row in held.faint if f == faint_id]
        if until is not None:
            keep = []
            for held, row in reversed(boxes):
                box = held.detections.xyxy[row]
                if (
                    until - held.timestamp > MAX_GAP_S + 1e-9
                    or _overlaps_tracked(held, row)
                    or (self.frame_size is not None and touches_border(box, self.frame_size))
                ):
                    break
                keep.append((held, row))
                until = held.timestamp
            boxes = keep
        for held, row in boxes:
            held.ids[row] = track_id
        for held in self._buffer:
            held.faint = [(f, r) for f, r in held.faint if f != faint_id]
        self._fill_held(track_id)

    def _fill_held(self, track_id: int) -> None:
        """Fill the gaps between the boxes of ``track_id`` held back, as :meth:`_fill` does for a newest
        frame: boxes given to a track after their frame came in (a faint track's) never passed through it.
        Its newest held box becomes the one the next gap is filled from."""
        if self.fill_gap_s <= 0:
            return
        frames = list(self._buffer)
        boxes = [
            (k, held.detections.xyxy[row])
            for k, held in enumerate(frames)
            for row in np.flatnonzero(held.ids == track_id)
        ]
        for (ka, box_a), (kb, box_b) in pairwise(boxes):
            a, b = frames[ka], frames[kb]
            self._interpolate(track_id, frames[ka + 1 : kb], a.timestamp, box_a, b.timestamp, box_b)
        if boxes:
            k, box = boxes[-1]
            last = self._last.get(track_id)
            if last is None or last[0] < frames[k].step:
                self._last[track_id] = (frames[k].step, frames[k].timestamp, box)

    def _faint_waiting(self, held: _Held) -> bool:
        """Whether ``held`` has boxes of a faint track that may still turn out to be a person (held back at
        most ``faint.hold_s`` seconds behind the newest frame)."""
        if self.faint is None or not held.faint:
            return False
        if self._buffer[-1].timestamp - held.timestamp >= self.faint.hold_s:
            return False
        handed = {f for f, _ in self._handovers.values()}  # may still go to a new track
        return any(self.faint.waiting(f) or f in handed for f, _ in held.faint)

    def finish(self) -> list[TrackedFrame]:
        """Release every frame still held back (call once after the last ``update``)."""
        released = []
        while self._buffer:
            released.append(self._release())
        return released

    def _fill(self, newest: _Held, first_step: int) -> None:
        """Interpolate the held frames between each track's previous box and its box in ``newest``."""
        for row in np.flatnonzero(newest.ids >= 0):
            tid = int(newest.ids[row])
            box = newest.detections.xyxy[row]
            prev = self._last.get(tid)
            self._last[tid] = (newest.step, newest.timestamp, box)
            if prev is None or newest.step - prev[0] < 2:
                continue
            p_step, p_t, p_box = prev
            between = [
                self._buffer[step - first_step] for step in range(max(p_step + 1, first_step), newest.step)
            ]
            self._interpolate(tid, between, p_t, p_box, newest.timestamp, box)
        # A track unseen for longer than the gap can no longer be filled: forget it.
        for tid in [
            t for t, (_, t_last, _) in self._last.items() if newest.timestamp - t_last > self.fill_gap_s
        ]:
            del self._last[tid]

    def _interpolate(
        self,
        track_id: int,
        between: list[_Held],
        t_a: float,
        box_a: np.ndarray,
        t_b: float,
        box_b: np.ndarray,
    ) -> None:
        """Give each frame of ``between`` (those of the gap from box ``a`` to box ``b``) a box of
        ``track_id`` interpolated in time, when the gap is at most ``fill_gap_s``; a frame that already has
        one keeps it."""
        span = t_b - t_a
        if span <= 0 or span > self.fill_gap_s + 1e-9:
            return
        for held in between:
            if all(t != track_id for t, _ in held.fills):
                w = (held.timestamp - t_a) / span
                held.fills.append((track_id, ((1 - w) * box_a + w * box_b).astype(np.float32)))

    def _release(self) -> TrackedFrame:
        held = self._buffer.popleft()
        keep = np.flatnonzero(held.ids >= 0)
        ids = np.array([self._alias.get(int(i), int(i)) for i in held.ids[keep]], np.int64)
        fills = [(self._alias.get(t, t), box) for t, box in held.fills]
        return TrackedFrame(
            held.step, held.timestamp, _with_fills(held.detections[keep].with_track_id(ids), fills)
        )


def _overlaps_tracked(held: _Held, row: int) -> bool:
    """Whether box ``row`` of ``held`` overlaps (IoU >= ``HANDOVER_IOU``) a box a track holds in that frame."""
    others = [held.detections.xyxy[r] for r in np.flatnonzero(held.ids >= 0) if r != row]
    others += [box for _, box in held.fills]
    if not others:
        return False
    return bool(box_iou(held.detections.xyxy[row : row + 1], np.stack(others)).max() >= HANDOVER_IOU)


def _with_fills(dets: Detections, fills: list[tuple[int, np.ndarray]]) -> Detections:
    """``dets`` followed by one interpolated row per fill (confidence 0, zero embedding, invisible keypoints),
    with ``data['interpolated']`` marking them."""
    n, k = len(dets), len(fills)
    if k == 0:
        return replace(dets, data={**dets.data, INTERPOLATED: np.zeros(n, bool)})
    xyxy = np.concatenate([dets.xyxy, np.stack([box for _, box in fills])]).astype(np.float32)
    track_id = np.concatenate([dets.track_id, np.array([t for t, _ in fills], np.int64)])
    confidence = np.concatenate([dets.confidence, np.zeros(k, np.float32)])
    keypoints = None
    if dets.keypoints is not None or n == 0:
        old = dets.keypoints if dets.keypoints is not None else np.zeros((0, N_KEYPOINTS, 3), np.float32)
        keypoints = np.concatenate([old, np.zeros((k, N_KEYPOINTS, 3), np.float32)])
    embedding = None
    if dets.embedding is not None:
        embedding = np.concatenate([dets.embedding, np.zeros((k, dets.embedding.shape[1]), np.float32)])
    data = {
        key: np.concatenate([value, np.zeros(k, value.dtype)])
        for key, value in dets.data.items()
        if key != INTERPOLATED
    }
    data[INTERPOLATED] = np.concatenate([np.zeros(n, bool), np.ones(k, bool)])
    return Detections(xyxy, confidence, keypoints, embedding, track_id, data)
