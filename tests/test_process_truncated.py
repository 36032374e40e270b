"""A truncated video goes through ``process_store`` and is stored as incomplete, with the decoded count."""

from __future__ import annotations

import textwrap

import cv2
import pytest

from pipeline.config import load_config
from pipeline.db import connect
from pipeline.jobs import process_store
from pipeline.track_video import TrackSettings, load_components
from tests.conftest import require_shared

SETTINGS = TrackSettings(imgsz=320, conf=0.1, embedder="hist", stride=3)


def cut_avi_of_tud_campus(tmp_path) -> tuple:
    """TUD-Campus re-encoded as an MJPG AVI (header says 71 frames), and that file cut to 30 %."""
    source = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    full = tmp_path / "campus.avi"
    cap = cv2.VideoCapture(str(source))
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (640, 480))
    while True:
        ok, image = cap.read()
        if not ok:
            break
        writer.write(image)
    writer.release()
    cap.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.3)])
    return full, cut


@pytest.mark.slow
def test_truncated_video_is_marked_incomplete_not_silently_done(tmp_path):
    _, cut = cut_avi_of_tud_campus(tmp_path)
    config = tmp_path / "store.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            name: Test
            cameras:
              - name: campus
                video: {cut}
                start_time: 2026-11-20T09:00:00
            """
        )
    )
    conn = connect(tmp_path / "s.duckdb")
    progress = []
    outcome = process_store(
        load_config(config),
        conn,
        SETTINGS,
        load_components(SETTINGS),
        progress=False,
        on_progress=lambda camera, done, total: progress.append((done, total)),
    )
    frames_done, n_frames, status, error = conn.execute(
        "SELECT frames_done, n_frames, status, error FROM videos"
    ).fetchone()
    conn.close()
    assert 10 < outcome[0].frames < 30 and outcome[0].frames == frames_done
    assert "truncated" in outcome[0].warning
    assert status == "done" and error.startswith("incomplete: truncated or damaged video")
    assert n_frames < 71  # the stored estimate is not the header's count of frames the file lacks
    assert progress[-1] == (frames_done, frames_done)  # the end of progress is the decoded count
