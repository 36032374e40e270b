"""One long video as parallel time segments, and the stitching that makes them one video again.

A segment tracks frames ``[read_start, read_end)`` with its own tracker and owns (writes) the frames
``[own_start, own_end)`` between two cuts. Neighbouring segments both read ``overlap`` frames on each side
of their cut: the later tracker warms up before the cut, the earlier one runs on after it, and in that
window both see the same detections (same detector, same frames). :func:`stitch_tracks` matches the
tracks of the two sides there by how often their boxes coincide (IoU), gated by appearance, and
:class:`VideoAssembler` renumbers the later segment's tracks (a matched track keeps the earlier id, a new
one gets a fresh id) so ids stay unique per video and do not jump at a seam.

Worker side: :func:`segment_messages` (like :func:`pipeline.process.video_messages` for a part of a
video). Driver side: :class:`VideoAssembler` turns each video's segments, given in any order, into the
message stream of one video for :func:`pipeline.jobs.process_store`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from pipeline.boxes import paired_iou
from pipeline.process import VideoMessage, VideoTask, final_message, frame_rows
from pipeline.track_video import Components, TrackChunks, TrackedVideoFrame, choose_size, track_video
from pipeline.tracking.matching import linear_assignment
from pipeline.video import DecodeStatus, VideoInfo

# The tracker's max_age (pipeline.tracking.tracker): someone the unsplit tracker would re-link after an
# occlusion just before a cut reappears within the overlap, where the earlier segment still links them.
DEFAULT_OVERLAP_SECONDS = 2.0
MIN_IOU = 0.5  # two boxes in the same frame are the same detection
MIN_AGREEMENT = 0.5  # fraction of the shorter side's frames in the window whose boxes coincide
MIN_FRAMES = 2  # coinciding frames below which a pair is never stitched
MAX_COSINE = 0.5  # appearance gate (cosine distance between the sides' mean features)
APPEARANCE_WEIGHT = 0.1  # appearance only breaks near ties: the boxes are the main evidence


@dataclass(frozen=True)
class Segment:
    """One time segment of a video (0-based frame indices; ``None`` = the end of the file).

    Attributes:
        index: position in the video's segment list.
        read_start, read_end: frames this segment's tracker runs on.
        own_start, own_end: frames whose tracks this segment writes (between two cuts).
    """

    index: int
    read_start: int
    read_end: int | None
    own_start: int
    own_end: int | None

    def owns(self, frame: int) -> bool:
        return frame >= self.own_start and (self.own_end is None or frame < self.own_end)


def plan_segments(n_frames: int, n_segments: int, overlap: int, step: int = 1) -> list[Segment]:
    """Cut ``n_frames`` frames into ``n_segments`` segments with ``overlap`` frames read on both sides
    of each cut.

    Cuts and read starts are multiples of ``step`` (the frame stride), so a segment processes exactly
    the frames the unsplit run would. Fewer segments are returned when the video is too short for each
    to own at least ``overlap`` frames (and one stride). The last segment reads and owns to the end of the
    file (``n_frames`` is often only an estimate).

    Raises:
        ValueError: ``n_segments`` or ``step`` < 1, ``overlap`` < 0 or ``n_frames`` < 0.
    """
    if n_segments < 1:
        raise ValueError(f"n_segments must be >= 1, but got {n_segments}")
    if step < 1:
        raise ValueError(f"step must be >= 1, but got {step}")
    if overlap < 0:
        raise ValueError(f"overlap must be >= 0 frames, but got {overlap}")
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, but got {n_frames}")
    n_segments = max(1, min(n_segments, n_frames // max(step, overlap, 1)))
    cuts = [0] + [(k * n_frames // n_segments) // step * step for k in range(1, n_segments)] + [None]
    segments = []
    for k in range(n_segments):
        own_start, own_end = cuts[k], cuts[k + 1]
        read_start = max(0, own_start - overlap) // step * step
        read_end = None if own_end is None else own_end + overlap
        segments.append(Segment(k, read_start, read_end, own_start, own_end))
    return segments


def check_segment_options(
    n_segments: int | None, segment_seconds: float | None, overlap_seconds: float
) -> None:
    """Validate how videos are to be cut (see :func:`segments_for`).

    Raises:
        ValueError: both or a non-positive ``n_segments`` / ``segment_seconds``; ``overlap_seconds`` < 0.
    """
    if n_segments is not None and n_segments < 1:
        raise ValueError(f"n_segments must be >= 1, but got {n_segments}")
    if n_segments is not None and segment_seconds is not None:
        raise ValueError("give n_segments or segment_seconds, not both")
    if segment_seconds is not None and not segment_seconds > 0:
        raise ValueError(f"segment_seconds must be > 0, but got {segment_seconds}")
    if not overlap_seconds >= 0:
        raise ValueError(f"overlap_seconds must be >= 0, but got {overlap_seconds}")


def segments_for(
    info: VideoInfo,
    stride: int = 1,
    sample_fps: float | None = None,
    n_segments: int | None = None,
    segment_seconds: float | None = None,
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
) -> list[Segment]:
    """The segments of one video: ``n_segments`` of them, or as many as make each about
    ``segment_seconds`` long; one (the whole video) when neither is given.

    Raises:
        ValueError: both or a non-positive ``n_segments`` / ``segment_seconds``; ``overlap_seconds`` < 0.
    """
    check_segment_options(n_segments, segment_seconds, overlap_seconds)
    if segment_seconds is not None:
        n_segments = max(1, math.ceil(info.n_frames / info.fps / segment_seconds))
    step = 1 if sample_fps else stride  # time-based sampling restarts its grid at each read start
    return plan_segments(info.n_frames, n_segments or 1, round(overlap_seconds * info.fps), step)


def _pair_ious(prev_rows: pd.DataFrame, next_rows: pd.DataFrame) -> pd.DataFrame:
    """IoU of every prev/next box pair in the same frame: columns prev_id, next_id, iou."""
    cols = ["frame", "track_id", "x1", "y1", "x2", "y2"]
    pairs = prev_rows[cols].merge(next_rows[cols], on="frame", suffixes=("_p", "_n"))
    iou = paired_iou(
        pairs[["x1_p", "y1_p", "x2_p", "y2_p"]].to_numpy(np.float64),
        pairs[["x1_n", "y1_n", "x2_n", "y2_n"]].to_numpy(np.float64),
    )
    return pd.DataFrame({"prev_id": pairs["track_id_p"], "next_id": pairs["track_id_n"], "iou": iou})


def stitch_tracks(
    prev_rows: pd.DataFrame,
    next_rows: pd.DataFrame,
    prev_embeddings: dict[int, np.ndarray] | None = None,
    next_embeddings: dict[int, np.ndarray] | None = None,
    min_iou: float = MIN_IOU,
    min_agreement: float = MIN_AGREEMENT,
    min_frames: int = MIN_FRAMES,
    max_cosine: float = MAX_COSINE,
) -> dict[int, int]:
    """Match the tracks of two segments in the window both tracked (one-to-one, Hungarian).

    A pair's evidence is the number of frames where their boxes coincide (IoU >= ``min_iou``), as a
    fraction of the frames of the side seen less in the window (its *agreement*). A pair is stitched
    only with at least ``min_frames`` such frames, an agreement of at least ``min_agreement`` and, when
    both sides have a mean appearance feature, a cosine distance of at most ``max_cosine``.

    Args:
        prev_rows, next_rows: track points of the earlier and the later segment in the overlap window
            (columns frame, track_id, x1, y1, x2, y2; xyxy pixels).
        prev_embeddings, next_embeddings: track id -> L2-normalised mean feature (optional).

    Returns:
        Later track id -> earlier track id, for the stitched pairs only.
    """
    if len(prev_rows) == 0 or len(next_rows) == 0:
        return {}  # Nothing to match.
    pairs = _pair_ious(prev_rows, next_rows)
    votes = pairs[pairs["iou"] >= min_iou].groupby(["prev_id", "next_id"]).size()
    if votes.empty:
        return {}
    n_prev = prev_rows.groupby("track_id")["frame"].nunique()
    n_next = next_rows.groupby("track_id")["frame"].nunique()
    prev_ids = sorted({int(p) for p, _ in votes.index})
    next_ids = sorted({int(n) for _, n in votes.index})
    prev_embeddings, next_embeddings = prev_embeddings or {}, next_embeddings or {}
    infeasible = 1e6
    cost = np.full((len(prev_ids), len(next_ids)), infeasible)
    for (p, n), count in votes.items():
        agreement = count / min(n_prev[p], n_next[n])
        if count < min_frames or agreement < min_agreement:
            continue
        cosine = 0.0
        if p in prev_embeddings and n in next_embeddings:
            cosine = 1.0 - float(np.dot(prev_embeddings[p], next_embeddings[n]))
            if cosine > max_cosine:
                continue
        cost[prev_ids.index(int(p)), next_ids.index(int(n))] = (1.0 - agreement) + APPEARANCE_WEIGHT * cosine
    return {
        next_ids[col]: prev_ids[row]
        for row, col in linear_assignment(cost).tolist()
        if cost[row, col] < infeasible
    }


def segment_messages(task: VideoTask, segment: Segment, components: Components) -> Iterator[VideoMessage]:
    """Track one segment of ``task``'s video, in batches of ``task.batch_frames`` processed frames.

    Batches hold every frame read (the overlap too: the driver needs it to stitch); the final message's
    appearance (``embeddings``, ``chunks``, ``n_tracks``) covers the owned frames only. Every segment
    chooses the input size itself: ``--imgsz auto`` probes the video's first seconds, so all segments
    of a video run at the same size.
    """
    cam = task.camera
    chunks = TrackChunks()
    batch: list[TrackedVideoFrame] = []
    decoded = DecodeStatus()
    label = f"{cam.name}#{segment.index}" if task.progress else False
    size = choose_size(task.info, task.settings, components, cam.fps)
    frames = track_video(
        task.info.path,
        task.settings,
        components,
        cam.fps,
        start_frame=segment.read_start,
        progress=label,
        status=decoded,
        size=size,
    )
    last_frame = segment.read_start - 1
    try:
        for tracked in frames:
            if segment.read_end is not None and tracked.frame >= segment.read_end:
                break
            batch.append(tracked)
            if segment.owns(tracked.frame):
                chunks.add(tracked.frame, tracked.t_sec, tracked.detections)
            last_frame = tracked.frame
            if len(batch) >= task.batch_frames:
                yield VideoMessage(cam.name, frame_rows(task.video_id, cam, batch), last_frame + 1)
                batch = []
    finally:
        frames.close()
    frames_done = decoded.frames_decoded if segment.read_end is None else last_frame + 1
    yield final_message(task, components, batch, frames_done, chunks, decoded, size)


def _owned(rows: pd.DataFrame, segment: Segment) -> pd.DataFrame:
    if not len(rows):
        return rows
    frame = rows["frame"].to_numpy()
    keep = frame >= segment.own_start
    if segment.own_end is not None:
        keep &= frame < segment.own_end
    return rows[keep]


class VideoAssembler:
    """One video's segment results -> the messages of one video, renumbered and in frame order.

    Give each segment's complete message list to :meth:`add` as it arrives (any order); it returns the
    messages that can now be written: those of every segment whose predecessors are all in. The last
    segment's final message carries the whole video's tracklet appearance.

    A stitched track's mean feature is the mean of its parts' means weighted by their embedded boxes
    (the unsplit run normalises the sum of all features: the same direction up to the parts' spread).
    """

    def __init__(self, segments: list[Segment]) -> None:
        if not segments:
            raise ValueError("segments must not be empty")
        self.segments = segments
        self._waiting: dict[int, list[VideoMessage]] = {}
        self._next = 0
        self._next_id = 0
        self._frames_done = 0
        self._tail = pd.DataFrame()  # previous segment's rows (final ids) the next segment also read
        self._tail_embeddings: dict[int, np.ndarray] = {}
        self._chunks: list[pd.DataFrame] = []
        self._feature_sums: dict[int, np.ndarray] = {}
        self._written_ids: set[int] = set()
        self._warnings: list[str] = []
        self.stitched = 0  # tracks continued across a seam (for logs and the benchmark)

    @property
    def done(self) -> bool:
        return self._next == len(self.segments)

    def add(self, index: int, messages: list[VideoMessage]) -> list[VideoMessage]:
        """Take segment ``index``'s messages (ending with its final one); return what can be written."""
        if not messages or not messages[-1].final:
            raise ValueError(f"segment {index}: the messages must end with a final one")
        if index in self._waiting or index < self._next:
            raise ValueError(f"segment {index} was given twice")
        self._waiting[index] = messages
        out: list[VideoMessage] = []
        while self._next in self._waiting:
            out += self._emit(self.segments[self._next], self._waiting.pop(self._next))
            self._next += 1
        return out

    def _ids(self, segment: Segment, rows: pd.DataFrame, embeddings: dict[int, np.ndarray]) -> dict[int, int]:
        """Segment track id -> video track id: stitched ones continue, the others get fresh ids."""
        mapping: dict[int, int] = {}
        if segment.index > 0:
            prev_end = self.segments[segment.index - 1].read_end
            window = rows[rows["frame"] < prev_end] if prev_end is not None else rows
            mapping = stitch_tracks(self._tail, window, self._tail_embeddings, embeddings)
            self.stitched += len(mapping)
        first_seen = rows.groupby("track_id")["frame"].min().sort_values(kind="stable")
        for tid in first_seen.index:
            if int(tid) not in mapping:
                mapping[int(tid)] = self._next_id
                self._next_id += 1
        return mapping

    def _emit(self, segment: Segment, messages: list[VideoMessage]) -> list[VideoMessage]:
        final = messages[-1]
        parts = [m.rows for m in messages if len(m.rows)]
        rows = pd.concat(parts, ignore_index=True) if parts else messages[0].rows
        embeddings = final.embeddings or {}
        mapping = self._ids(segment, rows, embeddings)
        last = segment.index == len(self.segments) - 1
        if not last:
            nxt = self.segments[segment.index + 1]
            tail = rows[rows["frame"] >= nxt.read_start]
            self._tail = tail.assign(track_id=tail["track_id"].map(mapping).astype("int64"))
            self._tail_embeddings = {mapping[t]: e for t, e in embeddings.items() if t in mapping}
        if final.chunks is not None and len(final.chunks):
            self._chunks.append(
                final.chunks.assign(track_id=final.chunks["track_id"].map(mapping).astype("int64"))
            )
            n_embedded = final.chunks.groupby("track_id")["n_embedded"].sum()
            for tid, feature in embeddings.items():
                vid = mapping[tid]
                weighted = float(n_embedded.get(tid, 0)) * np.asarray(feature, np.float64)
                self._feature_sums[vid] = self._feature_sums.get(vid, 0.0) + weighted
        if final.warning:
            self._warnings.append(f"segment {segment.index}: {final.warning}")
        out = []
        for msg in messages:
            owned = _owned(msg.rows, segment)
            owned = owned.assign(track_id=owned["track_id"].map(mapping).astype("int64"))
            self._written_ids.update(owned["track_id"].tolist())
            if msg.final and last:
                out.append(self._final(msg, owned))
                continue
            frames_done = (
                msg.frames_done if segment.own_end is None else min(msg.frames_done, segment.own_end)
            )
            if frames_done > self._frames_done or len(owned):
                self._frames_done = max(frames_done, self._frames_done)
                out.append(VideoMessage(msg.camera, owned, self._frames_done))
        return out

    def _final(self, msg: VideoMessage, rows: pd.DataFrame) -> VideoMessage:
        chunks = None
        if self._chunks:
            chunks = pd.concat(self._chunks, ignore_index=True).sort_values(
                ["track_id", "t_start"], kind="stable"
            )
            chunks["chunk"] = chunks.groupby("track_id").cumcount()
            chunks = chunks.reset_index(drop=True)
        means = {
            tid: (s / max(np.linalg.norm(s), 1e-12)).astype(np.float32)
            for tid, s in self._feature_sums.items()
            if np.linalg.norm(s) > 0
        }
        return replace(
            msg,
            rows=rows,
            embeddings=means,
            n_tracks=len(self._written_ids),
            chunks=chunks,
            warning="; ".join(self._warnings) or None,
        )


def segmented_messages(
    task: VideoTask, segments: list[Segment], components: Components
) -> Iterator[VideoMessage]:
    """Track ``segments`` of ``task``'s video one after another in this process and stitch them: the
    messages the Ray executor gives for the video (tests and benchmarks compare it with the unsplit run)."""
    assembler = VideoAssembler(segments)
    for segment in segments:
        yield from assembler.add(segment.index, list(segment_messages(task, segment, components)))
