"""Boxes the tracker interpolated over a detector miss reach the database marked: score 0, no keypoints."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from pipeline.config import CameraConfig
from pipeline.db import connect
from pipeline.db import tracks as db
from pipeline.process import frame_rows
from pipeline.track_video import TrackedVideoFrame
from pipeline.tracking import DeepSortTracker, OfflineTrackRunner
from pipeline.types import N_KEYPOINTS, Detections
from tests.db.db_testkit import begin_virtual_video

FPS = 10.0
CAM = CameraConfig("A", None, datetime(2026, 11, 20, 9, 0, 0), homography=np.diag([0.01, 0.01, 1.0]))


def walker(frame: int) -> Detections:
    u = 100.0 + 5 * frame
    kp = np.ones((1, N_KEYPOINTS, 3), np.float32)
    return Detections(np.array([[u - 20, 200, u + 20, 300]], np.float32), np.array([0.9], np.float32), kp)


def test_interpolated_boxes_are_stored_with_score_zero_and_no_keypoints(tmp_path):
    missed = {6, 7, 8}  # 0.3 s without a box, within the 1 s the runner fills by default
    runner = OfflineTrackRunner(DeepSortTracker())
    done = []
    for k in range(15):
        dets = Detections.empty() if k in missed else walker(k)
        done += runner.update(dets, k / FPS)
    done += runner.finish()
    frames = [TrackedVideoFrame(f.step, f.timestamp, f.detections) for f in done]

    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    video_id = begin_virtual_video(conn, CAM, fps=FPS, n_frames=15, run_id=run_id)
    db.write_batch(conn, video_id, frame_rows(video_id, CAM, frames), 15)
    rows = conn.execute(
        "SELECT frame, track_id, score, keypoints IS NULL, x1 FROM track_points ORDER BY frame"
    ).fetchall()
    conn.close()

    assert [r[0] for r in rows] == list(range(15))  # no hole in the trajectory
    assert {r[1] for r in rows} == {1}
    for frame, _, score, no_keypoints, x1 in rows:
        assert (score == 0.0) is (frame in missed)
        assert no_keypoints is (frame in missed)
        assert x1 == pytest.approx(
            80.0 + 5 * frame, abs=1e-3
        )  # on the straight line between the boxes either side
