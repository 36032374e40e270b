"""``process --executor ray`` on a real local Ray (2 CPUs) with real footage, the real detector and DuckDB.

Kept short for the 2-core test machine: TUD-Campus (71 frames) at stride 3 and a small input size.
"""

from __future__ import annotations

import logging
import os
import signal
import textwrap
from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.config import CameraConfig, load_config
from pipeline.db import connect
from pipeline.distributed.segments import segmented_messages, segments_for
from pipeline.errors import UserError
from pipeline.jobs import process_store
from pipeline.process import VideoTask
from pipeline.track_video import TrackSettings, load_components
from pipeline.video import probe
from zones.analyse import analyse
from zones.export import write_reports

ray = pytest.importorskip("ray")
from pipeline.distributed.ray_executor import RayExecutor  # noqa: E402 - needs ray

SETTINGS = TrackSettings(imgsz=320, conf=0.1, embedder="hist", stride=3)
H = [[0.01, 0, 0], [0, 0.02, 0], [0, 0, 1]]  # TUD-Campus 640 x 480 px -> 6.4 x 9.6 m


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def components():
    return load_components(SETTINGS)


@pytest.fixture
def store(tmp_path, mot15):
    """Two cameras on TUD-Campus, two zones splitting the floor (visits, paths and reports are not empty)."""
    video = mot15 / "TUD-Campus" / "TUD-Campus.mp4"
    cams = "".join(
        f"  - {{name: cam{i}, video: {video}, start_time: '2026-11-20T09:0{i}:00', homography: {H}}}\n"
        for i in (1, 2)
    )
    zones = textwrap.dedent(
        """
        zones:
          - {name: left, kind: section, polygon: [[0, 0], [3.2, 0], [3.2, 10], [0, 10]]}
          - {name: right, kind: section, polygon: [[3.2, 0], [7, 0], [7, 10], [3.2, 10]]}
        analytics: {min_dwell_s: 0}
        reid: {match_threshold: 0.3}  # fixed: calibrating one on two copies of a 3 s clip is not the point here
        """
    )
    path = tmp_path / "store.yaml"
    path.write_text(f"name: Campus\ncameras:\n{cams}{zones}")
    return path


def points(conn, camera: str) -> list[tuple]:
    rows = conn.execute(
        "SELECT frame, track_id, x1, y1, x2, y2 FROM track_points WHERE camera = ?", [camera]
    ).fetchall()
    return sorted((frame, tid, *(round(v, 2) for v in box)) for frame, tid, *box in rows)


def check_whole(conn) -> None:
    """Only whole batches, nothing twice (see tests/db/test_store_db.py)."""
    for video_id, frames_done in conn.execute("SELECT video_id, frames_done FROM videos").fetchall():
        top = conn.execute("SELECT max(frame) FROM track_points WHERE video_id = ?", [video_id]).fetchone()[0]
        assert top is None or top < frames_done
    dupes = conn.execute(
        "SELECT count(*) FROM (SELECT video_id, frame, track_id FROM track_points GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0


def run_cli(*args: str) -> int:
    """``python -m pipeline ARGS`` in this process (exit code); drops the log handlers it adds."""
    logger = logging.getLogger("pipeline")
    saved = list(logger.handlers)
    try:
        return main([str(a) for a in args])
    finally:
        for handler in [h for h in logger.handlers if h not in saved]:
            logger.removeHandler(handler)


def test_ray_store_gives_the_same_shoppers_visits_and_reports(tmp_path, store, components, local_ray):
    conn = connect(tmp_path / "local.duckdb")
    outcomes = process_store(load_config(store), conn, SETTINGS, components, progress=False, batch_frames=5)
    assert [o.status for o in outcomes] == ["processed", "processed"]
    conn.close()
    # The same store through the command line on Ray (this process already joined the local Ray).
    options = [
        "--imgsz",
        "320",
        "--conf",
        "0.1",
        "--embedder",
        "hist",
        "--stride",
        "3",
        "--batch-frames",
        "5",
    ]
    assert run_cli("process", store, "--db", tmp_path / "ray.duckdb", "--executor", "ray", *options) == 0
    assert ray.is_initialized()  # not stopped by the command: it did not start it
    results = {}
    for name in ("local", "ray"):
        conn = connect(tmp_path / f"{name}.duckdb")
        check_whole(conn)
        analyse(conn)
        reports = write_reports(conn, tmp_path / name)
        results[name] = {
            "tables": {
                table: conn.execute(f"SELECT * EXCLUDE (video_id) FROM {table} ORDER BY ALL").fetchall()
                for table in ("track_points", "tracklets")
            }
            | {"shoppers": conn.execute("SELECT shopper_id, is_staff FROM shoppers ORDER BY ALL").fetchall()},
            "reports": {p.name: p.read_text() for p in reports},
        }
        conn.close()
    local, distributed = results["local"], results["ray"]
    assert len(local["tables"]["tracklets"]) > 0
    assert distributed["tables"] == local["tables"]
    assert "right" in local["reports"]["visits.csv"]  # visits exist, so the comparison means something
    assert distributed["reports"] == local["reports"]


def test_killed_worker_is_retried_and_a_failing_video_fails_alone(tmp_path, store, components, local_ray):
    # Each camera in 2 segments. cam1's first segment loses its worker once (at its first batch): the retry
    # must give exactly the rows of an undisturbed run. cam2's first segment loses its worker on every
    # attempt: cam2 is marked failed with nothing written, and cam1 still finishes.
    config = load_config(store)
    kills: list[tuple[str, int]] = []

    def kill(label: str, attempt: int, pid: int, frames_done: int) -> None:
        if ((label == "cam1#0" and attempt == 0) or label == "cam2#0") and (label, attempt) not in kills:
            kills.append((label, attempt))
            os.kill(pid, signal.SIGKILL)

    executor = RayExecutor(n_segments=2, overlap_seconds=1.0, max_retries=1, on_batch=kill)
    conn = connect(tmp_path / "s.duckdb")
    outcomes = process_store(
        config, conn, SETTINGS, components, progress=False, batch_frames=2, executor=executor
    )
    assert sorted(kills) == [("cam1#0", 0), ("cam2#0", 0), ("cam2#0", 1)]
    assert [o.status for o in outcomes] == ["processed", "failed"]
    assert "cam2#0: worker lost 2 times" in outcomes[1].warning
    status = dict(conn.execute("SELECT camera, status FROM videos").fetchall())
    assert status == {"cam1": "done", "cam2": "failed"}
    assert conn.execute("SELECT error FROM videos WHERE camera = 'cam2'").fetchone()[0].startswith("cam2#0")
    check_whole(conn)
    assert points(conn, "cam2") == []  # its other segment finished, but a video is written in order
    # Nothing lost, nothing twice: the same rows as the two segments tracked here, undisturbed.
    info = probe(config.cameras[0].video)
    task = VideoTask(
        1, CameraConfig("cam1", info.path, datetime(2026, 11, 20, 9, 1)), info, SETTINGS, 2, False
    )
    expected = pd.concat(
        m.rows
        for m in segmented_messages(
            task, segments_for(info, stride=3, n_segments=2, overlap_seconds=1.0), components
        )
    )
    want = sorted(
        (int(r.frame), int(r.track_id), *(round(float(v), 2) for v in (r.x1, r.y1, r.x2, r.y2)))
        for r in expected.itertuples()
    )
    assert len(want) > 50 and points(conn, "cam1") == want
    assert executor.stitched["cam1"] > 0
    conn.close()


def test_worker_that_cannot_open_the_footage_says_so(tmp_path, mot15, local_ray):
    info = probe(mot15 / "TUD-Campus" / "TUD-Campus.mp4")
    gone = tmp_path / "on-the-driver-only.mp4"
    task = VideoTask(
        1, CameraConfig("cam", gone, datetime(2026, 11, 20)), replace(info, path=gone), SETTINGS, 5, False
    )
    with pytest.raises(
        UserError, match=r"Ray worker on .* cannot open .*on-the-driver-only.mp4 .*shared mount"
    ):
        list(RayExecutor(max_workers=1)([task]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--ray-address", "127.0.0.1:6379"], "--ray-address and --segment-seconds need --executor ray"),
        (["--segment-seconds", "60"], "need --executor ray"),
        (["--executor", "ray", "--workers", "2"], "--workers is for --executor local"),
        (["--executor", "ray", "--segment-seconds", "0"], "segment_seconds must be > 0"),
    ],
)
def test_bad_executor_options_leave_no_database(tmp_path, store, capsys, options, message):
    db = tmp_path / "s.duckdb"
    assert main(["process", str(store), "--db", str(db), *options]) == 2
    assert message in capsys.readouterr().err
    assert not db.exists()


def test_dashboard_job_on_ray_reports_each_task_and_runs_the_whole_chain(tmp_path, store, mot15, local_ray):
    """A job submitted with a Ray address (what the Footage page sends): the video is tracked in segments on
    Ray, each segment's progress is reported while it runs, the database is written here, then identities
    and analytics are rebuilt."""
    from pipeline.hashing import file_sha256
    from pipeline.jobs import DONE, LOCAL_RAY, JobManager, VideoRequest

    config = load_config(store)
    video = mot15 / "TUD-Stadtmitte" / "TUD-Stadtmitte.mp4"  # 7 s: segments of 2 s with 2 s of overlap
    request = VideoRequest(
        "cam1", video, probe(video), file_sha256(video), datetime(2026, 11, 20, 9), video.name
    )
    seen: dict[str, list[float]] = {}

    def no_local_models(settings):
        raise AssertionError("a Ray job must not load models in the server")

    manager = JobManager(no_local_models)
    conn = connect(tmp_path / "dash.duckdb")
    job = manager.submit(conn, str(tmp_path / "dash.duckdb"), config, SETTINGS, [request], LOCAL_RAY, 2.0)
    while manager.active():
        for label, unit in list(job.units.items()):
            seen.setdefault(label, []).append(unit.fraction)
    assert job.status == DONE, job.error
    assert request.status == DONE and request.frames_done == request.info.n_frames
    assert len(job.units) >= 2 and all(u.fraction == 1.0 for u in job.units.values()), job.units
    assert ray.is_initialized()  # the job joined the test's Ray and left it running
    assert conn.execute("SELECT status, frames_done FROM videos").fetchall() == [
        ("done", request.info.n_frames)
    ]
    (shoppers,) = conn.execute("SELECT shoppers FROM analysis_summary").fetchone()
    assert shoppers > 0  # the chain's tail ran: identities, then analytics
    with pytest.raises(ValueError, match="segment_seconds needs a Ray address"):
        manager.submit(conn, "x.duckdb", config, SETTINGS, [request], None, 5.0)
    conn.close()
