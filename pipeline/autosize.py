"""Detector input size chosen from the footage (``--imgsz auto``, the default).

A person detector finds people reliably only above a certain height *in the model's input*: a 50 px
person in a 768 px frame is 83 px tall at ``imgsz`` 1280 but 62 px at 960. The right size therefore
depends on the camera (mounting height, resolution, distance), not on a fixed number:

1. :func:`probe_heights` runs the detector at :data:`PROBE_IMGSZ` on a few frames spread
   over the first :data:`PROBE_SECONDS` of the video and collects the heights of the confident people;
2. :func:`choose_imgsz` (pure) takes the small people's height (the :data:`SMALL_QUANTILE` quantile) and
   picks the smallest size in :data:`SIZE_STEPS` at which that height reaches :data:`MIN_MODEL_HEIGHT`
   input pixels, capped at :data:`MAX_IMGSZ`.

:data:`MIN_MODEL_HEIGHT` and :data:`MAX_IMGSZ` are properties of the detector, measured by
``benchmarks/autosize.py`` on real footage downscaled so that the same people appear at many heights
(see docs/benchmarks.md): detection recall rises with the person's height in input pixels and levels
off above :data:`MIN_MODEL_HEIGHT`; :data:`MAX_IMGSZ` is the largest size measured (it still helped the
smallest people).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.boxes import box_iou
from pipeline.video import VideoInfo, read_frames

log = logging.getLogger(__name__)

AUTO = "auto"
SIZE_STEPS = (640, 800, 960, 1120, 1280, 1440, 1600)
MIN_IMGSZ = SIZE_STEPS[0]
MAX_IMGSZ = SIZE_STEPS[-1]
# Recall by person height in input pixels (benchmarks/autosize.py): 84 % of its plateau at 80-96 px, 94 % at
# 96-128, 98 % at 128-160, 100 % above. People 32-78 px tall in a 640 px frame: recall 12/59/79/86 % at
# imgsz 640/960/1280/1600, so the largest measured size still helps them and is the cap.
MIN_MODEL_HEIGHT = 128.0
SMALL_QUANTILE = 0.1  # "the small people": the 10 % smallest confident detections
# The probe's own size: large enough to see people ~35 px tall, not so large that fragments and
# reflections it finds at 1600 (measured: TUD-Campus's 10th percentile fell from 140 to 81 px) drive the
# size up.
PROBE_IMGSZ = 1280
PROBE_SECONDS = 8.0
PROBE_FRAMES = 8
PROBE_CONF = 0.35  # confident people only: a stray low-score box must not drive the size up
MIN_PEOPLE = 3  # fewer confident boxes than this in the probe: nothing to measure
SAME_PLACE_IOU = 0.7  # a probe box overlapping one already counted this much is the same thing again


@dataclass(frozen=True)
class SizeChoice:
    """The input size picked for one video, and why.

    Attributes:
        imgsz: detector input size (longest side, pixels).
        n_people: confident person boxes seen by the probe.
        small_height: the small people's height in source pixels (``None`` when too few were seen).
        note: one line for logs and the dashboard.
    """

    imgsz: int
    n_people: int
    small_height: float | None
    note: str


def choose_imgsz(heights: npt.ArrayLike, long_side: int) -> SizeChoice:
    """The smallest size in :data:`SIZE_STEPS` at which the small people are at least
    :data:`MIN_MODEL_HEIGHT` input pixels tall.

    Args:
        heights: confident person box heights in source pixels (any order).
        long_side: the frame's longest side in pixels (the detector scales it to ``imgsz``).

    Returns:
        :data:`MAX_IMGSZ` when fewer than :data:`MIN_PEOPLE` people were seen (no evidence: favour recall).

    Raises:
        ValueError: ``long_side`` < 1.
    """
    if long_side < 1:
        raise ValueError(f"long_side must be >= 1, but got {long_side}")
    h = np.asarray(heights, np.float64)
    h = h[np.isfinite(h) & (h > 0)]
    if len(h) < MIN_PEOPLE:
        return SizeChoice(
            MAX_IMGSZ,
            len(h),
            None,
            f"imgsz {MAX_IMGSZ}: only {len(h)} confident people in the first {PROBE_SECONDS:g} s, "
            "so the largest size is used",
        )
    small = float(np.quantile(h, SMALL_QUANTILE))
    needed = MIN_MODEL_HEIGHT * long_side / small
    imgsz = next((s for s in SIZE_STEPS if s >= needed), MAX_IMGSZ)
    capped = " (the largest size: even smaller people are missed)" if needed > MAX_IMGSZ else ""
    return SizeChoice(
        imgsz,
        len(h),
        small,
        f"imgsz {imgsz}{capped}: the smallest people are {small:.0f} px tall in a {long_side} px frame "
        f"({len(h)} people in the first {PROBE_SECONDS:g} s); {imgsz} makes them "
        f"{small * imgsz / long_side:.0f} px for the detector (>= {MIN_MODEL_HEIGHT:.0f} wanted)",
    )


def probe_frames(info: VideoInfo, fps_override: float | None = None) -> list[np.ndarray]:
    """Up to :data:`PROBE_FRAMES` frames spread evenly over the first :data:`PROBE_SECONDS`."""
    seconds = PROBE_SECONDS
    if info.duration is not None and math.isfinite(info.duration) and info.duration > 0:
        seconds = min(seconds, info.duration)
    every = max(seconds / PROBE_FRAMES, 1e-6)
    images, next_t = [], 0.0
    for frame in read_frames(info.path, fps_override=fps_override, info=info):
        if frame.timestamp > seconds or len(images) >= PROBE_FRAMES:
            break
        if frame.timestamp + 1e-9 >= next_t:
            images.append(frame.image)
            # The next grid time after this frame: after a gap in the footage, not a run of catch-up frames.
            next_t = (math.floor(frame.timestamp / every + 1e-9) + 1) * every
    return images


def probe_heights(images: list[np.ndarray], detector) -> npt.NDArray[np.float64]:
    """Heights (source pixels) of the people ``detector`` finds with score >= :data:`PROBE_CONF` at
    :data:`PROBE_IMGSZ`, each *place* counted once: a box that repeats one already counted (IoU >=
    :data:`SAME_PLACE_IOU`) is the same static thing or standing person, not another sample. Probe frames are
    about a second apart, so a walking person is counted at each; measured: a 28 px static false person
    seen in 6 of 8 frames made a third of a 300 px-wide camera's samples and drove its size from 640 to 1600.

    Args:
        detector: a :class:`~pipeline.detector.YoloDetector` (any size; probed at :data:`PROBE_IMGSZ`).
    """
    if not images:
        return np.zeros(0)
    big = detector.with_imgsz(PROBE_IMGSZ)
    return place_heights([d.xyxy[d.confidence >= PROBE_CONF] for d in big.detect_batch(images)])


def place_heights(boxes_per_frame: list[npt.ArrayLike]) -> npt.NDArray[np.float64]:
    """Heights of (N_k, 4) xyxy boxes over frames, a box that repeats one already counted (IoU >=
    :data:`SAME_PLACE_IOU`) left out (see :func:`probe_heights`)."""
    heights, counted = [np.zeros(0)], np.zeros((0, 4))
    for frame_boxes in boxes_per_frame:
        boxes = np.asarray(frame_boxes, np.float64).reshape(-1, 4)
        if len(counted) and len(boxes):
            boxes = boxes[box_iou(boxes, counted).max(axis=1) < SAME_PLACE_IOU]
        heights.append(boxes[:, 3] - boxes[:, 1])
        counted = np.concatenate([counted, boxes])
    return np.concatenate(heights)


def auto_imgsz(info: VideoInfo, detector, fps_override: float | None = None) -> SizeChoice:
    """Probe ``info``'s video and choose its input size (logged)."""
    heights = probe_heights(probe_frames(info, fps_override), detector)
    choice = choose_imgsz(heights, max(info.width, info.height))
    log.info("%s: %s", Path(info.path).name, choice.note)
    return choice
