from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from pipeline.errors import VideoError
from pipeline.types import Frame
from pipeline.video import (
    DecodeStatus,
    _probe_opencv,
    expected_frames,
    frame_at,
    prefetch,
    probe,
    read_frames,
    sample_step,
)
from tests.builders import write_video
from tests.conftest import require_shared

# Irregular presentation times (ms): a burst, a 0.76 s gap (dropped frames), then uneven spacing.
VFR_TIMES_MS = [0, 40, 80, 200, 240, 1000, 1033, 1500]


def write_vfr_video(path: Path, times_ms: list[int] = VFR_TIMES_MS) -> Path:
    """An MPEG-4 file whose frames carry the given presentation times (a variable frame rate)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 30 * i, np.uint8), format="bgr24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_mjpg_avi(path: Path, frames: int = 71, size: tuple[int, int] = (160, 120)) -> Path:
    """An MJPG AVI from OpenCV (noise frames, so every frame takes about the same bytes)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, size)
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (size[1], size[0], 3), np.uint8))
    writer.release()
    return path


def decode_all(path: Path, **kwargs) -> tuple[list[int], list[float], DecodeStatus]:
    """Indices and timestamps of every yielded frame (images dropped), and the decode status."""
    status = DecodeStatus()
    indices, stamps = [], []
    for frame in read_frames(path, status=status, **kwargs):
        indices.append(frame.index)
        stamps.append(frame.timestamp)
    return indices, stamps, status


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


@pytest.mark.parametrize(
    ("writer", "name"), [("png", "still.png"), ("png", "still.mp4"), ("jpg", "still.jpg")]
)
def test_still_images_are_refused(tmp_path, writer, name):
    ok, encoded = cv2.imencode(f".{writer}", np.zeros((48, 64, 3), np.uint8))
    assert ok
    path = tmp_path / name
    path.write_bytes(encoded.tobytes())
    with pytest.raises(VideoError, match="not a video: a single still image") as info:
        probe(path)
    assert name in str(info.value)
    with pytest.raises(VideoError, match="single still image"):
        _probe_opencv(path, None)  # the OpenCV fallback refuses it too


def test_truncated_video_is_rejected(tmp_path):
    good = write_video(tmp_path / "good.mp4")
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(VideoError, match=r"truncated\.mp4"):
        probe(bad)


def test_frames_timestamps_and_stride(tmp_path):
    path = write_video(tmp_path / "clip.mp4", frames=12, fps=10.0)
    info = probe(path)
    assert (info.width, info.height, info.fps, info.n_frames, info.n_frames_exact) == (
        160,
        120,
        10.0,
        12,
        True,
    )
    frames = list(read_frames(path))
    assert [f.index for f in frames] == list(range(12))
    assert frames[5].timestamp == pytest.approx(0.5)
    assert frames[0].image.dtype == np.uint8 and frames[0].image.shape == (120, 160, 3)
    strided = list(read_frames(path, stride=5))
    assert [f.index for f in strided] == [0, 5, 10]
    assert [f.timestamp for f in strided] == pytest.approx([0.0, 0.5, 1.0])
    assert [f.index for f in read_frames(path, stride=5, start_frame=3)] == [3, 8]
    assert list(read_frames(path, fps_override=20.0))[4].timestamp == pytest.approx(0.2)


def test_variable_frame_rate_timestamps_come_from_the_file(tmp_path):
    path = write_vfr_video(tmp_path / "vfr.mp4")
    info = probe(path)
    assert (info.n_frames, info.n_frames_exact) == (8, True)
    indices, stamps, status = decode_all(path)
    assert indices == list(range(8))
    assert stamps == pytest.approx([t / 1000 for t in VFR_TIMES_MS], abs=1e-9)
    assert (status.frames_decoded, status.finished, status.truncated, status.problem) == (
        8,
        True,
        False,
        None,
    )
    # The caller's frame rate replaces the file's timing (the old nominal behaviour, on request only).
    assert decode_all(path, fps_override=10.0)[1] == pytest.approx([i / 10 for i in range(8)])


@pytest.mark.parametrize(
    ("sample_fps", "expected"),
    [
        (5.0, [0, 3, 5, 7]),  # 0.0, 0.2, 1.0 (the gap's missed slots are not made up), 1.5
        (1.0, [0, 5]),  # 0.0, 1.0
        (100.0, list(range(8))),  # faster than the footage: every frame
    ],
)
def test_sample_fps_picks_frames_by_time(tmp_path, sample_fps, expected):
    path = write_vfr_video(tmp_path / "vfr.mp4")
    indices, _, status = decode_all(path, sample_fps=sample_fps)
    assert indices == expected
    assert status.frames_decoded == 8  # skipped frames are decoded and counted too


def test_sample_fps_on_constant_rate_matches_the_step(tmp_path):
    path = write_video(tmp_path / "clip.mp4", frames=30, fps=30.0)
    step = sample_step(30.0, sample_fps=5.0)
    assert decode_all(path, sample_fps=5.0)[0] == list(range(0, 30, step))


@pytest.mark.parametrize(
    ("sample_fps", "expected"), [(20.0, 40), (10.0, 20), (5.0, 10), (25.0, 50), (0.5, 1)]
)
def test_sample_fps_gives_the_asked_rate_where_no_step_can(tmp_path, sample_fps, expected):
    path = write_video(tmp_path / "clip.mp4", frames=50, fps=25.0)  # 2 s
    assert len(decode_all(path, sample_fps=sample_fps)[0]) == expected
    assert expected_frames(probe(path), sample_fps=sample_fps) == expected  # the progress total


@pytest.mark.parametrize(
    ("stride", "start_frame", "expected"), [(1, 0, 12), (5, 0, 3), (5, 3, 2), (1, 12, 0), (4, 20, 0)]
)
def test_expected_frames_by_stride(tmp_path, stride, start_frame, expected):
    path = write_video(tmp_path / "clip.mp4", frames=12)
    assert expected_frames(probe(path), stride, start_frame=start_frame) == expected
    assert len(list(read_frames(path, stride, start_frame=start_frame))) == expected


def test_expected_frames_is_unknown_for_an_estimated_count(tmp_path):
    path = write_mjpg_avi(tmp_path / "clip.avi", frames=10)  # AVI: the count is a header field
    assert expected_frames(probe(path)) is None


def test_truncated_avi_is_flagged_and_keeps_its_frames(tmp_path):
    full = write_mjpg_avi(tmp_path / "full.avi")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.3)])
    assert cv2.VideoCapture(str(cut)).get(cv2.CAP_PROP_FRAME_COUNT) == 71  # the header still says 71

    info = probe(cut)
    assert not info.n_frames_exact
    _, _, status = decode_all(cut)
    assert status.truncated and status.finished
    assert 10 < status.frames_decoded < 30
    assert "of the 71 the file states" in status.problem

    _, _, intact = decode_all(full)
    assert (intact.frames_decoded, intact.truncated, intact.problem) == (71, False, None)


def write_noise_video(path: Path, frames: int = 75, **options: str) -> Path:
    """75 noise frames (25 fps) with PyAV's mpeg4 encoder; ``options`` go to the muxer."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (120, 160, 3), np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())
    return path


@pytest.mark.parametrize(
    ("name", "options", "says"),
    [
        ("faststart.mp4", {"movflags": "faststart"}, "of the 75 the file states"),  # index before the data
        ("clip.mkv", {}, "of the 3.0 s the file states"),  # Matroska states its duration up front
    ],
)
def test_truncated_file_flagged_by_stated_count_or_duration(tmp_path, name, options, says):
    full = write_noise_video(tmp_path / name, **options)
    cut = tmp_path / f"cut-{name}"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.3)])
    _, _, status = decode_all(cut)
    assert status.truncated and 5 < status.frames_decoded < 30
    assert says in status.problem
    assert decode_all(full)[2].problem is None


def test_mp4_cut_before_its_index_is_refused(tmp_path):
    full = write_noise_video(tmp_path / "clip.mp4")  # the index (moov) is written at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.3)])
    with pytest.raises(VideoError, match=r"cannot read .*cut\.mp4.*cut short"):
        probe(cut)


def test_status_reaches_the_consumer_through_prefetch(tmp_path):
    full = write_mjpg_avi(tmp_path / "full.avi", frames=40)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.5)])
    status = DecodeStatus()
    n = sum(1 for _ in prefetch(read_frames(cut, status=status)))
    assert status.truncated and status.frames_decoded == n


def test_consumer_stopping_early_is_not_truncation(tmp_path):
    path = write_video(tmp_path / "clip.mp4", frames=12)
    status = DecodeStatus()
    for frame in read_frames(path, status=status):
        if frame.index == 3:
            break
    assert (status.frames_decoded, status.finished, status.truncated) == (4, False, False)


def test_opencv_fallback_reads_the_same_frames(tmp_path):
    path = write_vfr_video(tmp_path / "vfr.mp4")
    info = _probe_opencv(path, None)
    assert info.backend == "opencv" and not info.n_frames_exact
    indices, stamps, status = decode_all(path, info=info)
    assert indices == list(range(8)) and status.finished
    assert stamps == pytest.approx([t / 1000 for t in VFR_TIMES_MS], abs=1e-3)
    images = [f.image for f in read_frames(path, info=info)]
    assert all(np.array_equal(a.image, b) for a, b in zip(read_frames(path), images, strict=True))


def test_caviar_mpeg1_gives_every_frame_40_ms_apart():
    path = require_shared("data", "caviar", "EnterExitCrossingPaths2front.mpg")
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT) < 10  # what OpenCV believes
    info = probe(path)
    assert (info.n_frames, info.n_frames_exact, info.fps, info.width, info.height) == (
        485,
        True,
        25.0,
        384,
        288,
    )
    indices, stamps, status = decode_all(path)
    assert indices == list(range(485))
    assert np.allclose(np.diff(stamps), 0.04)
    assert (status.frames_decoded, status.truncated) == (485, False)


def test_tud_campus_frames_match_opencv_pixel_for_pixel():
    path = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    cap = cv2.VideoCapture(str(path))
    n = 0
    for frame in read_frames(path, stride=10):
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame.index)
        ok, expected = cap.read()
        assert ok and np.array_equal(frame.image, expected), f"frame {frame.index} differs from OpenCV's"
        assert frame.timestamp == pytest.approx(frame.index * 0.04)
        n += 1
    cap.release()
    assert n == 8


def test_frame_at_gives_the_frame_read_frames_yields(tmp_path):
    path = write_vfr_video(tmp_path / "vfr.mp4")
    frames = list(read_frames(path))
    for frame in frames:  # by timestamp: exact on a variable frame rate too (seek + decode forward)
        assert np.array_equal(frame_at(path, frame.index, frame.timestamp), frame.image), frame.index
    cfr = write_video(tmp_path / "cfr.mp4", frames=12)
    for frame in read_frames(cfr, stride=4):  # constant rate: the index is enough
        assert np.array_equal(frame_at(cfr, frame.index), frame.image)
    with pytest.raises(VideoError, match="ends before"):
        frame_at(cfr, 12)
    with pytest.raises(ValueError):
        frame_at(cfr, -1)


def test_frame_at_on_caviar_where_opencv_seeks_wrong():
    path = require_shared("data", "caviar", "OneLeaveShop1front.mpg")
    wanted = {0, 1, 150, 294}
    expected = {f.index: f.image for f in read_frames(path) if f.index in wanted}
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 150)
    assert not np.array_equal(cap.read()[1], expected[150])  # why frame_at exists
    cap.release()
    info = probe(path)
    for index in sorted(wanted):
        assert np.array_equal(frame_at(path, index, info=info), expected[index]), index
    with pytest.raises(VideoError, match="ends before frame 295"):
        frame_at(path, 295, info=info)


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


@pytest.mark.parametrize(("stride", "sample_fps"), [(0, None), (1, 0.0), (1, -2.0)])
def test_read_frames_rejects_bad_values(tmp_path, stride, sample_fps):
    path = write_video(tmp_path / "clip.mp4")
    with pytest.raises(ValueError):
        list(read_frames(path, stride, sample_fps=sample_fps))


def test_prefetch_stops_its_thread_when_the_consumer_stops_after_the_reader_finished():
    """The reader has read everything (its last put waits on a full queue) when the consumer stops: closing
    returns at once and the thread ends (it waited 2 s, then stayed blocked for good)."""
    import threading
    import time

    def frames():
        for i in range(5):
            yield Frame(index=i, timestamp=i / 25, image=np.zeros((2, 2, 3), np.uint8))

    consumer = prefetch(frames(), depth=4)
    next(consumer)
    time.sleep(0.3)  # the reader fills the queue and waits to queue its end marker
    started = time.monotonic()
    consumer.close()
    assert time.monotonic() - started < 1.0
    time.sleep(0.3)
    assert not [t for t in threading.enumerate() if t.name == "video-decode"]


@pytest.mark.parametrize("override", [None, 5.0, 10.0, 30.0])
def test_a_frame_rate_override_changes_times_not_the_frame_count_or_the_truncation_check(tmp_path, override):
    """A camera's `fps:` (the file's rate is wrong) retimes the frames; the file still has its frames, a
    whole file is not "truncated" and a cut one still is (both judged in the file's own time)."""
    source = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    images = [f.image for f in read_frames(source)]
    full = tmp_path / "full.mkv"
    with av.open(str(full), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for image in images:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    for path, whole in ((full, True), (source, True), (cut, False)):
        info = probe(path, override)
        status = DecodeStatus()
        n = sum(1 for _ in read_frames(path, fps_override=override, info=info, status=status))
        assert status.truncated is not whole, (path.name, status.problem)
        if whole:
            assert n == len(images) and abs(info.n_frames - len(images)) <= 1, (path.name, info.n_frames)


def test_a_phone_clip_stored_sideways_is_read_upright_as_opencv_shows_it(tmp_path):
    """Phones store the pixels sideways and a display matrix saying to turn them: the frames (and the size
    probe reports) are upright, pixel-identical to OpenCV's, which applies the matrix."""
    import struct

    source = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    images = [f.image for f in read_frames(source)][:6]
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 480, 640, "yuv420p"
        for image in images:
            sideways = np.ascontiguousarray(np.rot90(image, -1))
            out.mux(stream.encode(av.VideoFrame.from_ndarray(sideways, format="bgr24")))
        out.mux(stream.encode())
    data = bytearray(path.read_bytes())
    tkhd = data.find(b"tkhd")
    matrix_at = tkhd + 8 + (32 if data[tkhd + 4] == 1 else 20) + 16
    data[matrix_at : matrix_at + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))
    ok, upright = cv2.VideoCapture(str(path)).read()
    assert ok and upright.shape == images[0].shape  # OpenCV turns it: the test clip is what phones write
    info = probe(path)
    assert (info.width, info.height) == (640, 480)
    frames = list(read_frames(path, info=info))
    assert np.array_equal(frames[0].image, upright)
    assert np.array_equal(frame_at(path, 3, info=info), frames[3].image)


def test_a_file_that_states_no_duration_has_its_frames_counted(tmp_path):
    """An MKV written live states neither a frame count nor a duration: its frames are counted (it read
    as 1 frame, so the dashboard showed 100 % from the first frame and Ray planned one segment)."""
    path = tmp_path / "live.mkv"
    with av.open(str(path), "w", format="matroska", options={"live": "1"}) as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            image = np.full((48, 64, 3), 8 * i, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())
    info = probe(path)
    assert info.duration is None  # the case at hand
    assert info.n_frames == sum(1 for _ in read_frames(path, info=info)) == 30


def test_frame_at_skips_damaged_packets_as_read_frames_does(tmp_path):
    """Damaged sectors in the middle of an MP4: read_frames skips the bad packets; frame_at, which seeks,
    skips them too instead of failing with FFmpeg's own error (thumbnails read "unavailable")."""
    source = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 50_000] = np.random.default_rng(0).bytes(50_000)
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    info = probe(path)
    status = DecodeStatus()
    frames = list(read_frames(path, info=info, status=status))
    assert status.decode_errors > 0  # the case at hand
    for frame in frames:
        image = frame_at(path, frame.index, frame.timestamp, info=info)
        assert image.shape == frame.image.shape
