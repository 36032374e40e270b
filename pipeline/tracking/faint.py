"""Faint people: boxes that never score high enough to start a track, kept once they walk.

A person against a dark background, far away or half hidden can be found by the detector in frame after
frame at scores far below the track start (0.7). On the CAVIAR shop clip ``OneLeaveShopReenter2front`` a
woman in a dark coat walks the gallery for 170 frames at scores 0.1-0.64 (median 0.3). No start threshold
can take her in: mannequins and flicker in the same clips score 0.10-0.69. What tells them apart is
movement: a mannequin stays where it is, a walker crosses the picture.

So the boxes the main tracker leaves over (:func:`faint_candidates`: below its track start, matched to no
track, not mostly inside a tracked person's box) go to a second, motion-only tracker
(:func:`faint_tracker`). A *faint track* becomes a real one once its box centre has moved at least
:data:`MIN_SHIFT` median box heights within the last :data:`HOLD_S` seconds
(:func:`pipeline.static_objects.max_shift`, the measure that marks mannequins static at < 0.15). From then
on its boxes, and those of the last ``HOLD_S`` seconds still held back by the offline runner, are output
under an id of the main tracker (:class:`~pipeline.tracking.offline.OfflineTrackRunner`). A faint track that
never moves is never output.

Measured on every video the project has (``benchmarks/faint.py``, docs/benchmarks.md): on the five CAVIAR
clips the faint tracks that are not people move at most 0.80 median heights (a box jumping about a doorway
mannequin), the walker 3.05; on TUD-Campus, TUD-Stadtmitte and their 2x2 and 3x3 mosaics (people down to
43 px) no faint track moves more than 0.62, so no track is added there. 1.5 sits about midway (on a
log scale) between the two.

A faint track is also how a person's weak first frames are kept: when a main track starts on a faint
track's last box (:func:`handovers`), the faint track ends there, and the offline runner gives its held
boxes to the new track, back to the first gap longer than 1 s (the gap-filling bound), the first box over
another tracked person or the first cut by the frame edge (``OfflineTrackRunner``). On the shop clips that
is shoppers walking from the back of the shop to its doors at scores 0.1-0.4.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from pipeline.boxes import box_area, box_intersection, box_iou
from pipeline.static_objects import max_shift
from pipeline.tracking.tracker import DeepSortTracker
from pipeline.types import Detections

MIN_SHIFT = 1.5  # median box heights a faint track's centre must move to be a person
HOLD_S = 5.0  # seconds of a faint track's boxes kept while it has not yet moved enough
N_INIT = 3  # hits that confirm a faint track (consecutive: a tentative track dies on its first miss)
MAX_INSIDE = 0.5  # a leftover box this much inside a tracked box is part of that person, not another one
HANDOVER_IOU = 0.3  # a new main track starting on a faint track's last box (this IoU) takes that person over


def faint_tracker(main: DeepSortTracker) -> DeepSortTracker:
    """A fresh motion-only tracker that takes every box it is given, forgetting as fast as ``main``."""
    return DeepSortTracker(
        max_age=main.max_age,
        n_init=N_INIT,
        high_conf_threshold=0.0,
        low_conf_threshold=0.0,
        new_track_threshold=0.0,
    )


def faint_candidates(
    detections: Detections,
    matched_rows: npt.NDArray[np.int64],
    start_threshold: float,
    max_inside: float = MAX_INSIDE,
) -> npt.NDArray[np.int64]:
    """Rows of ``detections`` that may be a faint person (sorted).

    Args:
        detections: one frame's detections.
        matched_rows: rows the main tracker matched to any track this frame.
        start_threshold: the main tracker's track start; rows at or above it start tracks of their own.
        max_inside: a row whose box lies at least this share inside a matched row's box is left out.

    Example:
        >>> dets = Detections(np.array([[0, 0, 10, 20], [2, 2, 8, 12], [50, 0, 60, 20]], np.float32),
        ...                   np.array([0.9, 0.2, 0.2], np.float32))
        >>> faint_candidates(dets, np.array([0]), 0.7).tolist()
        [2]
    """
    left = np.ones(len(detections), bool)
    left[matched_rows] = False
    left &= detections.confidence < start_threshold
    rows = np.flatnonzero(left)
    if len(rows) == 0 or len(matched_rows) == 0:
        return rows
    inside = box_intersection(detections.xyxy[rows], detections.xyxy[matched_rows])
    share = inside.max(axis=1) / np.maximum(box_area(detections.xyxy[rows]), 1e-12)
    return rows[share < max_inside]


class FaintTracks:
    """The faint tracks of one video: which of them walked (see the module docstring).

    Args:
        main: the main tracker; promoted tracks take ids from it.
        min_shift: median box heights of movement that make a faint track a person.
        hold_s: seconds of boxes over which the movement is measured.
    """

    def __init__(self, main: DeepSortTracker, min_shift: float = MIN_SHIFT, hold_s: float = HOLD_S) -> None:
        if not min_shift > 0:
            raise ValueError(f"min_shift must be > 0 median box heights, but got {min_shift}")
        if not hold_s > 0:
            raise ValueError(f"hold_s must be > 0 seconds, but got {hold_s}")
        self.main = main
        self.tracker = faint_tracker(main)
        self.min_shift = float(min_shift)
        self.hold_s = float(hold_s)
        self.promoted: dict[int, int] = {}  # faint id -> main id, while the faint track lives
        # Every faint track of the video so far: the largest movement it showed, and which became people
        # (read by benchmarks/faint.py).
        self.largest_shift: dict[int, float] = {}
        self.people: set[int] = set()
        self._recent: dict[int, deque[tuple[float, npt.NDArray[np.float32]]]] = {}  # faint id -> (t, xyxy)
        # (timestamp, candidate rows, every box) of the last N_INIT frames, as far as a confirmation reaches.
        self._frames: deque[tuple[float, npt.NDArray[np.int64], npt.NDArray[np.float32]]] = deque(
            maxlen=N_INIT
        )

    def waiting(self, faint_id: int) -> bool:
        """Whether ``faint_id`` is alive and has not moved enough yet (its held boxes may still count)."""
        return faint_id in self._recent and faint_id not in self.promoted

    def update(
        self, detections: Detections, timestamp: float
    ) -> tuple[list[tuple[int, int, int]], list[int], list[tuple[int, int, int | None]]]:
        """Track this frame's faint candidates (call right after the main tracker's ``update``).

        Returns:
            ``(hits, promoted_now, handovers)``: ``(step, row, faint id)`` for every box the faint tracks
            confirmed in this call (rows of earlier steps too when a track is confirmed now); the faint ids
            that became people in this call (:attr:`promoted` maps them to main ids); and
            ``(row, faint id, main id or None)`` where a main track started this frame on a person a
            faint track had followed (:func:`handovers`): that faint track ends. When it had become a
            person (main id given) the new track should keep that id; otherwise the new track may take
            the faint track's held boxes (the person's first frames, before they scored high enough).
        """
        rows = faint_candidates(detections, self.main.matched_rows, self.main.new_track_threshold)
        handed = self._hand_over(detections, rows)
        self._frames.append((float(timestamp), rows, detections.xyxy))
        tracked = self.tracker.update(replace(detections[rows], embedding=None), timestamp)
        step = self.tracker.step
        hits = [
            (s, int(self._frames[s - step - 1][1][d]), tid)
            for s, d, tid in self.tracker.backfill
            if step - s < len(self._frames)
        ]
        hits += [(step, int(rows[d]), int(t)) for d, t in zip(self.tracker.output_rows, tracked.track_id)]
        hits.sort()
        promoted_now = []
        for s, row, tid in hits:
            t, _, xyxy = self._frames[s - step - 1]
            self._recent.setdefault(tid, deque()).append((t, xyxy[row]))
        for tid in {tid for _, _, tid in hits}:
            recent = self._recent[tid]
            while len(recent) > 1 and recent[0][0] < timestamp - self.hold_s:
                recent.popleft()
            shift = max_shift(np.stack([b for _, b in recent]))
            self.largest_shift[tid] = max(shift, self.largest_shift.get(tid, 0.0))
            if tid not in self.promoted and shift >= self.min_shift:
                self.promoted[tid] = self.main.new_track_id()
                self.people.add(tid)
                promoted_now.append(tid)
        alive = {t.track_id for t in self.tracker.tracks}
        for tid in [t for t in self._recent if t not in alive]:
            del self._recent[tid]
            self.promoted.pop(tid, None)
        return hits, promoted_now, handed

    def _hand_over(
        self, detections: Detections, weak: npt.NDArray[np.int64]
    ) -> list[tuple[int, int, int | None]]:
        """End the faint tracks a new main track starts on: ``(row, faint id, main id or None)``; ``weak``:
        this frame's faint candidates (they compete for the faint tracks)."""
        started = self.main.started_rows
        if len(started) == 0 or not self._recent:
            return []
        faint_ids = list(self._recent)
        last = np.stack([self._recent[f][-1][1] for f in faint_ids])
        out = []
        for r, c in handovers(detections.xyxy[started], last, detections.xyxy[weak]):
            faint_id = faint_ids[c]
            self.tracker.drop(faint_id)
            del self._recent[faint_id]
            out.append((int(started[r]), faint_id, self.promoted.pop(faint_id, None)))
        return out


def handovers(
    new_xyxy: npt.NDArray[np.floating],
    faint_xyxy: npt.NDArray[np.floating],
    weak_xyxy: npt.NDArray[np.floating] | None = None,
    min_iou: float = HANDOVER_IOU,
) -> list[tuple[int, int]]:
    """``(new index, faint index)`` pairs of one person: new main tracks' first boxes (N, 4) matched one to
    one to faint tracks' last boxes (F, 4) on IoU (at least ``min_iou``, by linear assignment).

    ``weak_xyxy`` (W, 4), this frame's other weak boxes, compete in the same assignment: a faint track
    that fits one of them better (a mannequin still seen beside a person who starts over it) goes on with
    it and is not handed over.
    """
    weak = np.zeros((0, 4)) if weak_xyxy is None else weak_xyxy
    iou = box_iou(np.concatenate([np.asarray(new_xyxy, float).reshape(-1, 4), weak]), faint_xyxy)
    if iou.size == 0:
        return []  # Nothing to match.
    rows, cols = linear_sum_assignment(-iou)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if r < len(new_xyxy) and iou[r, c] >= min_iou]
