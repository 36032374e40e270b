"""``--imgsz auto``: the pure size rule, and the probe on real footage with the real detector."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipeline.autosize import MAX_IMGSZ, MIN_MODEL_HEIGHT, SIZE_STEPS, auto_imgsz, choose_imgsz
from pipeline.track_video import TrackSettings
from tests.conftest import require_shared


@pytest.mark.parametrize(
    ("heights", "long_side", "expected"),
    [
        ([], 640, MAX_IMGSZ),  # nobody seen: no evidence, favour recall
        ([200, 210], 640, MAX_IMGSZ),  # too few people to measure
        ([200, 220, 250, 300], 640, SIZE_STEPS[0]),  # big people: the smallest size is enough
        ([60, 70, 80, 90, 100], 768, 1600),  # 60-100 px people in a 768 px frame need 1600
        ([140, 150, 160], 768, 800),
        ([20, 25, 30, 35], 640, MAX_IMGSZ),  # tiny people: capped
    ],
)
def test_choose_imgsz_table(heights: list[float], long_side: int, expected: int) -> None:
    assert choose_imgsz(heights, long_side).imgsz == expected


def test_choose_imgsz_is_the_smallest_size_reaching_the_height() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        heights = rng.uniform(20, 400, size=rng.integers(3, 30))
        long_side = int(rng.integers(256, 2000))
        choice = choose_imgsz(heights, long_side)
        scale = choice.imgsz / long_side
        assert choice.small_height is not None
        if choice.imgsz < MAX_IMGSZ:
            assert choice.small_height * scale >= MIN_MODEL_HEIGHT
        smaller = [s for s in SIZE_STEPS if s < choice.imgsz]
        if smaller:
            assert choice.small_height * smaller[-1] / long_side < MIN_MODEL_HEIGHT
        assert str(choice.imgsz) in choice.note


def test_choose_imgsz_rejects_bad_frame_size() -> None:
    with pytest.raises(ValueError, match="long_side"):
        choose_imgsz([100, 100, 100], 0)


@pytest.mark.parametrize("bad", [0, 31, 5000, "big", 1.5, True])
def test_track_settings_reject_bad_imgsz(bad: object) -> None:
    with pytest.raises(ValueError, match="imgsz"):
        TrackSettings(imgsz=bad)  # type: ignore[arg-type]


@pytest.mark.slow
def test_probe_picks_larger_size_for_small_people_on_real_footage() -> None:
    """TUD-Campus (people 130-310 px in 640 px) needs a smaller input than a CAVIAR shop camera (35-65 px
    in 384 px); each choice brings the measured small people to the wanted input height or hits the cap."""
    from pipeline.detector import YoloDetector
    from pipeline.video import probe

    campus = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    shop = require_shared("data", "caviar", "OneLeaveShopReenter2front.mpg")
    detector = YoloDetector(imgsz=MAX_IMGSZ, conf=0.1)
    big, small = auto_imgsz(probe(campus), detector), auto_imgsz(probe(shop), detector)
    assert big.imgsz < small.imgsz, (big.note, small.note)
    for choice, info in ((big, probe(campus)), (small, probe(shop))):
        assert choice.n_people >= 3, choice.note
        reached = choice.small_height * choice.imgsz / max(info.width, info.height)
        assert reached >= MIN_MODEL_HEIGHT or choice.imgsz == MAX_IMGSZ, choice.note


def test_chosen_size_is_stored_and_shown_with_its_reason(tmp_path) -> None:
    from datetime import datetime

    from pipeline.db import connect
    from pipeline.db import dashboard as dashboard_sql
    from pipeline.db import tracks as db

    conn = connect(tmp_path / "store.duckdb")
    try:
        run_id = db.start_run(conn, "Test", None, {})
        video_id = db.begin_video(
            conn,
            camera="front",
            path="/v/front.mpg",
            sha256=None,
            fps=25.0,
            n_frames=10,
            start_time=datetime(2026, 1, 5, 9),
            run_id=run_id,
            settings={"imgsz": "auto"},
        )
        choice = choose_imgsz([40, 45, 50, 60], 384)
        db.record_imgsz(conn, video_id, choice.imgsz, choice.note)
        assert conn.execute("SELECT imgsz, imgsz_note FROM videos").fetchone() == (choice.imgsz, choice.note)
        shown = conn.execute(dashboard_sql.VIDEOS_WITH_STATUS).df()["imgsz"].iloc[0]
        assert shown.startswith(str(choice.imgsz)) and "smallest people are 42 px" in shown
    finally:
        conn.close()


def test_a_static_box_counts_once_a_walker_at_every_frame():
    """A small static false person seen in most probe frames must not become the "small people"."""
    from pipeline.autosize import place_heights

    static = [72, 212, 96, 241]  # 29 px, the same place in every frame
    walker = [[0, 100, 60, 340], [80, 100, 140, 340], [160, 102, 220, 342]]  # moves ~80 px between frames
    heights = place_heights([[static, walker[k]] for k in range(3)])
    assert sorted(heights.tolist()) == [29.0, 240.0, 240.0, 240.0]
    assert place_heights([]).shape == (0,)
    assert place_heights([np.zeros((0, 4)), [static]]).tolist() == [29.0]


def test_probe_frames_stay_a_second_apart_after_a_gap_in_the_footage(tmp_path):
    """Motion-triggered recording: nothing between 0.2 s and 5 s. The probe takes one frame per second of
    footage after the gap too, not five frames in a row at 5.0-5.16 s."""
    from fractions import Fraction

    import av

    from pipeline.autosize import PROBE_FRAMES, PROBE_SECONDS, probe_frames
    from pipeline.video import probe, read_frames

    times_ms = [i * 40 for i in range(5)] + [5000 + i * 40 for i in range(200)]
    path = tmp_path / "gap.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        rng = np.random.default_rng(0)
        for t in times_ms:  # noise: every frame decodes to a different image
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), np.uint8), format="bgr24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    decoded = list(read_frames(path))
    picked = [
        next(f.timestamp for f in decoded if np.array_equal(f.image, image))
        for image in probe_frames(probe(path))
    ]
    every = PROBE_SECONDS / PROBE_FRAMES
    assert len(picked) >= 3 and picked[0] < 0.2
    assert all(b - a >= every - 0.2 for a, b in itertools.pairwise(picked)), picked
