"""Static "people": tracks that never move over the footage (mannequins, posters, cut-outs).

A person detector fires on mannequins in a shop window as readily as on shoppers (the CAVIAR shop-front
clips have several). A mannequin's track stays where it is for the whole video; a shopper, even one who
stands still for minutes, walked into view first. So a track is *static* when both hold:

- its box centre never leaves a small circle around its median centre: at most ``max_shift`` times the
  median box height (measured on the CAVIAR clips, see docs/real-footage.md); a running median over
  ``smooth`` points first removes single-box glitches (a passer-by merged into the box for a frame);
- it spans most of the video: at least ``min_presence`` of its frames. A shopper who walks in and then
  stands still has moved on the way in; one already standing when the footage starts and still there at
  its end cannot be told from a mannequin by position alone, and is marked static too (documented).

Pure functions over a track's boxes; the database marks tracklets with them when a video finishes
(:func:`pipeline.db.tracks.mark_static_tracklets`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_SHIFT = 0.15  # of the median box height
MIN_PRESENCE = 0.8  # of the video's frames
SMOOTH = 5  # points in the running median of the box centre


def _running_median(values: npt.NDArray[np.float64], window: int) -> npt.NDArray[np.float64]:
    """Centred running median of (N, 2) ``values`` over ``window`` points (shorter at the ends)."""
    if window <= 1 or len(values) <= 2:
        return values
    half = window // 2
    return np.array([np.median(values[max(0, i - half) : i + half + 1], axis=0) for i in range(len(values))])


def max_shift(xyxy: npt.NDArray[np.floating], smooth: int = SMOOTH) -> float:
    """Largest distance of the (running-median) box centre from its median, in median box heights.

    Args:
        xyxy: (N, 4) boxes of one track in frame order, pixel corners.
        smooth: points in the running median applied to the centres first (1 = none).

    Returns:
        The shift; 0.0 for an empty track.
    """
    boxes = np.asarray(xyxy, np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"xyxy must have shape (N, 4), but got shape {boxes.shape}")
    if len(boxes) == 0:
        return 0.0
    centres = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2])
    centres = _running_median(centres, smooth)
    height = max(float(np.median(boxes[:, 3] - boxes[:, 1])), 1.0)
    return float(np.linalg.norm(centres - np.median(centres, axis=0), axis=1).max() / height)


def presence(frames: npt.NDArray[np.integer], video_frames: int) -> float:
    """Fraction of the video's ``video_frames`` frames that the track spans (first to last frame)."""
    if video_frames < 1:
        raise ValueError(f"video_frames must be >= 1, but got {video_frames}")
    frames = np.asarray(frames)
    if len(frames) == 0:
        return 0.0
    return min(1.0, (int(frames.max()) - int(frames.min()) + 1) / video_frames)


def is_static(
    frames: npt.NDArray[np.integer],
    xyxy: npt.NDArray[np.floating],
    video_frames: int,
    max_shift_h: float = MAX_SHIFT,
    min_presence: float = MIN_PRESENCE,
    smooth: int = SMOOTH,
) -> bool:
    """Whether one track is a static object rather than a person (see the module docstring).

    Args:
        frames: (N,) frame indices of the track's points.
        xyxy: (N, 4) boxes of the track in frame order, pixel corners.
        video_frames: frames in the video (decoded), the span ``frames`` is measured against.
        max_shift_h: largest allowed centre shift, in median box heights.
        min_presence: smallest fraction of the video the track must span.
        smooth: running-median window over the centres.

    Example:
        >>> boxes = np.tile([[100.0, 50.0, 120.0, 110.0]], (100, 1))
        >>> is_static(np.arange(100), boxes, video_frames=100)
        True
    """
    if not max_shift_h > 0:
        raise ValueError(f"max_shift_h must be > 0, but got {max_shift_h}")
    if not 0 < min_presence <= 1:
        raise ValueError(f"min_presence must be in (0, 1], but got {min_presence}")
    if len(frames) != len(xyxy):
        raise ValueError(f"frames and xyxy must have the same length, but got {len(frames)} and {len(xyxy)}")
    if len(frames) == 0:
        return False  # Nothing seen: nothing to mark.
    return presence(frames, video_frames) >= min_presence and max_shift(xyxy, smooth) < max_shift_h
