"""dashboard.evidence.read_frame gives the frame the pipeline numbered, also where OpenCV's seek is wrong."""

from __future__ import annotations

import numpy as np

from dashboard.evidence import read_frame
from pipeline.video import read_frames
from tests.conftest import require_shared


def test_read_frame_matches_the_pipelines_frame_on_a_caviar_clip():
    path = require_shared("data", "caviar", "OneLeaveShop1front.mpg")
    wanted = {0, 150, 294}
    expected = {f.index: f.image for f in read_frames(path) if f.index in wanted}
    for index in sorted(wanted):
        assert np.array_equal(read_frame(path, index), expected[index]), index
    assert read_frame(path, 295) is None  # past the end
    assert read_frame(path.parent / "missing.mpg", 0) is None


def test_read_frame_finds_the_frame_of_a_variable_frame_rate_file_by_its_time(tmp_path):
    """A camera that dropped a second of frames: index / fps is not the frame's time there, the stored
    t_sec is (flag thumbnails and camera stills read frames this way)."""
    from fractions import Fraction

    import av

    source = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    images = [f.image for f in list(read_frames(source))[:40]]
    path = tmp_path / "gap.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for i, image in enumerate(images):
            if 10 <= i < 35:
                continue  # 1 s without frames
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i * 40, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    frames = list(read_frames(path))
    after_gap = frames[12]  # the third frame after the gap
    assert after_gap.timestamp > 12 / 25 + 0.5
    assert np.array_equal(read_frame(path, after_gap.index, after_gap.timestamp), after_gap.image)
