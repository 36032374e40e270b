"""Reusing a lone person's feature from the previous frame (pipeline.embedders.reuse)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.embedders.hist import HistEmbedder
from pipeline.embedders.reuse import FeatureReuse, reuse_sources
from pipeline.track_video import embed_confident, feature_reuse
from pipeline.types import Detections


def boxes(*rows) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


def test_a_lone_box_that_barely_moved_takes_its_predecessors_feature():
    prev = boxes([100, 100, 150, 220], [400, 100, 450, 220])
    cur = boxes([402, 101, 452, 221], [101, 100, 151, 220])
    assert reuse_sources(prev, np.zeros(2, np.int64), cur).tolist() == [1, 0]


def test_a_box_that_moved_or_changed_shape_is_embedded():
    prev = boxes([100, 100, 150, 220])
    moved = boxes([130, 100, 180, 220])  # IoU 0.25
    shrunk = boxes([100, 150, 150, 220])  # half-hidden: IoU 0.58
    assert reuse_sources(prev, np.zeros(1, np.int64), moved).tolist() == [-1]
    assert reuse_sources(prev, np.zeros(1, np.int64), shrunk).tolist() == [-1]


def test_boxes_near_each_other_are_embedded_afresh():
    """Where people meet (a group, a crossing, someone half hidden), appearance tells them apart."""
    prev = boxes([100, 100, 150, 220], [120, 100, 170, 220])  # IoU 0.43 with each other
    cur = boxes([100, 100, 150, 220], [121, 100, 171, 220])
    assert reuse_sources(prev, np.zeros(2, np.int64), cur).tolist() == [-1, -1]
    # A lone current box next to a low-scoring box (not embedded) is embedded too.
    lone_prev, lone_cur = boxes([100, 100, 150, 220]), boxes([100, 100, 150, 220])
    others = boxes([120, 110, 170, 220])  # IoU 0.40
    assert reuse_sources(lone_prev, np.zeros(1, np.int64), lone_cur, others).tolist() == [-1]
    assert reuse_sources(lone_prev, np.zeros(1, np.int64), lone_cur).tolist() == [0]


def test_a_previous_box_is_not_handed_to_a_newcomer_walking_into_it():
    prev = boxes([100, 100, 150, 220])
    # The first moved on (IoU 0.72 with its predecessor); the second touches the predecessor (IoU 0.055)
    # but not the first.
    cur = boxes([108, 100, 158, 220], [60, 100, 105, 220])
    kw = {"min_iou": 0.7, "max_other_iou": 0.05}
    assert reuse_sources(prev, np.zeros(1, np.int64), cur, **kw).tolist() == [-1, -1]
    assert reuse_sources(prev, np.zeros(1, np.int64), cur[:1], **kw).tolist() == [0]


def test_features_are_refreshed_after_max_reuse_frames():
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8)
    calls = []

    def embed(_image, xyxy):
        calls.append(len(xyxy))
        return np.tile(np.eye(1, 4, len(calls) % 4, dtype=np.float32), (len(xyxy), 1))

    state = FeatureReuse(max_reuse=2)
    box = boxes([10, 10, 60, 130])
    got = [state.features_for(embed, image, box).copy() for _ in range(7)]
    assert calls == [1, 1, 1]  # frames 0, 3, 6 embed; 1-2 and 4-5 reuse
    assert (state.embedded, state.reused) == (3, 4)
    assert np.array_equal(got[1], got[0]) and np.array_equal(got[2], got[0])
    assert not np.array_equal(got[3], got[0])
    with pytest.raises(ValueError, match="skip_frame"):
        state.features_for(embed, image, boxes())
    state.skip_frame()  # a frame without people: nothing carries over
    state.features_for(embed, image, box)
    assert calls == [1, 1, 1, 1]


def test_track_video_reuses_only_for_costly_embedders():
    assert feature_reuse(None) is None
    assert feature_reuse(HistEmbedder()) is None  # cheaper than the bookkeeping

    class Costly:
        name, dim = "omz", 8

    assert isinstance(feature_reuse(Costly()), FeatureReuse)


def test_embed_confident_with_reuse_gives_the_same_features_as_embedding_again_when_nothing_moved():
    """On a still scene the reused features are exactly the ones a fresh embedding gives; low scores
    stay unembedded (zero rows) either way."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (240, 320, 3), np.uint8)
    dets = Detections(
        xyxy=boxes([10, 10, 60, 130], [200, 20, 250, 140], [120, 30, 160, 120]),
        confidence=np.array([0.9, 0.8, 0.2], np.float32),
    )
    hist = HistEmbedder()
    state = FeatureReuse()
    first = embed_confident(hist, image, dets, 0.5, state)
    second = embed_confident(hist, image, dets, 0.5, state)
    plain = embed_confident(hist, image, dets, 0.5)
    assert state.reused == 2 and state.embedded == 2
    assert np.allclose(second.embedding, plain.embedding) and np.allclose(first.embedding, plain.embedding)
    assert not second.embedding[2].any()


def test_a_box_cut_by_the_frame_edge_is_embedded_afresh():
    """A person walking into or out of view shows more or less of themselves every frame."""
    prev, cur = boxes([0, 100, 40, 220]), boxes([0, 100, 41, 220])  # IoU 0.98, touching the left edge
    assert reuse_sources(prev, np.zeros(1, np.int64), cur).tolist() == [0]  # without the frame's size
    assert reuse_sources(prev, np.zeros(1, np.int64), cur, frame_size=(320, 240)).tolist() == [-1]
    inside = boxes([5, 100, 45, 220])
    assert reuse_sources(inside, np.zeros(1, np.int64), inside, frame_size=(320, 240)).tolist() == [0]


def test_a_track_that_loses_its_person_gets_its_reused_features_embedded_afresh():
    """A person stands still (features reused), their look changes a little each frame, then the
    detector misses them: the track's newest features become the fresh ones of those frames, which a
    detection ending the miss is compared with (a CAVIAR shop clip split a track without this)."""
    from pipeline.track_video import new_tracker, update_tracks
    from pipeline.tracking.offline import OfflineTrackRunner

    hist = HistEmbedder()
    runner = OfflineTrackRunner(new_tracker(hist), frame_size=(320, 240))
    state = FeatureReuse()
    box = boxes([100, 60, 150, 200])
    images = []
    for k in range(6):
        image = np.full((240, 320, 3), 40, np.uint8)
        image[60:200, 100:150] = (60 + 6 * k, 90, 200 - 5 * k)  # the person's colours drift
        images.append(image)
        step = runner.tracker.step + 1
        dets = embed_confident(hist, image, Detections(box, np.array([0.9], np.float32)), 0.5, state, step)
        update_tracks(runner, dets, k / 25, hist, state)
    assert state.reused > 0
    (track,) = runner.tracker.tracks
    before = track.features.copy()
    reused_before = state.reused
    # Frame 7: nobody detected. The track has just lost its person.
    step = runner.tracker.step + 1
    empty = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
    update_tracks(runner, embed_confident(hist, images[-1], empty, 0.5, state, step), 6 / 25, hist, state)
    refreshed = reused_before - state.reused
    assert refreshed > 0 and state.embedded + state.reused == 6
    for (s, _), feature in zip(track.feature_keys, track.features):
        fresh = hist.embed(images[s], box)[0]
        if s >= step - state.max_reuse:  # remembered frames: now their own look
            assert np.allclose(feature, fresh, atol=1e-6)
    assert not np.allclose(before, track.features)
    # Refreshed once: a second miss embeds nothing more.
    again = runner.tracker.step + 1
    update_tracks(runner, embed_confident(hist, images[-1], empty, 0.5, state, again), 7 / 25, hist, state)
    assert reused_before - state.reused == refreshed
