"""Reuse a person's appearance feature from the previous frame instead of embedding the same box again.

A learned re-ID model costs several milliseconds per box on a CPU (OMZ-0287 on 2 cores: about 7 ms in
float, 2 ms in INT8), more than the detector for a handful of shoppers. Between two frames a person who
stands or walks alone barely changes: their box moves a little and nobody else comes near it. Such a box
takes the feature its predecessor had. Appearance matters where people meet, so a box is embedded afresh when:

- it overlaps its best predecessor by less than ``min_iou`` (it moved or changed shape: a new person, a
  turn, a low frame rate);
- any other box comes near it (IoU above ``max_other_iou``): of this frame, low scores included, or an
  embedded one of the previous frame (its low-score boxes are not kept); a group, a crossing, an
  occlusion, where the tracker needs to tell the people apart;
- it touches the frame's edge: a person walking into or out of view, whose visible part changes from
  frame to frame (and whose first views are the ones another camera's tracklet is compared with);
- its predecessor's feature is already ``max_reuse`` frames old (features are refreshed at least every
  ``max_reuse + 1`` frames, so a slow change of pose or light is followed).

When a track loses its person (no detection this frame, one the frame before), the features it was
given by reuse in the last ``max_reuse`` frames are computed afresh from those frames (:meth:`FeatureReuse.
refresh`): the newest views of a person are what the detection that ends a detector miss is compared
with, and copies of an older view can make the tracker refuse it (a CAVIAR shop clip split one track in
two that way).

The colour histogram (``hist``) costs less than a tenth of a millisecond per box: it is always computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pipeline.boxes import box_iou, cut_by_border

# Chosen by benchmarks/feature_reuse.py (the largest saving that keeps HOTA and IDF1 within 0.5 of
# embedding every box on every TUD video and mosaic, OMZ-0287 and -0288; held-out rows there).
MIN_IOU = 0.8
MAX_OTHER_IOU = 0.2
MAX_REUSE = 3
CHEAP_EMBEDDERS = frozenset({"hist"})  # features cheaper than the bookkeeping: never reused


def reuse_sources(
    prev_xyxy: npt.NDArray[np.float32],
    prev_age: npt.NDArray[np.int64],
    cur_xyxy: npt.NDArray[np.float32],
    others_xyxy: npt.NDArray[np.float32] | None = None,
    frame_size: tuple[int, int] | None = None,
    min_iou: float = MIN_IOU,
    max_other_iou: float = MAX_OTHER_IOU,
    max_reuse: int = MAX_REUSE,
) -> npt.NDArray[np.int64]:
    """For each box of the current frame, the index of the previous frame's box whose feature it takes,
    or -1 where it must be embedded (see the module docstring).

    Args:
        prev_xyxy: (P, 4) the previous frame's embedded boxes.
        prev_age: (P,) frames since each of those features was computed (0: computed in that frame).
        cur_xyxy: (N, 4) the current frame's boxes that need a feature.
        others_xyxy: (M, 4) the current frame's other boxes (those not embedded, e.g. low scores: a
            half-hidden person): a box near one of them is embedded afresh too.
        frame_size: ``(width, height)`` of the frame: boxes touching its edge are embedded afresh.
    """
    n = len(cur_xyxy)
    out = np.full(n, -1, np.int64)
    if n == 0 or len(prev_xyxy) == 0:
        return out
    iou = box_iou(cur_xyxy, prev_xyxy)  # (N, P)
    rows = np.arange(n)
    best = iou.argmax(axis=1)
    best_iou = iou[rows, best]
    others_prev = iou.copy()
    others_prev[rows, best] = 0.0
    rival_prev = others_prev.max(axis=1)  # another previous box near it
    near = box_iou(cur_xyxy, cur_xyxy)
    np.fill_diagonal(near, 0.0)
    near_cur = near.max(axis=1)  # another current box near it
    if others_xyxy is not None and len(others_xyxy):
        near_cur = np.maximum(near_cur, box_iou(cur_xyxy, others_xyxy).max(axis=1))
    # The predecessor must not be near any other current box either (a person walking into it).
    on_best = iou[:, best].T  # [i, j]: current box j against box i's predecessor
    np.fill_diagonal(on_best, 0.0)
    others_on_best = on_best.max(axis=1)
    ok = (
        (best_iou >= min_iou)
        & (rival_prev <= max_other_iou)
        & (near_cur <= max_other_iou)
        & (others_on_best <= max_other_iou)
        & (prev_age[best] < max_reuse)
    )
    if frame_size is not None:
        ok &= ~cut_by_border(cur_xyxy, frame_size)
    out[ok] = best[ok]
    return out


@dataclass
class FeatureReuse:
    """The previous frame's embedded boxes, their features and ages: the state :func:`reuse_sources`
    needs from one frame to the next, and its parameters. ``embedded`` and ``reused`` count boxes over
    the video."""

    min_iou: float = MIN_IOU
    max_other_iou: float = MAX_OTHER_IOU
    max_reuse: int = MAX_REUSE
    xyxy: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    features: npt.NDArray[np.float32] | None = None
    age: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    embedded: int = 0
    reused: int = 0
    # step -> (image, {detection index: box}) of the boxes given a reused feature in the last frames.
    recent: dict[int, tuple[np.ndarray, dict[int, npt.NDArray[np.float32]]]] = field(default_factory=dict)

    def features_for(
        self,
        embed,
        image: np.ndarray,
        xyxy: npt.NDArray[np.float32],
        others_xyxy: npt.NDArray[np.float32] | None = None,
    ) -> npt.NDArray[np.float32]:
        """(N, D) features of ``xyxy`` in ``image``: reused where :func:`reuse_sources` allows, the rest
        from ``embed(image, boxes)``; remembers this frame for the next. ``others_xyxy``: the frame's
        boxes that get no feature (see :func:`reuse_sources`). At least one box: a frame without any
        is :meth:`skip_frame`."""
        if len(xyxy) == 0:
            raise ValueError("features_for needs at least one box; call skip_frame for a frame without")
        src = (
            reuse_sources(
                self.xyxy,
                self.age,
                xyxy,
                others_xyxy,
                (image.shape[1], image.shape[0]),
                self.min_iou,
                self.max_other_iou,
                self.max_reuse,
            )
            if self.features is not None
            else np.full(len(xyxy), -1, np.int64)
        )
        fresh = np.flatnonzero(src < 0)
        computed = embed(image, xyxy[fresh]) if len(fresh) else None
        dim = computed.shape[1] if computed is not None else self.features.shape[1]  # type: ignore[union-attr]
        out = np.zeros((len(xyxy), dim), np.float32)
        age = np.zeros(len(xyxy), np.int64)
        if computed is not None:
            out[fresh] = computed
        kept = np.flatnonzero(src >= 0)
        if len(kept):
            out[kept] = self.features[src[kept]]  # type: ignore[index]
            age[kept] = self.age[src[kept]] + 1
        self.xyxy, self.features, self.age = np.asarray(xyxy, np.float32), out, age
        self.embedded += len(fresh)
        self.reused += len(kept)
        return out

    def remember(self, step: int, image: np.ndarray, reused: dict[int, npt.NDArray[np.float32]]) -> None:
        """Keep frame ``step``'s image and its reused boxes (by detection index) for :meth:`refresh`, for
        ``max_reuse`` steps."""
        self.recent = {s: f for s, f in self.recent.items() if s >= step - self.max_reuse}
        if reused:
            self.recent[step] = (image, reused)

    def refresh(self, tracks, embed) -> int:
        """Embed afresh the reused features still remembered of ``tracks`` (the tracks that just lost their
        person: ``DeepSortTracker.just_lost``) and put them in their galleries; returns how many.

        Args:
            tracks: :class:`pipeline.tracking.track.Track` objects (``feature_keys``, ``replace_feature``).
            embed: the embedder's ``embed(image, xyxy)``.
        """
        jobs: dict[int, list[tuple[object, int]]] = {}
        for track in tracks:
            for step, det in track.feature_keys:
                if step in self.recent and det in self.recent[step][1]:
                    jobs.setdefault(step, []).append((track, det))
        done = 0
        for step, items in jobs.items():
            image, boxes = self.recent[step]
            features = embed(image, np.stack([boxes[det] for _, det in items]).astype(np.float32))
            for (track, det), feature in zip(items, features):
                track.replace_feature((step, det), feature)
                del boxes[det]  # fresh now: never embedded twice
            done += len(items)
        self.embedded += done
        self.reused -= done
        return done

    def skip_frame(self) -> None:
        """A frame with no box to embed: nothing carries over to the next."""
        self.xyxy, self.features, self.age = np.zeros((0, 4), np.float32), None, np.zeros(0, np.int64)
