"""Background processing in the server process: real detector on real footage while pages query the same database."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.jobs import new_job_manager, upload_request
from dashboard.uploads import store_upload
from pipeline.db import connect
from pipeline.db.shoppers import save_calibration
from pipeline.jobs import DONE, FAILED, LOADING, SKIPPED, JobManager
from pipeline.track_video import TrackSettings, load_components
from tests.conftest import require_shared
from tests.dashboard.dashboard_testkit import APP, query

FAST = TrackSettings(imgsz=320, stride=2, embedder="hist")


@pytest.fixture
def campus_upload(campus_db, data_dir):
    video = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    return store_upload(io.BytesIO(video.read_bytes()), video.name, data_dir / "uploads")


def test_processing_runs_while_pages_query_and_refreshes_analytics(campus_db, campus_upload, monkeypatch):
    from dashboard.uploads import KEEP_ENV

    monkeypatch.delenv(KEEP_ENV, raising=False)  # the default: uploads are deleted once processed
    manager = new_job_manager(on_finished=data.bump)
    config = data.store_config(campus_db)
    version_before = data.version(campus_db)
    # A fallback calibration left by earlier, smaller footage: new footage must refit it, as `process` does.
    stale = {"threshold": None, "source": "fixed", "target_false_join": config.reid.target_false_join,
             "n_same": 0, "n_diff": 0, "est_false_join": None, "est_join": None, "note": "earlier footage"}  # fmt: skip
    conn = connect(campus_db)
    try:
        save_calibration(conn, "hist", stale)
    finally:
        conn.close()
    job = manager.submit(
        data.connection(campus_db),
        campus_db,
        config,
        FAST,
        [upload_request(campus_upload, "campus", datetime(2026, 11, 20, 10))],
    )
    renders_while_active = 0
    at = AppTest.from_file(APP, default_timeout=60)
    while manager.active(campus_db):
        renders_while_active += 1
        at.run()  # page queries while the worker writes: must never fail or hit a lock
        assert not at.exception, at.exception
        at.switch_page("dashboard/pages/footage.py")
    assert manager.wait(timeout=300)
    assert job.status == DONE, job.error
    task = job.tasks[0]
    assert task.status == DONE and task.frames_done == campus_upload.info.n_frames and task.fraction == 1.0
    assert renders_while_active >= 1
    assert data.version(campus_db) > version_before  # cached queries are invalidated
    (status, frames_done, sha) = query(campus_db, "SELECT status, frames_done, sha256 FROM videos")[0]
    assert (status, frames_done, sha) == ("done", campus_upload.info.n_frames, campus_upload.sha256)
    assert data.processed_video_with_hash(campus_db, campus_upload.sha256)["camera"] == "campus"
    (shoppers, points) = query(campus_db, "SELECT shoppers, points FROM analysis_summary")[0]
    assert shoppers > 0 and points > 0
    (pairs, note) = query(
        campus_db, "SELECT n_same + n_diff, note FROM reid_calibration WHERE embedder = 'hist'"
    )[0]
    assert pairs > 0 and note != "earlier footage"  # refitted on the new footage
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert next(m.value for m in at.metric if m.label == "Visitors") == f"{shoppers:,}"
    # Retention: the upload is gone, but the camera keeps one blurred still to draw zones on.
    from dashboard import evidence

    assert not campus_upload.path.exists()
    still = evidence.decode_still(data.camera_still(campus_db, "campus"))
    info = campus_upload.info
    assert still is not None and still.shape == (info.height, info.width, 3)
    background = evidence.camera_background(campus_db, "campus")
    assert background is not None and background.shape == still.shape

    again = manager.submit(
        data.connection(campus_db),
        campus_db,
        config,
        FAST,
        [upload_request(campus_upload, "campus", datetime(2026, 11, 20, 10))],
    )
    assert manager.wait(timeout=60)
    assert again.tasks[0].status == SKIPPED  # same bytes: not processed twice
    assert query(campus_db, "SELECT count(*) FROM videos") == [(1,)]


def test_submit_validates_cameras(campus_db, campus_upload):
    manager = JobManager(load_components)
    with pytest.raises(ValueError, match="unknown camera 'nope'"):
        manager.submit(
            data.connection(campus_db),
            campus_db,
            data.store_config(campus_db),
            FAST,
            [upload_request(campus_upload, "nope", datetime(2026, 11, 20))],
        )


def test_a_job_without_videos_only_rederives(campus_db):
    """ "Re-analyse": no videos, so no models are loaded; only the chain's tail runs, on the worker's cursor."""
    derived = []

    def no_models(settings):
        raise AssertionError("a job without videos must not load models")

    manager = JobManager(
        no_models, derive=lambda cur, config, calibrate: derived.append((config.name, calibrate))
    )
    job = manager.submit(data.connection(campus_db), campus_db, data.store_config(campus_db))
    assert manager.wait(timeout=60)
    assert job.status == DONE, job.error
    assert derived == [(data.store_config(campus_db).name, None)]  # no new footage: no refit


@pytest.mark.slow
def test_footage_processed_into_the_demo_store(demo_db, data_dir):
    """The demo's simulated shoppers take ids from the database sequence: real footage processed into the
    demo database later gets fresh ids (it failed with a duplicate shopper id key)."""
    from dashboard import setup

    video = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    upload = store_upload(io.BytesIO(video.read_bytes()), video.name, data_dir / "uploads")
    start = datetime(2026, 11, 20, 10)
    config = setup.upsert_camera(data.store_config(demo_db), "campus", start, None, data_dir)
    data.save_store_config(demo_db, config)
    (simulated,) = query(demo_db, "SELECT count(*) FROM shoppers")[0]
    while_loading: list[str] = []

    def components(settings):  # the real detector; records what the page shows while it loads
        while_loading.extend(t.status for j in manager.jobs() for t in j.tasks)
        return load_components(settings)

    manager = JobManager(components, on_finished=data.bump)
    job = manager.submit(
        data.connection(demo_db), demo_db, config, FAST, [upload_request(upload, "campus", start)]
    )
    assert manager.wait(timeout=300)
    assert job.status == DONE, job.error
    assert while_loading == [LOADING]  # "loading the detector", not "processing 0/71"
    (status,) = query(demo_db, "SELECT status FROM videos WHERE camera = 'campus'")[0]
    assert status == "done"
    (real,) = query(demo_db, "SELECT count(DISTINCT shopper_id) FROM trajectory WHERE camera = 'campus'")[0]
    assert real > 0
    (total,) = query(demo_db, "SELECT count(*) FROM shoppers")[0]
    assert total >= simulated + real - 1  # the simulated store keeps its shoppers


@pytest.mark.slow
def test_failed_job_is_logged_and_shown_as_failed(campus_db, campus_upload, caplog):
    """A failed video goes to the server log and reads "failed" on the Footage page, not a full progress bar;
    the videos table speaks in words and shows the file name without the upload's hash prefix."""
    import json
    import logging

    from dashboard import ui

    campus_upload.path.write_bytes(b"\x00" * 4096)  # the stored file was damaged after upload
    manager = ui.job_manager()
    with caplog.at_level(logging.ERROR, logger="pipeline.jobs"):
        job = manager.submit(
            data.connection(campus_db), campus_db, data.store_config(campus_db), FAST,
            [upload_request(campus_upload, "campus", datetime(2026, 11, 20, 10))],
        )  # fmt: skip
        assert manager.wait(timeout=300)
    assert job.status == FAILED and job.tasks[0].status == FAILED
    assert any(r.name == "pipeline.jobs" and "failed" in r.getMessage() for r in caplog.records)

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("dashboard/pages/footage.py").run()
    assert not at.exception, at.exception
    assert any("TUD-Campus.mp4 → campus: failed" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.get("progress")
    (table,) = at.dataframe
    assert list(table.value["file"]) == ["TUD-Campus.mp4"]
    labels = [c.get("label") for c in json.loads(table.proto.columns).values()]
    assert {"Camera", "File", "Status", "Problem"} <= set(labels)
    assert "video_id" not in table.value.columns
