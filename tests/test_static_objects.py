"""Static tracks (mannequins) versus shoppers, including shoppers who stand still for minutes."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.static_objects import is_static, max_shift, presence

FPS = 5  # points per second, as with a sampled video
BOX = np.array([200.0, 100.0, 220.0, 150.0])  # a 50 px tall person-sized box (CAVIAR people are 35-65 px)


def still(n: int, jitter_px: float = 0.0, seed: int = 0) -> np.ndarray:
    """(n, 4) boxes of something that does not move, with detector jitter of ``jitter_px`` (std)."""
    rng = np.random.default_rng(seed)
    return BOX + rng.normal(0.0, jitter_px, (n, 4)) if jitter_px else np.tile(BOX, (n, 1))


def walk(n: int, px_per_point: float = 2.0, start: np.ndarray = BOX) -> np.ndarray:
    """(n, 4) boxes moving right by ``px_per_point`` per point (about 1 m/s at 5 points/s for a 50 px person)."""
    return start + np.outer(np.arange(n) * px_per_point, [1.0, 0.0, 1.0, 0.0])


def walk_in_then_stand(n_walk: int, n_stand: int) -> np.ndarray:
    boxes = walk(n_walk, start=BOX - [n_walk * 2.0, 0, n_walk * 2.0, 0])
    return np.vstack([boxes, np.tile(boxes[-1], (n_stand, 1))])


MINUTES_5 = 5 * 60 * FPS

CASES = [
    # name, frames, boxes, video_frames, expected
    ("mannequin, whole video", np.arange(MINUTES_5), still(MINUTES_5), MINUTES_5, True),
    ("mannequin with detector jitter", np.arange(MINUTES_5), still(MINUTES_5, jitter_px=1.5), MINUTES_5, True),
    ("mannequin seen 85% of the video", np.arange(0, int(0.85 * MINUTES_5)), still(int(0.85 * MINUTES_5)), MINUTES_5, True),
    # a passer-by merged into the mannequin's box for one frame is removed by the running median
    ("mannequin with one glitch", np.arange(100), np.vstack([still(50), [[260.0, 100, 280, 150]], still(49)]), 100, True),
    ("walker across the view", np.arange(200), walk(200), 200, False),
    # walked in for 6 s, then stood still for 5 minutes: present for the whole video, but moved on the way in
    ("walks in, stands 5 minutes", np.arange(30 + MINUTES_5), walk_in_then_stand(30, MINUTES_5), 30 + MINUTES_5, False),
    # stood still for 5 minutes of a 20-minute video: still, but not there most of the time
    ("stands 5 of 20 minutes", np.arange(MINUTES_5), still(MINUTES_5), 4 * MINUTES_5, False),
    ("browses in place (sways 0.3 h)", np.arange(300), BOX + np.outer(15 * np.sin(np.arange(300) / 10), [1, 0, 1, 0]), 300, False),
    ("empty track", np.arange(0), np.zeros((0, 4)), 100, False),
]


@pytest.mark.parametrize(("name", "frames", "boxes", "video_frames", "expected"), CASES, ids=[c[0] for c in CASES])
def test_is_static(name, frames, boxes, video_frames, expected):
    assert is_static(frames, boxes, video_frames) is expected


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"video_frames": 0}, "video_frames must be >= 1"),
        ({"max_shift_h": 0.0}, "max_shift_h must be > 0"),
        ({"min_presence": 1.5}, r"min_presence must be in \(0, 1\]"),
        ({"frames": np.arange(3)}, "same length"),
        ({"boxes": np.zeros((10, 3))}, r"xyxy must have shape \(N, 4\)"),
    ],
)
def test_is_static_rejects_bad_arguments(kwargs, error):
    args = {"frames": np.arange(10), "boxes": still(10), "video_frames": 10} | kwargs
    frames, boxes, video_frames = args.pop("frames"), args.pop("boxes"), args.pop("video_frames")
    with pytest.raises(ValueError, match=error):
        is_static(frames, boxes, video_frames, **args)


def test_shift_is_in_box_heights_and_presence_in_video_frames():
    assert max_shift(walk(11, px_per_point=5.0), smooth=1) == pytest.approx(25.0 / 50.0)  # 25 px of a 50 px box
    assert max_shift(np.zeros((0, 4))) == 0.0
    assert presence(np.array([10, 59]), 100) == pytest.approx(0.5)
    assert presence(np.array([], dtype=int), 100) == 0.0
