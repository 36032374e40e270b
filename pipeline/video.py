"""Read video frames with OpenCV, with frame timestamps and optional sampling.

Problems with the file (missing, not a video, no frames) raise :class:`~pipeline.errors.VideoError`
naming the file, before any processing starts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# FFmpeg's own log lines ("moov atom not found") would precede our clear error; silence them.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2

from pipeline.errors import VideoError
from pipeline.types import Frame

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".ts")


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds.

    Attributes:
        n_frames: frame count reported by the container (may be an estimate for some codecs).
    """

    path: Path
    fps: float
    n_frames: int
    width: int
    height: int


def _open(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise VideoError(f"video not found: {path}")
    if not path.is_file():
        raise VideoError(f"not a video file: {path}")
    if path.stat().st_size == 0:
        raise VideoError(f"video file is empty: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoError(
            f"cannot read {path}: not a video OpenCV can decode (supported: {', '.join(VIDEO_SUFFIXES)})"
        )
    return cap


def probe(path: str | Path, fps_override: float | None = None) -> VideoInfo:
    """Open ``path``, decode its first frame and report its properties.

    Raises:
        VideoError: missing, empty, undecodable, or no frames.
    """
    path = Path(path)
    cap = _open(path)
    try:
        ok, image = cap.read()
        if not ok or image is None:
            raise VideoError(f"cannot decode any frame of {path}: the file is corrupt or not a video")
        fps = fps_override or cap.get(cv2.CAP_PROP_FPS)
        if not fps or not math.isfinite(fps) or fps <= 0:
            raise VideoError(f"{path} does not state its frame rate; set `fps` for this camera")
        n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return VideoInfo(path, float(fps), max(n_frames, 1), image.shape[1], image.shape[0])
    finally:
        cap.release()


def sample_step(fps: float, stride: int = 1, sample_fps: float | None = None) -> int:
    """Frames to advance between processed frames: ``stride``, or the step giving ``sample_fps``.

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


def read_frames(
    path: str | Path,
    stride: int = 1,
    fps_override: float | None = None,
    start_frame: int = 0,
    info: VideoInfo | None = None,
) -> Iterator[Frame]:
    """Yield every ``stride``-th frame of ``path`` from ``start_frame`` (0-based).

    Frames are decoded sequentially (``grab`` for skipped frames, which skips the colour conversion),
    so any codec works and no seek accuracy issues arise.

    Args:
        info: the result of :func:`probe` when the caller already has it (saves opening the file twice).

    Raises:
        VideoError: the file cannot be opened or decoded.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, but got {stride}")
    if info is None:
        info = probe(path, fps_override)
    cap = _open(info.path)
    try:
        index = 0
        while True:
            wanted = index >= start_frame and (index - start_frame) % stride == 0
            if wanted:
                ok, image = cap.read()
                if not ok:
                    break
                yield Frame(index=index, timestamp=index / info.fps, image=image)
            elif not cap.grab():
                break
            index += 1
    finally:
        cap.release()


def prefetch(frames: Iterator[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode ahead in a background thread so the detector never waits for I/O.

    OpenCV releases the GIL while decoding, so decoding overlaps inference. Errors raised by the
    reader are re-raised in the consumer; closing the consumer stops the thread.
    """
    import queue
    import threading

    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        buffer.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            buffer.put(exc)

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
