"""Static tracklets (a mannequin) are stored and marked, but are no shoppers: no shopper id, trajectory,
shopper row or visit, before and after cross-camera identity; re-processing keeps it that way."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from pipeline.config import CameraConfig
from pipeline.db import connect
from pipeline.db import shoppers as sdb
from pipeline.db import tracks as db
from pipeline.process import frame_rows
from pipeline.reid.settings import ReidConfig
from pipeline.reid.store import run_reid
from pipeline.track_video import TrackedVideoFrame
from pipeline.types import Detections
from tests.db.db_testkit import begin_virtual_video

START = datetime(2026, 11, 20, 9, 0, 0)
FPS = 5.0
N_FRAMES = 100
CAM = CameraConfig("front", None, START)
MANNEQUIN = np.array([300, 80, 316, 130], np.float32)  # still for the whole video
STANDER = np.array([100, 100, 120, 160], np.float32)  # walks in over 10 frames, then stands still


def boxes(track_id: int, frame: int) -> np.ndarray | None:
    if track_id == 1:
        return MANNEQUIN
    if track_id == 2:  # a shopper who walks in and then stands still to the end
        return STANDER + np.float32(max(0, 10 - frame) * 6) * np.array([1, 0, 1, 0], np.float32)
    if track_id == 3 and 20 <= frame < 60:  # a shopper walking past
        return np.array([frame * 5, 150, frame * 5 + 20, 210], np.float32)
    return None


def add_video(conn, run_id: int, path: str = "/virtual/front.mp4") -> int:
    video_id = begin_virtual_video(
        conn, CAM, fps=FPS, n_frames=N_FRAMES, run_id=run_id, size=(384, 288), path=path
    )
    frames = []
    for frame in range(N_FRAMES):
        here = [(t, b) for t in (1, 2, 3) if (b := boxes(t, frame)) is not None]
        dets = Detections(np.stack([b for _, b in here]), np.full(len(here), 0.8, np.float32))
        frames.append(
            TrackedVideoFrame(frame, frame / FPS, dets.with_track_id(np.array([t for t, _ in here])))
        )
    db.write_batch(conn, video_id, frame_rows(video_id, CAM, frames), N_FRAMES)
    db.finish_video(conn, video_id, None, {}, N_FRAMES)
    return video_id


@pytest.fixture
def conn(tmp_path):
    conn = connect(tmp_path / "store.duckdb")
    add_video(conn, db.start_run(conn, "Test", None, {}))
    yield conn
    conn.close()


def check_no_static_shopper(conn) -> None:
    rows = conn.execute("SELECT track_id, is_static, shopper_id FROM tracklets ORDER BY track_id").fetchall()
    assert [(t, s) for t, s, _ in rows] == [(1, True), (2, False), (3, False)]
    shopper = {t: sid for t, _, sid in rows}
    assert shopper[1] is None and shopper[2] is not None and shopper[3] is not None
    assert conn.execute("SELECT count(*) FROM trajectory WHERE shopper_id IS NULL").fetchone()[0] == 0
    assert {r[0] for r in conn.execute("SELECT DISTINCT shopper_id FROM trajectory").fetchall()} == {
        shopper[2],
        shopper[3],
    }
    assert {r[0] for r in conn.execute("SELECT shopper_id FROM shoppers").fetchall()} == {
        shopper[2],
        shopper[3],
    }
    assert (
        conn.execute("SELECT count(*) FROM track_points WHERE track_id = 1").fetchone()[0] == N_FRAMES
    )  # kept


def test_mannequin_is_marked_static_and_is_no_shopper(conn):
    # Finishing a video writes tracklets only: shoppers and trajectory are written once, by re-ID.
    assert conn.execute("SELECT count(*) FROM trajectory").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM shoppers").fetchone()[0] == 0
    run_reid(conn, ReidConfig(), mode="independent")
    check_no_static_shopper(conn)
    assert sorted(sdb.done_tracklets(conn)["track_id"]) == [2, 3]


@pytest.mark.parametrize("mode", ["independent", "full"])
def test_cross_camera_identity_leaves_static_tracklets_out(conn, mode):
    run_reid(conn, ReidConfig(), mode=mode)
    check_no_static_shopper(conn)


def test_reprocessing_keeps_the_mannequin_out(conn):
    run_reid(conn, ReidConfig(), mode="full")
    add_video(conn, db.start_run(conn, "Test", None, {}))  # same camera and path: replaces the video's rows
    run_reid(conn, ReidConfig(), mode="full")
    check_no_static_shopper(conn)
