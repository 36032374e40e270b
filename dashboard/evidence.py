"""Camera images for the dashboard, always with every person's face blurred (``dashboard.privacy``).

Frames are read from the processed video files on demand. Before a frame is shown, a fresh detection
pass (:func:`privacy_detections`, i.e. :func:`pipeline.people_finder.find_people`: the pose detector
with a low confidence threshold) finds the people in it, and the heads of those *and* of every tracked person are blurred:
bystanders the tracker never followed, people a strict ``--conf`` dropped, and a camera without any
track points are all covered. A frame that cannot be checked (detector missing or failing) is not
shown: these functions return ``None`` then, like for a frame that cannot be read (a moved file, the
simulated demo store with no footage), and the page says so.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.privacy import blur_people
from pipeline.errors import VideoError
from pipeline.people_finder import find_people
from pipeline.video import frame_at

THUMB_PAD = 0.35  # context around the shopper's box, as a share of its size
THUMB_HEIGHT = 240
_CACHE_SIZE = 256

log = logging.getLogger("shopper.evidence")
_lock = threading.Lock()  # one privacy pass at a time: bounds the CPU, and the model is not thread-safe
_found: OrderedDict[tuple[str, int, int], tuple[np.ndarray, list[np.ndarray | None]]] = OrderedDict()


def read_frame(
    path: str | Path | None, frame: int, t_sec: float | None = None
) -> npt.NDArray[np.uint8] | None:
    """Frame ``frame`` (0-based, as the pipeline numbered it; ``t_sec`` its stored time, which finds it in a
    variable frame rate file) of a video as BGR, or ``None`` when the file or frame is unavailable.
    (OpenCV's frame seek lands on a wrong frame in MPEG-1 ``.mpg`` clips.)"""
    if path is None or not Path(path).is_file():
        return None
    try:
        return frame_at(path, int(frame), None if t_sec is None else float(t_sec))
    except (VideoError, ValueError):
        return None


def _people(people: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray | None]]:
    boxes = (
        people[["x1", "y1", "x2", "y2"]].to_numpy(np.float32) if len(people) else np.zeros((0, 4), np.float32)
    )
    # A person without keypoints (plain detector weights) is a SQL NULL: None, NaN or pd.NA by the reader.
    keypoints = [
        np.asarray(kp, np.float32).reshape(-1, 3) if isinstance(kp, (list, tuple, np.ndarray)) else None
        for kp in (people["keypoints"] if "keypoints" in people and len(people) else [])
    ]
    return boxes, keypoints or [None] * len(boxes)


def privacy_detections(
    image: npt.NDArray[np.uint8], key: tuple[str, int, int] | None = None
) -> tuple[npt.NDArray[np.float32], list[npt.NDArray[np.float32] | None]] | None:
    """People a fresh detection pass finds in ``image``: (N, 4) xyxy boxes and their keypoints.

    ``None`` when the pass cannot run (the frame must then not be shown). Results are kept for the
    last few hundred frames under ``key`` (path, file mtime, frame).
    """
    with _lock:
        if key is not None and key in _found:
            _found.move_to_end(key)
            return _found[key]
        try:
            found = find_people(image)
        except Exception as exc:  # any failure: unchecked frames are not shown
            log.error("privacy check failed, frame not shown: %s", exc)
            return None
        if key is not None:
            _found[key] = found
            while len(_found) > _CACHE_SIZE:
                _found.popitem(last=False)
        return found


def blurred_frame(path: str | Path | None, frame: int, people: pd.DataFrame) -> npt.NDArray[np.uint8] | None:
    """A whole frame with the head of every tracked person *and* every freshly detected one blurred.

    ``None`` when the frame cannot be read or cannot be checked.
    """
    t_sec = people["t_sec"].iloc[0] if "t_sec" in people.columns and len(people) else None
    image = read_frame(path, frame, t_sec)
    if image is None:
        return None
    key = (str(Path(path).resolve()), os.stat(path).st_mtime_ns, int(frame)) if path else None
    found = privacy_detections(image, key)
    if found is None:
        return None
    tracked_boxes, tracked_keypoints = _people(people)
    boxes = np.concatenate([tracked_boxes, found[0]]).reshape(-1, 4)
    return blur_people(image, boxes, [*tracked_keypoints, *found[1]])


def still_of(path: str | Path, frame: int, people: pd.DataFrame, quality: int = 85) -> bytes | None:
    """JPEG bytes of :func:`blurred_frame` (every face blurred), or ``None`` when the frame cannot be read
    or checked: the still a camera keeps once its footage is deleted."""
    image = blurred_frame(path, frame, people)
    if image is None:
        return None
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buffer.tobytes() if ok else None


def decode_still(jpeg: bytes | None) -> npt.NDArray[np.uint8] | None:
    """A kept still as an image like :func:`blurred_frame` returns (``None`` stays ``None``)."""
    if jpeg is None:
        return None
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def camera_background(db: str, camera: str) -> npt.NDArray[np.uint8] | None:
    """What to draw zones and calibration points on: the busiest processed frame while the footage is on
    disk, else the still kept when it was deleted; faces blurred either way."""
    path, frame, people = data.camera_frame(db, camera)
    image = blurred_frame(path, frame, people) if path is not None else None
    return image if image is not None else decode_still(data.camera_still(db, camera))


@st.cache_data(ttl=600, show_spinner=False, max_entries=256)
def thumbnail(
    path: str | None, frame: int, box: tuple[float, float, float, float], _people: pd.DataFrame
) -> npt.NDArray[np.uint8] | None:
    """An RGB crop around ``box`` (xyxy px) of one frame: faces blurred first, the shopper outlined.

    ``_people`` (every person in that frame) is not hashed: path and frame already identify it.
    """
    image = blurred_frame(path, frame, _people)
    return None if image is None else crop_thumbnail(image, box)


def crop_thumbnail(
    image: npt.NDArray[np.uint8], box: tuple[float, float, float, float]
) -> npt.NDArray[np.uint8] | None:
    """An RGB crop of a (H, W, 3) BGR ``image`` around ``box`` (xyxy px), outlined, THUMB_HEIGHT high.

    ``image`` must already be privacy-checked (:func:`blurred_frame`): the padding shows bystanders.
    """
    image = image.copy()
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    pad_x, pad_y = (x2 - x1) * THUMB_PAD, (y2 - y1) * THUMB_PAD
    a, b = max(int(x1 - pad_x), 0), max(int(y1 - pad_y), 0)
    c, d = min(int(x2 + pad_x), w), min(int(y2 + pad_y), h)
    cv2.rectangle(image, (int(x1), int(y1)), (int(x2), int(y2)), (0, 0, 255), 2)
    crop = image[b:d, a:c]
    if crop.size == 0:
        return None
    scale = THUMB_HEIGHT / crop.shape[0]
    crop = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
