"""DeepSortTracker and OfflineTrackRunner on synthetic moving boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.tracking import DeepSortTracker, OfflineTrackRunner
from pipeline.types import Detections
from tests.tracking.tracking_builders import make_detections, person_box, unit

FPS = 25.0


def run(tracker, frames, fps=FPS):
    """Feed ``frames`` (list of Detections) at ``fps``; return the outputs."""
    return [tracker.update(dets, k / fps) for k, dets in enumerate(frames)]


def walker_frames(n, speed=2.0, start=100.0, embedding=True, confidence=0.9):
    """One person walking right at ``speed`` px per frame."""
    emb = [unit(4, 0)] if embedding else None
    return [make_detections([person_box(start + speed * k)], confidence, emb) for k in range(n)]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, None),
        ({"max_cosine_distance": -0.1}, ValueError),
        ({"max_iou_distance": 1.5}, ValueError),
        ({"max_age": -1.0}, ValueError),
        ({"n_init": 0}, ValueError),
        ({"nn_budget": 0}, ValueError),
        ({"nn_budget": None}, None),
        ({"low_conf_threshold": 0.5, "high_conf_threshold": 0.3}, ValueError),  # low above high
        ({"high_conf_threshold": 0.5, "low_conf_threshold": 0.5}, None),  # low pass disabled
        ({"motion_weight": 2.0}, ValueError),
        ({"iou_stage_max_misses": 0}, ValueError),
        ({"iou_stage_max_misses": None}, None),
        ({"new_track_threshold": 0.3, "high_conf_threshold": 0.5}, ValueError),  # below high
        ({"appearance_veto": 0.0}, ValueError),
        ({"appearance_veto": None}, None),
        ({"frame_size": (640, 480)}, None),
        ({"frame_size": (0, 480)}, ValueError),
    ],
)
def test_constructor_validates_arguments(kwargs, error):
    if error is None:
        DeepSortTracker(**kwargs)
    else:
        with pytest.raises(error, match=next(iter(kwargs))):
            DeepSortTracker(**kwargs)


@pytest.mark.parametrize("embedding_dim", [None, 8])
def test_empty_frames_give_empty_output(embedding_dim):
    tracker = DeepSortTracker()
    for k in range(3):
        out = tracker.update(Detections.empty(embedding_dim), k / FPS)
        assert len(out) == 0 and out.track_id is not None
    assert tracker.tracks == []


@pytest.mark.parametrize(("n_init", "first_output_frame"), [(1, 0), (2, 1), (3, 2), (5, 4)])
def test_track_is_reported_after_n_init_hits(n_init, first_output_frame):
    outs = run(DeepSortTracker(n_init=n_init), walker_frames(8))
    lengths = [len(o) for o in outs]
    assert lengths == [0] * first_output_frame + [1] * (8 - first_output_frame)
    assert all(o.track_id.tolist() == [1] for o in outs[first_output_frame:])


def test_tentative_track_dies_on_first_miss():
    tracker = DeepSortTracker(n_init=3)
    frames = [*walker_frames(2), Detections.empty(4), *walker_frames(2, start=106.0)]
    outs = run(tracker, frames)
    assert all(len(o) == 0 for o in outs)  # never reached three consecutive hits
    assert [t.track_id for t in tracker.tracks] == [2]


@pytest.mark.parametrize(
    ("fps", "max_age", "gap_frames", "same_id"),
    [
        (25.0, 1.0, 10, True),  # 0.4 s gap < max_age
        (25.0, 1.0, 40, False),  # 1.6 s gap > max_age: deleted, new id
        (5.0, 1.0, 10, False),  # same frame gap, but 2 s at 5 fps: max_age is in seconds
        (5.0, 3.0, 10, True),
    ],
)
def test_track_deleted_after_max_age_seconds_and_ids_never_reused(fps, max_age, gap_frames, same_id):
    speed = 50.0 / fps  # 50 px/s whatever the frame rate
    tracker = DeepSortTracker(max_age=max_age, n_init=2)
    frames = walker_frames(5, speed)
    frames += [Detections.empty(4)] * gap_frames
    frames += walker_frames(5, speed, start=100.0 + speed * (5 + gap_frames))
    outs = run(tracker, frames, fps)
    ids = sorted({int(i) for o in outs for i in o.track_id})
    assert ids == ([1] if same_id else [1, 2])


def test_track_is_deleted_once_max_age_passes():
    tracker = DeepSortTracker(max_age=0.5, n_init=1)
    run(tracker, walker_frames(3))
    last_seen = 2 / FPS
    for k in range(3, 15):  # up to 0.48 s without a detection: kept
        tracker.update(Detections.empty(4), k / FPS)
        assert len(tracker.tracks) == 1
    tracker.update(Detections.empty(4), last_seen + 0.52)
    assert tracker.tracks == []


@pytest.mark.parametrize("with_embedding", [True, False])
def test_single_walker_keeps_one_id(with_embedding):
    tracker = DeepSortTracker()
    outs = run(tracker, walker_frames(50, speed=4.0, embedding=with_embedding))
    ids = {int(i) for o in outs for i in o.track_id}
    assert ids == {1}
    assert sum(len(o) for o in outs) == 50 - (tracker.n_init - 1)  # all but the tentative frames


@pytest.mark.parametrize("stride", [1, 3, 5])
def test_frame_stride_keeps_identity(stride):
    # 100 px/s walker sampled every `stride` frames: the real dt keeps the prediction on the person.
    frames = walker_frames(60, speed=4.0, embedding=False)[::stride]
    tracker = DeepSortTracker(n_init=2)
    outs = [tracker.update(dets, k * stride / FPS) for k, dets in enumerate(frames)]
    assert {int(i) for o in outs for i in o.track_id} == {1}


def meet_and_turn_back_frames(with_embedding: bool, n_each: int = 12, hold: int = 3, speed: float = 8.0):
    """Two people walk towards each other, stand on the same spot, then both turn back."""
    offsets = [speed * k for k in range(n_each)]
    offsets = offsets + [offsets[-1]] * hold + offsets[::-1]
    far = 100 + 2 * speed * (n_each - 1)
    emb = [unit(4, 0), unit(4, 1)] if with_embedding else None
    return [make_detections([person_box(100 + x), person_box(far - x)], 0.9, emb) for x in offsets]


@pytest.mark.parametrize(
    ("with_embedding", "ids_left_right_at_end"),
    [
        (True, (1, 2)),  # appearance restores the right ids after the full overlap
        # Motion alone extrapolates the approach and swaps: this is why the scenario needs appearance.
        (False, (2, 1)),
    ],
)
def test_people_meeting_and_turning_back(with_embedding, ids_left_right_at_end):
    outs = run(DeepSortTracker(n_init=2), meet_and_turn_back_frames(with_embedding))
    start, end = outs[2], outs[-1]
    assert tuple(start.track_id[np.argsort(start.xyxy[:, 0])].tolist()) == (1, 2)
    assert tuple(end.track_id[np.argsort(end.xyxy[:, 0])].tolist()) == ids_left_right_at_end


def test_crossing_people_keep_ids():
    n = 40
    frames = []
    for k in range(n):
        boxes = [person_box(100 + 6.0 * k), person_box(100 + 6.0 * (n - 1 - k), cy=205)]
        frames.append(make_detections(boxes, 0.9, [unit(4, 0), unit(4, 1)]))
    outs = run(DeepSortTracker(n_init=2), frames)
    for o in outs[1:]:
        emb_axis = np.argmax(o.embedding, axis=1)
        assert dict(zip(emb_axis.tolist(), o.track_id.tolist())) == {0: 1, 1: 2}


def test_low_confidence_detections_extend_but_never_start_tracks():
    tracker = DeepSortTracker(high_conf_threshold=0.5, low_conf_threshold=0.1, n_init=2)
    frames = walker_frames(5)
    # The walker's score drops (occlusion) while a low-score false positive appears elsewhere.
    for k in range(5, 10):
        frames.append(make_detections([person_box(100 + 2.0 * k), person_box(500)], [0.3, 0.3]))
    outs = run(tracker, frames)
    assert [len(o) for o in outs[5:]] == [1] * 5
    assert all(o.track_id.tolist() == [1] for o in outs[1:])
    assert len(tracker.tracks) == 1


def test_low_confidence_pass_can_be_disabled():
    tracker = DeepSortTracker(high_conf_threshold=0.5, low_conf_threshold=0.5, n_init=2)
    frames = [*walker_frames(5), make_detections([person_box(110)], 0.3)]
    outs = run(tracker, frames)
    assert len(outs[-1]) == 0


def test_output_is_a_new_subset_of_the_input():
    tracker = DeepSortTracker(n_init=1, new_track_threshold=0.5)
    dets = make_detections([person_box(100), person_box(300), person_box(500)], [0.9, 0.05, 0.8])
    out = tracker.update(dets, 0.0)
    assert dets.track_id is None  # input untouched
    np.testing.assert_array_equal(out.xyxy, dets.xyxy[[0, 2]])
    assert out.track_id.tolist() == [1, 2]
    np.testing.assert_array_equal(tracker.output_rows, [0, 2])


def test_timestamp_must_not_go_back():
    tracker = DeepSortTracker()
    tracker.update(Detections.empty(), 1.0)
    with pytest.raises(ValueError, match="timestamp"):
        tracker.update(Detections.empty(), 0.5)


def test_gallery_is_bounded_by_nn_budget():
    tracker = DeepSortTracker(nn_budget=3)
    run(tracker, walker_frames(10))
    assert tracker.tracks[0].features.shape == (3, 4)
    # Each kept feature still knows its detection, so it can be replaced later.
    track = tracker.tracks[0]
    assert track.feature_keys == [(7, 0), (8, 0), (9, 0)]
    assert track.replace_feature((8, 0), np.ones(4, np.float32))
    assert track.features[1].tolist() == [1, 1, 1, 1]
    assert not track.replace_feature((2, 0), np.ones(4, np.float32))  # out of the gallery already


def test_just_lost_names_the_tracks_missed_for_the_first_time():
    tracker = DeepSortTracker()
    run(tracker, walker_frames(5))
    assert tracker.just_lost == []
    tracker.update(Detections.empty(4), 5 / 25)
    assert [t.track_id for t in tracker.just_lost] == [tracker.tracks[0].track_id]
    tracker.update(Detections.empty(4), 6 / 25)
    assert tracker.just_lost == []  # missed twice now


def test_offline_runner_backfills_tentative_frames():
    frames = walker_frames(6) + [Detections.empty(4)] * 3
    # A two-frame false positive that never gets confirmed is not emitted.
    frames[7] = make_detections([person_box(400)], 0.9, [unit(4, 2)])
    frames[8] = make_detections([person_box(400)], 0.9, [unit(4, 2)])
    runner = OfflineTrackRunner(DeepSortTracker(n_init=3), fill_gap_s=0)
    released = []
    for k, dets in enumerate(frames):
        got = runner.update(dets, k / FPS)
        assert len(got) == (0 if k < 2 else 1)  # held back n_init - 1 = 2 frames (no gap filling)
        released += got
    released += runner.finish()
    assert [f.step for f in released] == list(range(9))
    assert [len(f.detections) for f in released] == [1] * 6 + [0] * 3
    assert all(f.detections.track_id.tolist() == [1] for f in released[:6])
    assert released[1].timestamp == pytest.approx(1 / FPS)


def gap_frames(missed: range, n: int = 14) -> list[Detections]:
    """A walker moving 2 px a frame, not detected in the frames of ``missed``."""
    return [Detections.empty(4) if k in missed else d for k, d in enumerate(walker_frames(n))]


def run_runner(runner: OfflineTrackRunner, frames: list[Detections]) -> list:
    released = []
    for k, dets in enumerate(frames):
        released += runner.update(dets, k / FPS)
    return released + runner.finish()


def test_offline_runner_fills_a_short_gap_by_interpolation():
    frames = gap_frames(range(5, 9))  # 4 frames (0.2 s) without a box
    released = run_runner(OfflineTrackRunner(DeepSortTracker(), fill_gap_s=1.0), frames)
    assert [f.step for f in released] == list(range(14))
    assert all(len(f.detections) == 1 and f.detections.track_id.tolist() == [1] for f in released)
    for k, f in enumerate(released):
        d = f.detections
        assert d.data["interpolated"].tolist() == [k in range(5, 9)]
        if k in range(5, 9):
            # Linear in time between the boxes of frames 4 and 9 (the walker moves 2 px a frame).
            np.testing.assert_allclose(
                d.xyxy[0], frames[4].xyxy[0] + [2 * (k - 4), 0, 2 * (k - 4), 0], atol=1e-3
            )
            assert d.confidence.tolist() == [0.0]
            assert not d.embedding.any()  # no appearance for a box nobody saw
            assert not d.keypoints[..., 2].any()


def test_offline_runner_leaves_gaps_longer_than_fill_gap():
    frames = gap_frames(range(5, 11))  # 6 frames (0.28 s between the boxes on either side)
    released = run_runner(OfflineTrackRunner(DeepSortTracker(), fill_gap_s=0.2), frames)
    assert [len(f.detections) for f in released] == [1] * 5 + [0] * 6 + [1] * 3
    assert not any(f.detections.data["interpolated"].any() for f in released)
    assert {tid for f in released for tid in f.detections.track_id.tolist()} == {1}  # one track throughout


def test_offline_runner_holds_frames_back_for_the_gap():
    runner = OfflineTrackRunner(DeepSortTracker(), fill_gap_s=0.2)  # 5 frames at 25 fps
    counts = [len(runner.update(d, k / FPS)) for k, d in enumerate(walker_frames(10))]
    assert counts == [0] * 5 + [1] * 5  # a frame leaves once 0.2 s of later frames were tracked
    assert len(runner.finish()) == 5


def test_offline_runner_rejects_a_negative_gap():
    with pytest.raises(ValueError, match="fill_gap_s"):
        OfflineTrackRunner(DeepSortTracker(), fill_gap_s=-1.0)


def test_offline_runner_needs_a_fresh_tracker():
    tracker = DeepSortTracker()
    tracker.update(Detections.empty(), 0.0)
    with pytest.raises(ValueError, match="fresh"):
        OfflineTrackRunner(tracker)


def test_offline_runner_on_empty_stream():
    runner = OfflineTrackRunner(DeepSortTracker())
    assert runner.finish() == []


@pytest.mark.parametrize(("max_low_seconds", "alive_at_end"), [(None, False), (1.0, False), (100.0, True)])
def test_track_living_only_on_low_score_boxes_ends(max_low_seconds, alive_at_end):
    """A person walks behind a mannequin: only a weak box stays there. The track may bridge that for
    ``max_low_seconds`` (default: max_age), not forever."""
    tracker = DeepSortTracker(max_low_seconds=max_low_seconds, max_age=2.0)
    fps = 10.0
    for k in range(5):  # confident walk
        tracker.update(make_detections([person_box(100 + 2 * k)], 0.9), k / fps)
    seen = []
    for k in range(5, 5 + 40):  # 4 s of a static weak box where the walker stopped
        out = tracker.update(make_detections([person_box(108)], 0.3), k / fps)
        seen.append(len(out))
    assert seen[0] == 1  # the low pass extends the track at first
    assert (seen[-1] == 1) is alive_at_end
    if not alive_at_end:
        assert sum(seen) <= 2.5 * fps  # ended after about max_low_seconds


def test_max_low_seconds_must_not_be_negative():
    with pytest.raises(ValueError, match="max_low_seconds"):
        DeepSortTracker(max_low_seconds=-1.0)


def looks(distance: float) -> list[float]:
    """A feature at cosine distance ``distance`` from ``unit(4, 0)`` (the walker's look)."""
    return [1.0 - distance, math.sqrt(1.0 - (1.0 - distance) ** 2), 0.0, 0.0]


@pytest.mark.parametrize(
    ("veto", "distance", "kept"),
    [
        (1.5, 0.9, False),  # looks like someone else: overlapping the prediction is not enough
        (None, 0.9, True),  # no veto (deep_sort's IoU stage): the overlap keeps the id
        (1.5, 0.2, True),  # past the appearance gate (0.15) but within 1.5 x: IoU may still keep it
        (1.0, 0.2, False),
        (1.5, None, True),  # a box that was never embedded (zero feature) is judged by IoU alone
    ],
)
def test_appearance_veto_in_the_iou_stage(veto, distance, kept):
    tracker = DeepSortTracker(max_cosine_distance=0.15, appearance_veto=veto)
    run(tracker, walker_frames(8))
    feature = [0.0] * 4 if distance is None else looks(distance)
    out = tracker.update(make_detections([person_box(100.0 + 2.0 * 8)], 0.9, [feature]), 8 / FPS)
    assert (out.track_id.tolist() == [1]) is kept
    # Either way the detection is used: a vetoed one starts a new (tentative) track.
    assert len(tracker.tracks) == (1 if kept else 2)


def test_appearance_veto_spares_tentative_tracks():
    tracker = DeepSortTracker(max_cosine_distance=0.15, appearance_veto=1.0, n_init=3)
    run(tracker, walker_frames(2))  # two hits: still tentative
    tracker.update(make_detections([person_box(104.0)], 0.9, [looks(0.9)]), 2 / FPS)
    assert [t.hits for t in tracker.tracks] == [3] and tracker.tracks[0].is_confirmed()


def _clipped(cx: float, width: int = 640) -> list[float]:
    x1, y1, x2, y2 = person_box(cx, cy=200.0)
    return [max(x1, 0.0), y1, min(x2, float(width)), y2]


@pytest.mark.parametrize("frame_size", [None, (640, 480)])
def test_a_person_who_walks_out_at_the_border_is_not_carried_on_to_the_next_one_in(frame_size):
    """P walks out at the right border; 3 frames later Q, who looks the same, comes in there. Coasting at
    the border, P's track takes Q; told the frame size, it ends when P is gone and Q gets a track of his own."""
    look = [unit(4, 0)]
    frames = [make_detections([_clipped(560 + 4 * k)], 0.9, look) for k in range(20)]  # out at 640
    frames += [Detections.empty(4)] * 3
    frames += [make_detections([_clipped(636 - 4 * k)], 0.9, look) for k in range(15)]  # Q walks in
    out = run(DeepSortTracker(frame_size=frame_size), frames)
    p_ids = {int(i) for o in out[:20] for i in o.track_id}
    q_ids = {int(i) for o in out[26:] for i in o.track_id}
    assert len(p_ids) == 1 and len(q_ids) == 1
    assert (p_ids == q_ids) is (frame_size is None)


def _cut_at_bottom(cx: float, cy: float, height: int = 480) -> list[float]:
    x1, y1, x2, y2 = person_box(cx, cy=cy)
    return [x1, y1, x2, min(y2, float(height))]


def test_a_person_who_walks_out_at_the_bottom_is_not_carried_on_to_the_next_one_in():
    """The same through the bottom edge (a person walking towards a high camera and under it)."""
    look = [unit(4, 0)]
    frames = [make_detections([_cut_at_bottom(300, 400 + 4 * k)], 0.9, look) for k in range(20)]
    frames += [Detections.empty(4)] * 3
    frames += [make_detections([_cut_at_bottom(300, 476 - 4 * k)], 0.9, look) for k in range(15)]
    out = run(DeepSortTracker(frame_size=(640, 480)), frames)
    p_ids = {int(i) for o in out[:20] for i in o.track_id}
    q_ids = {int(i) for o in out[26:] for i in o.track_id}
    assert len(p_ids) == 1 and len(q_ids) == 1 and p_ids != q_ids


@pytest.mark.parametrize("speed", [0.0, 3.0])
def test_a_person_standing_or_walking_along_the_border_coasts_through_a_missed_detection(speed):
    """A high camera's bottom edge cuts the shoppers just below it: one standing there (``speed`` 0) or
    walking along the edge is not walking out, and keeps the track through missed detections."""
    look = [unit(4, 0)]
    frames = [make_detections([_cut_at_bottom(200 + speed * k, 460)], 0.9, look) for k in range(30)]
    frames[12] = frames[13] = Detections.empty(4)
    tracker = DeepSortTracker(frame_size=(640, 480))
    out = run(tracker, frames)
    assert {int(i) for o in out for i in o.track_id} == {1}
    assert len(out[12].track_id) == 0 and len(out[14].track_id) == 1


def test_a_person_standing_at_the_border_with_jittering_boxes_coasts_through_a_missed_detection():
    """A standing person's box jitters by a pixel or two, so the filter's velocity points out of the frame
    about half the time: that is not walking out (the track ended on one miss in 155 of 400 trials)."""
    rng = np.random.default_rng(0)
    look = [unit(4, 0)]
    ended = 0
    for _ in range(50):
        frames = [
            make_detections([np.add(_cut_at_bottom(200, 460), rng.normal(0, 1.0, 4)).tolist()], 0.9, look)
            for _ in range(30)
        ]
        frames[25] = Detections.empty(4)
        out = run(DeepSortTracker(frame_size=(640, 480)), frames)
        ended += len({int(i) for o in out for i in o.track_id}) > 1
    assert ended == 0


def test_a_person_inside_the_frame_coasts_through_a_missed_detection():
    """The border rule ends only tracks whose last box touched the border: mid-frame misses coast as before."""
    look = [unit(4, 0)]
    frames = [make_detections([_clipped(200 + 4 * k)], 0.9, look) for k in range(30)]
    frames[12] = frames[13] = Detections.empty(4)
    out = run(DeepSortTracker(frame_size=(640, 480)), frames)
    assert {int(i) for o in out for i in o.track_id} == {1}
