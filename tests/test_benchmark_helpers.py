"""Helpers the benchmark scripts share (benchmarks/common.py): a stride's frames, a cut frame's ground
truth, rewriting a video."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from benchmarks.common import every_nth, gt_above, rewrite_video


def _video(path, n: int, fps: float = 25.0, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for k in range(n):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, 6 * k : 6 * k + 4] = 255  # frame k: a white bar at x = 6k
        writer.write(frame)
    writer.release()
    return path


def _bar_x(image) -> int:
    return int(np.argmax(image.mean(axis=(0, 2)))) // 6 * 6


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        out.append(image)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return out, fps


def test_every_nth_keeps_the_frames_a_stride_reads():
    gt = pd.DataFrame({"frame": [1, 2, 3, 4, 5, 6, 7], "id": 1})
    assert every_nth(gt, 3)["frame"].tolist() == [1, 4, 7]
    assert every_nth(gt, 1)["frame"].tolist() == gt["frame"].tolist()


def test_gt_above_clips_boxes_at_the_cut_and_drops_those_mostly_below():
    gt = pd.DataFrame({"frame": [1, 1, 1], "id": [1, 2, 3], "y": [10.0, 60.0, 90.0], "h": [50.0, 80.0, 40.0]})
    kept = gt_above(gt, 100)
    assert kept["id"].tolist() == [1, 2]  # 3 has 10 of 40 px above the cut
    assert kept["h"].tolist() == [50.0, 40.0]  # 2 is clipped to the 40 px above the cut


def test_rewrite_video_keeps_every_kth_frame_at_the_lower_rate(tmp_path):
    src = _video(tmp_path / "in.mp4", 10)
    fps, size = rewrite_video(src, tmp_path / "out.mp4", stride=3)
    frames, written_fps = _frames(tmp_path / "out.mp4")
    assert size == (64, 48)
    assert fps == pytest.approx(25 / 3) and written_fps == pytest.approx(25 / 3, abs=0.01)
    assert [_bar_x(f) for f in frames] == [0, 18, 36, 54]  # source frames 0, 3, 6, 9


def test_rewrite_video_applies_the_transform(tmp_path):
    src = _video(tmp_path / "in.mp4", 4)
    rewrite_video(src, tmp_path / "out.mp4", lambda image: 255 - image)
    frames, _ = _frames(tmp_path / "out.mp4")
    assert len(frames) == 4
    assert float(frames[0].mean()) > 200  # mostly black frames, inverted


def test_rewrite_video_writes_a_cropped_video_at_the_crop_size(tmp_path):
    src = _video(tmp_path / "in.mp4", 4)
    _, size = rewrite_video(src, tmp_path / "out.mp4", lambda image: image[:32, 16:])
    frames, _ = _frames(tmp_path / "out.mp4")
    assert size == (48, 32)
    assert len(frames) == 4 and frames[0].shape[:2] == (32, 48)


def test_rewrite_video_refuses_a_file_without_frames(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="has no frames"):
        rewrite_video(empty, tmp_path / "out.mp4")


@pytest.mark.slow
def test_replaying_recorded_inputs_with_reuse_gives_the_products_tracks(mot15):
    """The benchmarks' tracker grids replay inputs recorded with every box embedded; with the product's
    feature reuse replayed over them (lost tracks' refresh included) the tracks are ``track``'s own."""
    from benchmarks.run_helpers import record_inputs, replay_tracker, run_ours
    from pipeline.track_settings import TrackSettings
    from pipeline.track_video import feature_reuse, load_components, new_tracker
    from pipeline.video import probe

    video = mot15 / "TUD-Campus" / "TUD-Campus.mp4"
    settings = TrackSettings(imgsz=640, embedder="mobilenet")  # a learned embedder: its features are reused
    components = load_components(settings)
    product = run_ours(video, settings, components).rows
    high = new_tracker(components.embedder).high_conf_threshold
    frames, _ = record_inputs(video, settings, components, high)
    info = probe(video)
    state = feature_reuse(components.embedder)
    refresh, refreshed = state.refresh, []

    def counted_refresh(tracks, embed):  # the real refresh, counted
        refreshed.append(refresh(tracks, embed))
        return refreshed[-1]

    state.refresh = counted_refresh
    size = (info.width, info.height)
    replayed = replay_tracker(frames, new_tracker(components.embedder), frame_size=size, reuse=state)
    assert state.reused > 0 and state.embedded > 0
    assert sum(refreshed) > 0  # lost tracks' reused features were embedded afresh, as in `track`
    keys = ["frame", "id"]
    product, replayed = product.sort_values(keys).reset_index(drop=True), replayed.sort_values(keys)
    pd.testing.assert_frame_equal(product, replayed.reset_index(drop=True), atol=1e-3, check_exact=False)
