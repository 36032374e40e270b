"""Offline use of a tracker: emit the tentative frames of tracks once they are confirmed.

An online tracker only reports a person after ``n_init`` hits, so the first ``n_init - 1`` frames of
every track are lost. Offline processing can wait: :class:`OfflineTrackRunner` holds each frame back
until no pending tentative track can still claim it (a tentative track dies on its first miss, so
that is ``n_init - 1`` steps), then releases it with the backfilled ids.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from pipeline.tracking.tracker import DeepSortTracker
from pipeline.types import Detections


@dataclass(frozen=True)
class TrackedFrame:
    """The tracked people of one processed frame.

    Attributes:
        step: 0-based number of the :meth:`OfflineTrackRunner.update` call.
        timestamp: seconds, as passed to ``update``.
        detections: rows of that call's input with ``track_id`` set (confirmed tracks only).
    """

    step: int
    timestamp: float
    detections: Detections


class OfflineTrackRunner:
    """Wraps a :class:`DeepSortTracker`, delaying output by ``n_init - 1`` steps to backfill ids.

    Args:
        tracker: a fresh tracker (its ``update`` must only be called through this runner).

    Example:
        >>> runner = OfflineTrackRunner(DeepSortTracker())
        >>> out = []
        >>> for ts, dets in stream:
        ...     out += runner.update(dets, ts)  # finished frames, in order, possibly none yet
        >>> out += runner.finish()  # the held-back tail
    """

    def __init__(self, tracker: DeepSortTracker) -> None:
        if tracker.step != -1:
            raise ValueError("tracker must be fresh (update() already called)")
        self.tracker = tracker
        self._delay = max(tracker.n_init - 1, 0)
        # step -> (timestamp, input detections, track id per input row, -1 = none)
        self._buffer: deque[tuple[int, float, Detections, np.ndarray]] = deque()

    def update(self, detections: Detections, timestamp: float) -> list[TrackedFrame]:
        """Track one frame; return the frames that can no longer change (oldest first)."""
        tracked = self.tracker.update(detections, timestamp)
        ids = np.full(len(detections), -1, np.int64)
        ids[self.tracker.output_rows] = tracked.track_id
        self._buffer.append((self.tracker.step, float(timestamp), detections, ids))
        first_step = self._buffer[0][0]
        for step, det_idx, track_id in self.tracker.backfill:
            self._buffer[step - first_step][3][det_idx] = track_id
        released = []
        while len(self._buffer) > self._delay:
            released.append(self._release())
        return released

    def finish(self) -> list[TrackedFrame]:
        """Release every frame still held back (call once after the last ``update``)."""
        released = []
        while self._buffer:
            released.append(self._release())
        return released

    def _release(self) -> TrackedFrame:
        step, timestamp, detections, ids = self._buffer.popleft()
        keep = np.flatnonzero(ids >= 0)
        return TrackedFrame(step, timestamp, detections[keep].with_track_id(ids[keep]))
