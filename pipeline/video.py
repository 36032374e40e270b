"""Read video frames with PyAV (FFmpeg), each with its real presentation time.

Problems with the file (missing, empty, a still image, not a video, no frames) raise
:class:`~pipeline.errors.VideoError` naming the file, before any processing starts. Damage found only
while decoding (a file cut short, packets that fail to decode) does not raise: it is reported in a
:class:`DecodeStatus` the caller passes to :func:`read_frames`, so the frames that could be decoded are
kept and the caller decides how to mark the video.

Why PyAV rather than OpenCV: ``cv2.VideoCapture`` reports the container's frame count as if it were
true (an MPEG-1 ``.mpg`` elementary stream: 4 frames of 485; an AVI cut to 30 %: all 71), its frame seek
lands on a wrong frame in MPEG-1 streams, and it hides whether the container has timestamps at all.
PyAV gives each frame's presentation timestamp and the container's own flags. Single frames for display:
:func:`frame_at`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

# FFmpeg's own log lines ("moov atom not found") would precede our clear error; silence them.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from pipeline.errors import VideoError
from pipeline.types import Frame

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".ts")

# Decoding shorter than this share of what the container states (frames or duration) marks it truncated.
COMPLETE_SHARE = 0.9
# Raw elementary streams (.mpg MPEG-1/2 video, .264) state neither length nor frame count: their packets
# are counted, up to this many bytes (about 0.1 s per 10 MB here); beyond it the count is extrapolated.
COUNT_BYTES_LIMIT = 256 * 1024 * 1024

_Container = av.container.InputContainer
_Stream = av.video.stream.VideoStream

log = logging.getLogger(__name__)
av.logging.set_level(None)  # FFmpeg's log lines would precede our clear errors; they carry no more.


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as far as can be told without decoding all of it.

    Attributes:
        path: the file.
        fps: nominal frame rate (the container's average rate, or the caller's override). Frame
            timestamps come from the footage itself, not from this (see :func:`read_frames`).
        n_frames: an *estimate* of the frame count, for progress display only: the container's frame
            index or header count, or stated duration x ``fps``. Only decoding tells the true count
            (:attr:`DecodeStatus.frames_decoded`); a damaged file may hold fewer frames, a raw stream more.
        width: frame width in pixels.
        height: frame height in pixels.
        n_frames_exact: ``n_frames`` comes from a per-frame index (MP4/MOV) or from counting every packet
            of the file, so an undamaged file decodes to exactly that many frames.
        duration: seconds the container states it lasts, or ``None`` when it does not say (a raw stream).
        backend: ``"pyav"``, or ``"opencv"`` for a file only OpenCV could open.
    """

    path: Path
    fps: float
    n_frames: int
    width: int
    height: int
    n_frames_exact: bool = False
    duration: float | None = None
    backend: str = "pyav"


@dataclass
class DecodeStatus:
    """What decoding actually reached, filled in by :func:`read_frames` as it goes.

    Read it once the loop over the frames has ended. ``frames_decoded`` is the frame count to trust (not
    :attr:`VideoInfo.n_frames`).

    Attributes:
        frames_decoded: frames the decoder produced, including those skipped by stride or sampling.
        last_timestamp: timestamp of the last decoded frame (seconds), ``None`` before the first.
        last_file_time: the file's own time of that frame (seconds since its first), ``None`` when the file
            has no timestamps; differs from ``last_timestamp`` under a frame rate override.
        finished: decoding reached the end of the file (``False`` when the consumer stopped early).
        truncated: decoding stopped with an error or well short (< 90 %) of the frames or duration the
            container states: the file is damaged or cut, frames after that point are missing.
        decode_errors: packets that failed to decode (skipped; decoding went on).
        problem: one line for the user when ``truncated`` or ``decode_errors``, else ``None``.
    """

    frames_decoded: int = 0
    last_timestamp: float | None = None
    last_file_time: float | None = None
    finished: bool = False
    truncated: bool = False
    decode_errors: int = 0
    problem: str | None = None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoError(f"video not found: {path}")
    if not path.is_file():
        raise VideoError(f"not a video file: {path}")
    if path.stat().st_size == 0:
        raise VideoError(f"video file is empty: {path}")


def _is_still_image(container: _Container) -> bool:
    """FFmpeg's image demuxers (``png_pipe``, ``jpeg_pipe``, ``image2``...) whatever the file's suffix."""
    name = container.format.name
    return name.endswith("_pipe") or name.startswith("image2")


def _has_timestamps(container: _Container) -> bool:
    """Raw elementary streams carry no timestamps: FFmpeg invents them (and gets the first one wrong)."""
    return not container.format.flags & av.format.Flags.no_timestamps.value


def _open_av(path: Path) -> _Container | None:
    """The PyAV container, or ``None`` when FFmpeg cannot open it at all."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError):
        return None
    if _is_still_image(container):
        container.close()
        raise VideoError(f"{path}: not a video: a single still image")
    if not container.streams.video:
        container.close()
        raise VideoError(f"cannot read {path}: the file holds no video stream")
    return container


def _stated_duration(container: _Container, stream: _Stream) -> float | None:
    if not _has_timestamps(container):
        return None  # FFmpeg estimates it from the bit rate (0.2 s for a 19 s CAVIAR clip): worthless
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _count_packets(container: _Container, stream: _Stream, size: int) -> tuple[int, bool]:
    """Count the video packets of a raw stream (one per frame); extrapolate past COUNT_BYTES_LIMIT."""
    n, read = 0, 0
    try:
        for packet in container.demux(stream):
            if packet.size:
                n += 1
                read += packet.size
                if read >= COUNT_BYTES_LIMIT:
                    return round(n * size / read), False
    except av.error.FFmpegError:
        return n, False
    return n, True


def _estimate_frames(container: _Container, stream: _Stream, fps: float, size: int) -> tuple[int, bool]:
    """(estimated frame count, exact) from what the container states; see :attr:`VideoInfo.n_frames`."""
    if not _has_timestamps(container):
        return _count_packets(container, stream, size)
    stated = stream.frames or 0
    duration = _stated_duration(container, stream)
    from_duration = round(duration * fps) if duration else 0
    disagree = abs(stated - from_duration) > (1 - COMPLETE_SHARE) * max(stated, from_duration)
    if stated and from_duration and disagree:
        # They disagree: an AVI cut short keeps its header's count, while FFmpeg's duration comes from
        # the packets it found. The smaller one is the plausible one; decoding settles it.
        return min(stated, from_duration), False
    if stated:
        # MP4/MOV count the entries of their per-frame sample table; AVI and others copy a header field.
        exact = any(name in container.format.name.split(",") for name in ("mov", "mp4"))
        return stated, exact
    if not from_duration:  # states neither (an MKV written live): count its packets as for a raw stream
        return _count_packets(container, stream, size)
    return from_duration, False


def _first_frame(container: _Container, stream: _Stream, max_packets: int = 500) -> av.VideoFrame | None:
    """The first decodable frame, skipping damaged packets at the start (``None`` if there is none)."""
    try:
        for n, packet in enumerate(container.demux(stream)):
            if n >= max_packets:
                return None
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue
            if frames:
                return frames[0]
    except av.error.FFmpegError:
        return None
    return None


def probe(path: str | Path, fps_override: float | None = None) -> VideoInfo:
    """Open ``path``, decode its first frame and report its properties.

    Raises:
        VideoError: missing, empty, a still image, undecodable, or no frames.
    """
    path = Path(path)
    _check_file(path)
    container = _open_av(path)
    if container is None:
        return _probe_opencv(path, fps_override)
    with container:
        stream = container.streams.video[0]
        first = _first_frame(container, stream)
        if first is None:
            raise VideoError(f"cannot decode any frame of {path}: the file is corrupt or not a video")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        file_fps = float(rate) if rate else 0.0
        fps = fps_override or file_fps
        if not fps or not math.isfinite(fps) or fps <= 0:
            raise VideoError(f"{path} does not state its frame rate; set `fps` for this camera")
        width, height, duration = first.width, first.height, _stated_duration(container, stream)
        if _quarter_turns(first) % 2:  # shown turned by a quarter: upright frames are the other way round
            width, height = height, width
    # The file's frames, counted at its own rate: an override changes their times, not their number.
    count_fps = file_fps if file_fps > 0 and math.isfinite(file_fps) else fps
    with _open_av(path) as container:  # from the start again: raw streams count their packets
        n_frames, exact = _estimate_frames(
            container, container.streams.video[0], count_fps, path.stat().st_size
        )
    return VideoInfo(path, float(fps), max(n_frames, 1), width, height, exact, duration)


def sample_step(fps: float, stride: int = 1, sample_fps: float | None = None) -> int:
    """Frames to advance between processed frames: ``stride``, or the step giving ``sample_fps``.

    With a constant frame rate this is what :func:`read_frames` does; with ``sample_fps`` it picks frames
    by their timestamps, so use this only to estimate how many frames will be processed.

    Raises:
        ValueError: stride < 1 or sample_fps <= 0.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, but got {stride}")
    if sample_fps is not None:
        if sample_fps <= 0:
            raise ValueError(f"sample_fps must be > 0, but got {sample_fps}")
        return max(1, round(fps / sample_fps))
    return stride


def frame_at(
    path: str | Path, index: int, timestamp: float | None = None, info: VideoInfo | None = None
) -> npt.NDArray[np.uint8]:
    """One frame as (H, W, 3) BGR uint8: the frame :func:`read_frames` yields with this ``index``.

    Files with timestamps are sought to the key frame before the frame's time, then decoded forward: give
    ``timestamp`` (the ``Frame.timestamp`` / stored ``t_sec``) for a variable frame rate file, else the
    time is taken as ``index / fps``. Files without timestamps (raw ``.mpg`` streams) are decoded from the
    start. (OpenCV's ``CAP_PROP_POS_FRAMES`` seek lands on a wrong frame for every index of a CAVIAR clip.)

    Raises:
        VideoError: the file cannot be read, or it ends before ``index``.
        ValueError: ``index`` < 0.
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, but got {index}")
    info = info or probe(path)
    if info.backend == "pyav":
        with _open_av(info.path) as container:
            stream = container.streams.video[0]
            if _has_timestamps(container) and stream.time_base:
                first = _first_frame(container, stream)
                if first is not None and first.pts is not None:
                    target = index / info.fps if timestamp is None else timestamp
                    return _seek_frame(container, stream, first.pts, target, info)
    for frame in read_frames(info.path, start_frame=index, info=info):
        return frame.image
    raise VideoError(f"{info.path} ends before frame {index}")


def _seek_frame(
    container: _Container, stream: _Stream, first_pts: int, target: float, info: VideoInfo
) -> npt.NDArray[np.uint8]:
    """The first frame at or after ``target`` seconds from the first frame (within rounding)."""
    tolerance = min(1e-3, 0.25 / info.fps)
    container.seek(first_pts + int(target / stream.time_base), stream=stream, backward=True)
    reformatter = VideoReformatter()
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:  # a damaged packet: skipped, as read_frames skips it
                continue
            for frame in frames:
                if (
                    frame.pts is not None
                    and float((frame.pts - first_pts) * frame.time_base) >= target - tolerance
                ):
                    return _upright(frame, reformatter.reformat(frame, format="bgr24").to_ndarray())
    except av.error.FFmpegError as exc:
        raise VideoError(f"cannot read {info.path} at {target:.3f} s: {exc}") from exc
    raise VideoError(f"{info.path} ends before {target:.3f} s")


def expected_frames(
    info: VideoInfo, stride: int = 1, sample_fps: float | None = None, start_frame: int = 0
) -> int | None:
    """Frames :func:`read_frames` will yield with these settings, or ``None`` when the file's frame count
    is only an estimate (a progress total or ETA from it would lie)."""
    if not info.n_frames_exact:
        return None
    n = max(0, info.n_frames - start_frame)
    if sample_fps:
        return min(n, math.ceil(n / info.fps * sample_fps))
    return (n + stride - 1) // stride


# A decoded frame whose pixels are converted only when it is picked (skipped frames cost no conversion).
_Decoded = tuple[float | None, Callable[[], npt.NDArray[np.uint8]]]


def read_frames(
    path: str | Path,
    stride: int = 1,
    fps_override: float | None = None,
    start_frame: int = 0,
    info: VideoInfo | None = None,
    *,
    sample_fps: float | None = None,
    status: DecodeStatus | None = None,
) -> Iterator[Frame]:
    """Yield every ``stride``-th frame of ``path`` from ``start_frame`` (0-based), or frames ``sample_fps``
    apart in time.

    ``Frame.timestamp`` is the frame's presentation time (pts x time base) relative to the first frame,
    so dropped frames and variable frame rates keep real time. Two cases use ``index / fps`` instead:
    ``fps_override`` (the caller says the file's timing is wrong) and raw elementary streams (an
    MPEG-1 ``.mpg``), which carry no timestamps. Frames are decoded sequentially, so any codec works and
    no seek accuracy issues arise.

    Args:
        stride: take every ``stride``-th decoded frame (ignored when ``sample_fps`` is set).
        sample_fps: take the first frame at or after each multiple of ``1 / sample_fps`` seconds from
            ``start_frame``'s time, choosing by timestamp (right for variable frame rates too).
        info: the result of :func:`probe` when the caller already has it (saves opening the file twice).
        status: filled in while decoding: frames actually decoded, whether the file is truncated.

    Raises:
        VideoError: the file cannot be opened or holds no decodable frame.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, but got {stride}")
    if sample_fps is not None and not sample_fps > 0:
        raise ValueError(f"sample_fps must be > 0, but got {sample_fps}")
    if info is None:
        info = probe(path, fps_override)
    if status is None:
        status = DecodeStatus()
    decoded = _decode_opencv(info, status) if info.backend == "opencv" else _decode_av(info, status)
    period = 1 / sample_fps if sample_fps else 0.0
    # Timestamps rounded to a coarse time base (ms) land a hair before the sampling grid. Larger than
    # that, the tolerance would pull frames ahead of their slot and skip the next slot.
    tolerance = min(1e-3, 0.1 * period)
    try:
        yield from _pick(decoded, info, stride, start_frame, period, tolerance, fps_override, status)
    finally:
        decoded.close()  # a consumer that stops early releases the file now, not at garbage collection
    if status.truncated or status.decode_errors:
        log.warning("%s: %s", info.path, status.problem)


def _pick(
    decoded: Iterator[_Decoded],
    info: VideoInfo,
    stride: int,
    start_frame: int,
    period: float,
    tolerance: float,
    fps_override: float | None,
    status: DecodeStatus,
) -> Iterator[Frame]:
    """Timestamp every decoded frame, yield those chosen by index stride or (``period`` > 0) by time."""
    t_origin: float | None = None
    due_slot = 0
    previous = -math.inf
    for index, (stamp, to_image) in enumerate(decoded):
        timestamp = index / info.fps if fps_override or stamp is None else stamp
        if timestamp <= previous:
            # Broken or duplicate timestamps would make the tracker see time stand still or run back.
            timestamp = previous + 1 / info.fps
        previous = timestamp
        status.frames_decoded = index + 1
        status.last_timestamp = timestamp
        if stamp is not None:
            status.last_file_time = stamp
        if index >= start_frame:
            if period:
                if t_origin is None:
                    t_origin = timestamp
                wanted = timestamp - t_origin >= due_slot * period - tolerance
                if wanted:
                    # The next slot after this frame's time (slots missed in a gap are not made up).
                    due_slot = max(due_slot, math.floor((timestamp - t_origin + tolerance) / period)) + 1
            else:
                wanted = (index - start_frame) % stride == 0
            if wanted:
                yield Frame(index=index, timestamp=timestamp, image=to_image())


def _decode_av(info: VideoInfo, status: DecodeStatus) -> Iterator[_Decoded]:
    """Decode with PyAV: (seconds since the first frame or ``None`` when unknown, BGR converter)."""
    container = _open_av(info.path)
    if container is None:
        raise VideoError(f"cannot read {info.path}: FFmpeg can no longer open it")
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: FFmpeg decodes ahead on spare cores
        # A few are enough (TUD-Stadtmitte decodes at ~1400 frames/s with 2); FFmpeg's default of one per
        # core would compete with the detector's threads, per worker process.
        stream.codec_context.thread_count = min(4, os.cpu_count() or 1)
        # One converter for the whole video: VideoFrame.to_ndarray builds a new swscale context per
        # frame, which halved the decode rate (TUD-Stadtmitte 700 -> 1045 frames/s with a shared one).
        reformatter = VideoReformatter()
        timed = _has_timestamps(container)
        first_pts: int | None = None
        last_error: str | None = None
        stopped: str | None = None
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:  # the container itself is unreadable from here on
                stopped = f"reading stopped with an error: {exc.strerror or exc}"
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:  # one damaged packet: skip it, decoding goes on
                status.decode_errors += 1
                last_error = str(exc.strerror or exc)
                continue
            for frame in frames:
                stamp = None
                pts = frame.pts if frame.pts is not None else frame.dts
                if timed and pts is not None and frame.time_base is not None:
                    if first_pts is None:
                        first_pts = pts
                    stamp = float(Fraction(pts - first_pts) * frame.time_base)
                yield stamp, _bgr(frame, reformatter)
        status.finished = True
        _judge(info, status, stopped, last_error, container, stream)


def _bgr(frame: av.VideoFrame, reformatter: VideoReformatter) -> Callable[[], npt.NDArray[np.uint8]]:
    # FFmpeg's swscale to bgr24, as OpenCV's FFmpeg backend does: TUD-Campus frames are pixel-identical.
    return lambda: _upright(frame, reformatter.reformat(frame, format="bgr24").to_ndarray())


def _quarter_turns(frame: av.VideoFrame) -> int:
    """Counter-clockwise quarter turns that show ``frame`` as meant: phones store pixels sideways and say
    how to turn them (the display matrix); OpenCV applies it, and so do we."""
    rotation = getattr(frame, "rotation", 0) or 0
    return round(rotation / 90) % 4


def _upright(frame: av.VideoFrame, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    turns = _quarter_turns(frame)
    return image if turns == 0 else np.ascontiguousarray(np.rot90(image, turns))


def _judge(
    info: VideoInfo,
    status: DecodeStatus,
    stopped: str | None,
    last_error: str | None,
    container: _Container | None = None,
    stream: _Stream | None = None,
) -> None:
    """Set ``status.truncated`` / ``problem`` once decoding has ended."""
    stated_frames = info.n_frames if info.n_frames_exact else 0
    if stream is not None:
        stated_frames = max(stated_frames, stream.frames or 0)
    duration = _stated_duration(container, stream) if container is not None else info.duration
    reached = status.frames_decoded
    reasons = []
    if stopped:
        reasons.append(stopped)
    if stated_frames and reached < COMPLETE_SHARE * stated_frames:
        reasons.append(f"decoding ended at frame {reached} of the {stated_frames} the file states")
    elif duration and status.last_timestamp is not None:
        # The stated duration is in the file's time, not an override's: compare like with like.
        last = status.last_file_time if status.last_file_time is not None else status.last_timestamp
        reached_s = last + 1 / info.fps
        if reached_s < COMPLETE_SHARE * duration:
            reasons.append(f"decoding ended at {reached_s:.1f} s of the {duration:.1f} s the file states")
    if reasons:
        status.truncated = True
        status.problem = "truncated or damaged video: " + "; ".join(reasons) + f" ({reached} frames kept)"
    if status.decode_errors:
        note = f"{status.decode_errors} damaged packet(s) skipped ({last_error})"
        status.problem = f"{status.problem}; {note}" if status.problem else f"damaged video: {note}"


# --- OpenCV fallback -----------------------------------------------------------------------------------
# opencv-python bundles its own FFmpeg build (other demuxers/decoders than PyAV's wheel) and a built-in
# MJPEG AVI reader, so a file PyAV's FFmpeg refuses may still open here. It is the fallback only: its
# frame count is a header field and its timestamps are the per-frame position OpenCV reports.


def _open_cv(path: Path) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoError(
            f"cannot read {path}: not a video FFmpeg can decode, or damaged (an MP4/MOV cut short loses the "
            f"index at its end); supported: {', '.join(VIDEO_SUFFIXES)}"
        )
    return cap


def _probe_opencv(path: Path, fps_override: float | None) -> VideoInfo:
    cap = _open_cv(path)
    try:
        ok, image = cap.read()
        if not ok or image is None:
            raise VideoError(f"cannot decode any frame of {path}: the file is corrupt or not a video")
        fps = fps_override or cap.get(cv2.CAP_PROP_FPS)
        if not fps or not math.isfinite(fps) or fps <= 0:
            raise VideoError(f"{path} does not state its frame rate; set `fps` for this camera")
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        n_frames = int(count) if math.isfinite(count) and 0 < count < 1e9 else 0
        if n_frames <= 1 and not cap.grab():
            raise VideoError(f"{path}: not a video: a single still image")
        duration = n_frames / fps if n_frames else None
        height, width = image.shape[:2]
        return VideoInfo(path, float(fps), max(n_frames, 1), width, height, False, duration, "opencv")
    finally:
        cap.release()


def _decode_opencv(info: VideoInfo, status: DecodeStatus) -> Iterator[_Decoded]:
    cap = _open_cv(info.path)
    try:
        first_ms: float | None = None
        while cap.grab():
            ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            stamp = None
            if math.isfinite(ms) and ms >= 0:
                first_ms = ms if first_ms is None else first_ms
                stamp = (ms - first_ms) / 1000
            yield stamp, lambda: cap.retrieve()[1]
        status.finished = True
        _judge(info, status, None, None)
    finally:
        cap.release()


def prefetch(frames: Iterator[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode ahead in a background thread so the detector never waits for I/O.

    FFmpeg (PyAV and OpenCV alike) releases the GIL while decoding, so decoding overlaps inference. Errors
    raised by the reader are re-raised in the consumer; closing the consumer stops the thread.
    """
    import queue
    import threading

    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        """Queue ``item`` unless the consumer stopped first (then ``False``): never block for good."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)

    thread = threading.Thread(target=work, name="video-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=2)
