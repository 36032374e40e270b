"""Camera images for the dashboard, always with every person's face blurred (``dashboard.privacy``).

Frames are read from the processed video files on demand; images that cannot be read (a moved file,
the simulated demo store with no footage) come back as ``None`` and the page says so.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd
import streamlit as st

from dashboard.privacy import blur_people

THUMB_PAD = 0.35  # context around the shopper's box, as a share of its size
THUMB_HEIGHT = 240


def read_frame(path: str | Path | None, frame: int) -> npt.NDArray[np.uint8] | None:
    """Frame ``frame`` (0-based) of a video as BGR, or ``None`` when the file or frame is unavailable."""
    if path is None or not Path(path).is_file():
        return None
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return None
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(frame))
        ok, image = cap.read()
        return image if ok else None
    finally:
        cap.release()


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


def blurred_frame(path: str | Path | None, frame: int, people: pd.DataFrame) -> npt.NDArray[np.uint8] | None:
    """A whole frame with the head of every tracked person in it blurred."""
    image = read_frame(path, frame)
    if image is None:
        return None
    boxes, keypoints = _people(people)
    return blur_people(image, boxes, keypoints)


@st.cache_data(ttl=600, show_spinner=False, max_entries=256)
def thumbnail(
    path: str | None, frame: int, box: tuple[float, float, float, float], _people: pd.DataFrame
) -> npt.NDArray[np.uint8] | None:
    """An RGB crop around ``box`` (xyxy px) of one frame: faces blurred first, the shopper outlined.

    ``_people`` (every person in that frame) is not hashed: path and frame already identify it.
    """
    image = blurred_frame(path, frame, _people)
    if image is None:
        return None
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
