"""Faint people (pipeline.tracking.faint): weak boxes that walk become tracks, weak boxes that stay do not."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.tracking.faint import HOLD_S, FaintTracks, faint_candidates, handovers
from pipeline.tracking.offline import OfflineTrackRunner
from pipeline.tracking.tracker import DeepSortTracker
from pipeline.types import Detections
from tests.conftest import require_shared
from tests.tracking.tracking_builders import make_detections, person_box

FPS = 10.0


def run(
    frames: list[Detections], faint: bool = True, frame_size: tuple[int, int] | None = None
) -> dict[int, list[int]]:
    """Track ``frames`` (one per 1/FPS s) offline; step numbers per output track id."""
    runner = OfflineTrackRunner(DeepSortTracker(), faint=faint, frame_size=frame_size)
    done = []
    for step, dets in enumerate(frames):
        done += runner.update(dets, step / FPS)
    done += runner.finish()
    tracks: dict[int, list[int]] = {}
    for f in done:
        for tid in f.detections.track_id.tolist():
            tracks.setdefault(tid, []).append(f.step)
    return tracks


def walker(steps: range, score: float | list[float] = 0.2, speed: float = 8.0) -> list[list[float]]:
    """Boxes (100 px tall) of a person walking right at ``speed`` px per step from x = 100."""
    return [person_box(100.0 + speed * k) for k in steps]


@pytest.mark.parametrize(
    ("name", "boxes", "conf", "matched", "expected"),
    [
        ("empty frame", np.zeros((0, 4)), [], [], []),
        ("weak and free", [person_box(100)], [0.2], [], [0]),
        ("strong: starts its own track", [person_box(100)], [0.8], [], []),
        ("matched to a track", [person_box(100), person_box(300)], [0.3, 0.3], [1], [0]),
        ("inside a tracked person", [person_box(100), person_box(100, 180, 30, 50)], [0.9, 0.3], [0], []),
        ("beside a tracked person", [person_box(100), person_box(125)], [0.9, 0.3], [0], [1]),
    ],
)
def test_faint_candidates(name, boxes, conf, matched, expected) -> None:
    dets = make_detections(boxes, conf)
    assert faint_candidates(dets, np.array(matched, np.int64), 0.7).tolist() == expected, name


@pytest.mark.parametrize(
    ("name", "new", "faint", "expected"),
    [
        ("nothing new", np.zeros((0, 4)), [person_box(100)], []),
        ("no faint track", [person_box(100)], np.zeros((0, 4)), []),
        ("same spot", [person_box(102)], [person_box(100)], [(0, 0)]),
        ("elsewhere", [person_box(300)], [person_box(100)], []),
        (
            "one to one",
            [person_box(300), person_box(101)],
            [person_box(100), person_box(298)],
            [(0, 1), (1, 0)],
        ),
    ],
)
def test_handovers(name, new, faint, expected) -> None:
    assert sorted(handovers(np.asarray(new, float), np.asarray(faint, float))) == expected, name


def test_a_weak_box_that_fits_a_faint_track_better_keeps_it_from_a_hand_over() -> None:
    new, faint = np.array([person_box(110)], float), np.array([person_box(100)], float)
    assert handovers(new, faint) == [(0, 0)]
    assert handovers(new, faint, np.array([person_box(101)], float)) == []
    assert handovers(new, faint, np.array([person_box(300)], float)) == [(0, 0)]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"min_shift": 0}, "min_shift"), ({"hold_s": 0}, "hold_s"), ({"hold_s": -1}, "hold_s")],
)
def test_faint_tracks_reject_bad_arguments(kwargs, error) -> None:
    with pytest.raises(ValueError, match=error):
        FaintTracks(DeepSortTracker(), **kwargs)


def test_a_weak_walker_becomes_one_track_from_its_first_boxes() -> None:
    frames = [make_detections([box], 0.2) for box in walker(range(60))]
    tracks = run(frames)
    assert len(tracks) == 1
    (steps,) = tracks.values()
    # Every box: the first two are backfilled when the faint track is confirmed, the rest held until it moved.
    assert steps == list(range(60))
    assert run(frames, faint=False) == {}


def test_a_weak_box_that_stays_put_is_never_output() -> None:
    """A mannequin scoring 0.3 for 20 s: held back at most HOLD_S, then dropped; nothing is output."""
    frames = [make_detections([person_box(300)], 0.3) for _ in range(int(20 * FPS))]
    assert run(frames) == {}


def test_a_weak_walker_beside_a_mannequin_and_a_strong_person() -> None:
    frames = [
        make_detections([walker_box, person_box(600), person_box(900, w=40)], [0.2, 0.3, 0.9])
        for walker_box in walker(range(60))
    ]
    tracks = run(frames)
    assert len(tracks) == 2  # the strong person and the walker, not the mannequin
    assert sorted(len(s) for s in tracks.values()) == [60, 60]


def test_a_walker_who_turns_strong_keeps_the_faint_id() -> None:
    """Weak for 45 steps (promoted), then scoring 0.9: the main track that starts on it continues its id."""
    boxes = walker(range(80))
    frames = [make_detections([box], 0.2 if k < 45 else 0.9) for k, box in enumerate(boxes)]
    tracks = run(frames)
    assert len(tracks) == 1 and len(next(iter(tracks.values()))) == 80


def test_a_miss_just_before_a_promoted_walker_turns_strong_is_filled() -> None:
    """As above, missed by the detector in the frame before the strong boxes: the main track that starts
    on it continues its id, and the frame between gets a filled box, as any other miss under 1 s."""
    boxes = walker(range(80))
    frames = [
        make_detections([box] if k != 44 else np.zeros((0, 4)), [0.2 if k < 45 else 0.9] * (k != 44))
        for k, box in enumerate(boxes)
    ]
    assert list(run(frames).values()) == [list(range(80))]


def test_a_faint_track_that_has_not_moved_enough_gives_its_boxes_to_the_track_that_starts_on_it() -> None:
    """Weak for 10 steps (a confirmed faint track, not yet moved 1.5 box heights), then strong: one track,
    from the first weak box on (the held weak boxes are the person's first frames; no duplicate)."""
    boxes = walker(range(40), speed=4.0)
    frames = [make_detections([box], 0.2 if k < 10 else 0.9) for k, box in enumerate(boxes)]
    assert list(run(frames).values()) == [list(range(40))]
    assert list(run(frames, faint=False).values()) == [list(range(10, 40))]


@pytest.mark.parametrize(
    ("strong_from", "missed"),
    [
        (12, (4, 5, 9, 11)),  # weak first frames handed over: gaps among them and up to the strong boxes
        (50, (20, 21, 40, 41, 42)),  # a weak walker that became a person: gaps among its boxes
    ],
)
def test_gaps_in_the_boxes_a_faint_track_gives_a_person_are_filled(strong_from, missed) -> None:
    """The detector misses the person for a frame or three (under 1 s) while its boxes are a faint track's:
    the gaps get interpolated boxes, as in any confirmed track; the steps output are those of the same
    person seen in every frame."""
    boxes = walker(range(60), speed=4.0)

    def frames(gaps):
        return [
            make_detections(
                [box] if k not in gaps else np.zeros((0, 4)),
                [0.2 if k < strong_from else 0.9] * (k not in gaps),
            )
            for k, box in enumerate(boxes)
        ]

    seen_always = run(frames(()))
    assert len(seen_always) == 1 and len(next(iter(seen_always.values()))) >= 59
    assert run(frames(missed)) == seen_always


def test_weak_first_frames_are_handed_back_only_to_the_last_gap_over_a_second() -> None:
    """Weak at steps 0-4, unseen for 1.5 s, weak again at 20-29, strong from 30: the track starts at 20."""
    boxes = walker(range(40), speed=1.0)
    frames = [
        make_detections(
            [box] if not 5 <= k < 20 else np.zeros((0, 4)), [0.2 if k < 30 else 0.9] * (not 5 <= k < 20)
        )
        for k, box in enumerate(boxes)
    ]
    assert list(run(frames).values()) == [list(range(20, 40))]


def test_weak_first_frames_overlapping_another_tracked_person_are_not_handed_back() -> None:
    """A weak box beside a strong walker (IoU 0.32, under half of it inside them) at steps 0-10, moving away
    from them at 11-19 (IoU under 0.3), strong from 20: its track starts at 11, where it stopped overlapping
    someone already tracked (without faint tracks: at 20)."""
    other = [person_box(300.0 + k) for k in range(40)]
    near = [person_box(320.8 + k) for k in range(10)] + [person_box(330.8 + 6 * k) for k in range(30)]
    frames = [
        make_detections([o, n], [0.9, 0.2 if k < 20 else 0.9]) for k, (o, n) in enumerate(zip(other, near))
    ]
    assert sorted(run(frames).values()) == [list(range(40)), list(range(11, 40))]
    assert sorted(run(frames, faint=False).values()) == [list(range(40)), list(range(20, 40))]


def test_weak_first_frames_cut_by_the_frame_edge_are_not_handed_back() -> None:
    """A person entering at the left edge: weak and cut by the edge at steps 0-9, weak inside the frame at
    10-19, strong from 20. Knowing the frame size, the track starts at 10; without it, at 0."""
    boxes = [[0.0, 150.0, 30.0 + k, 250.0] for k in range(10)]
    boxes += [person_box(22.0 + 2 * k) for k in range(30)]
    frames = [make_detections([box], 0.2 if k < 20 else 0.9) for k, box in enumerate(boxes)]
    assert list(run(frames, frame_size=(640, 480)).values()) == [list(range(10, 40))]
    assert list(run(frames).values()) == [list(range(40))]


def test_a_hand_over_to_a_track_that_is_never_confirmed_outputs_nothing() -> None:
    """Weak for 10 steps, one strong box (a track starts on it, never confirmed), then gone: nothing."""
    boxes = walker(range(11), speed=4.0)
    frames = [make_detections([box], 0.2 if k < 10 else 0.9) for k, box in enumerate(boxes)]
    frames += [make_detections(np.zeros((0, 4)), [])] * 20
    assert run(frames) == {}


def test_a_mannequin_still_seen_beside_a_person_who_starts_over_it_keeps_its_boxes_to_itself() -> None:
    """A still weak box for 30 steps; a strong person appears overlapping it and walks away while the weak
    box stays: the person's track starts at their first box, the still box is never output."""
    still = person_box(100)
    frames = [make_detections([still], 0.2) for _ in range(30)]
    frames += [make_detections([still, person_box(110 + 6 * k)], [0.2, 0.9]) for k in range(30)]
    assert list(run(frames).values()) == [list(range(30, 60))]


def test_frames_are_held_back_at_most_hold_s() -> None:
    runner = OfflineTrackRunner(DeepSortTracker())
    released = 0
    n = int((HOLD_S + 3) * FPS)
    for step in range(n):
        released += len(runner.update(make_detections([person_box(300)], 0.3), step / FPS))
    assert released >= n - HOLD_S * FPS - 2


def test_tracker_reports_matched_and_started_rows() -> None:
    tracker = DeepSortTracker(n_init=1)
    tracker.update(make_detections([person_box(100)], 0.9), 0.0)
    assert tracker.started_rows.tolist() == [0] and tracker.matched_rows.tolist() == []
    tracker.update(make_detections([person_box(300), person_box(102)], [0.9, 0.9]), 0.1)
    assert tracker.matched_rows.tolist() == [1] and tracker.started_rows.tolist() == [0]
    taken = tracker.new_track_id()
    assert taken not in {t.track_id for t in tracker.tracks}
    tracker.update(make_detections([person_box(500)], 0.9), 0.2)
    assert all(t.track_id != taken for t in tracker.tracks)
    tracker.drop(tracker.tracks[0].track_id)
    assert len(tracker.tracks) == 2


@pytest.mark.slow
def test_the_dark_coated_walker_on_a_caviar_clip_is_tracked() -> None:
    """OneLeaveShopReenter2front: a woman in a dark coat walks the gallery (frames ~40-210) at detector scores
    0.1-0.6, never reaching the track start. With faint tracks she is one track walking left to right;
    without, nobody is tracked between frames 100 and 190 but a mannequin for two frames. And a shopper who
    walks through the shop to its doors, scored weakly until she steps out at frame ~201, is tracked from
    inside the shop (her faint track's boxes go to her track). Real detector, real clip."""
    from pipeline.autosize import MAX_IMGSZ, auto_imgsz
    from pipeline.detector import YoloDetector
    from pipeline.video import probe, read_frames

    clip = require_shared("data", "caviar", "OneLeaveShopReenter2front.mpg")
    info = probe(clip)
    probe_detector = YoloDetector(imgsz=MAX_IMGSZ, conf=0.1)
    detector = probe_detector.with_imgsz(auto_imgsz(info, probe_detector).imgsz)
    first = 80
    frames = []
    for frame in read_frames(clip, start_frame=first, info=info):
        if frame.index > 210:
            break
        frames.append(detector(frame.image))

    def tracks(faint: bool) -> dict[int, list[tuple[int, float]]]:
        """(frame index, box centre x) per track id."""
        runner = OfflineTrackRunner(DeepSortTracker(), faint=faint)
        done = []
        for step, dets in enumerate(frames):
            done += runner.update(dets, step / info.fps)
        done += runner.finish()
        out: dict[int, list[tuple[int, float]]] = {}
        for f in done:
            d = f.detections
            for tid, box in zip(d.track_id.tolist(), d.xyxy):
                out.setdefault(tid, []).append((first + f.step, float(box[0] + box[2]) / 2))
        return out

    def in_gallery(by_id: dict[int, list[tuple[int, float]]]) -> dict[int, tuple[int, float]]:
        """Boxes in frames 100-190 and how far right the track walked there, per track id."""
        xs = {tid: [x for i, x in points if 100 <= i <= 190] for tid, points in by_id.items()}
        return {tid: (len(x), x[-1] - x[0]) for tid, x in xs.items() if x}

    without, with_faint = tracks(faint=False), tracks(faint=True)
    assert all(boxes < 10 for boxes, _ in in_gallery(without).values()), without  # a mannequin flicker
    walkers = {tid: v for tid, v in in_gallery(with_faint).items() if v[1] > 60}  # 384 px wide
    assert len(walkers) == 1, walkers
    boxes, _ = next(iter(walkers.values()))
    assert boxes >= 60, walkers  # two thirds of the 91 frames

    def first_frames_at_the_doors(by_id: dict[int, list[tuple[int, float]]]) -> list[int]:
        """First frame of every track still seen after frame 205, the walker left out."""
        return sorted(p[0][0] for tid, p in by_id.items() if p[-1][0] >= 205 and tid not in walkers)

    assert all(start >= 195 for start in first_frames_at_the_doors(without)), without
    assert min(first_frames_at_the_doors(with_faint), default=999) <= 130, with_faint
