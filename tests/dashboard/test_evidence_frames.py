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
