from __future__ import annotations

import pytest

from pipeline.errors import VideoError
from pipeline.video import probe, read_frames, sample_step
from tests.builders import write_video


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "video not found"),
        (b"", "video file is empty"),
        (b"this is not a video at all" * 100, "cannot"),
        (bytes(range(256)) * 400, "cannot"),
    ],
)
def test_bad_files_raise_video_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "clip.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=message) as info:
        list(read_frames(path))
    assert "clip.mp4" in str(info.value)


def test_truncated_video_is_rejected(tmp_path):
    good = write_video(tmp_path / "good.mp4")
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(VideoError, match=r"truncated\.mp4"):
        probe(bad)


def test_frames_timestamps_and_stride(tmp_path):
    path = write_video(tmp_path / "clip.mp4", frames=12, fps=10.0)
    info = probe(path)
    assert (info.width, info.height, info.fps, info.n_frames) == (160, 120, 10.0, 12)
    frames = list(read_frames(path))
    assert [f.index for f in frames] == list(range(12))
    assert frames[5].timestamp == pytest.approx(0.5)
    strided = list(read_frames(path, stride=5))
    assert [f.index for f in strided] == [0, 5, 10]
    assert [f.timestamp for f in strided] == pytest.approx([0.0, 0.5, 1.0])
    assert list(read_frames(path, fps_override=20.0))[4].timestamp == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("fps", "stride", "sample_fps", "expected"),
    [(25, 1, None, 1), (25, 3, None, 3), (25, 1, 5.0, 5), (30, 1, 5.0, 6), (4, 1, 5.0, 1)],
)
def test_sample_step(fps, stride, sample_fps, expected):
    assert sample_step(fps, stride, sample_fps) == expected


@pytest.mark.parametrize(("stride", "sample_fps"), [(0, None), (1, 0.0), (1, -2.0)])
def test_sample_step_rejects_bad_values(stride, sample_fps):
    with pytest.raises(ValueError):
        sample_step(25, stride, sample_fps)
