"""DuckDB store on real files: migrations, processing real footage, interrupted runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.db import SCHEMA_VERSION, SchemaError, connect
from pipeline.jobs import process_store
from pipeline.reid.store import run_reid
from pipeline.track_video import TrackSettings, load_components
from tests.conftest import REPO, require_shared

SETTINGS = TrackSettings(imgsz=320, conf=0.1, embedder="hist", stride=3)
H = [[0.01, 0, 0], [0, 0.02, 0], [0, 0, 1]]


def test_new_database_is_migrated_once(tmp_path):
    path = tmp_path / "s.duckdb"
    conn = connect(path)
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    conn = connect(path)
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    ro = connect(path, read_only=True)
    assert ro.execute("SELECT count(*) FROM videos").fetchone()[0] == 0
    ro.close()


def test_refuses_newer_schema(tmp_path):
    path = tmp_path / "future.duckdb"
    connect(path).close()
    raw = duckdb.connect(str(path))
    raw.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION + 7])
    raw.close()
    with pytest.raises(SchemaError, match=f"version {SCHEMA_VERSION + 7} is newer"):
        connect(path)
    # Read-only (the dashboard's reads): the same advice, not "open it read-write to migrate it".
    with pytest.raises(SchemaError, match=f"version {SCHEMA_VERSION + 7}, newer .* upgrade Shopper ReID"):
        connect(path, read_only=True)


@pytest.mark.parametrize(
    ("content", "error"), [(b"not a database" * 100, SchemaError), (None, FileNotFoundError)]
)
def test_bad_database_files(tmp_path, content, error):
    path = tmp_path / "x.duckdb"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error):
        connect(path, read_only=True)


@pytest.fixture(scope="module")
def components():
    return load_components(SETTINGS)


@pytest.fixture
def store(tmp_path, mot15):
    video = mot15 / "TUD-Campus" / "TUD-Campus.mp4"
    path = tmp_path / "store.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            name: Test
            cameras:
              - name: campus
                video: {video}
                start_time: 2026-11-20T09:00:00
                homography: {H}
            """
        )
    )
    return path


def table_rows(conn, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * EXCLUDE (video_id) FROM {table} ORDER BY ALL").fetchall()


def check_consistent(conn) -> None:
    """Only whole batches: every stored frame is below frames_done, finished videos are complete."""
    for video_id, status, frames_done in conn.execute(
        "SELECT video_id, status, frames_done FROM videos"
    ).fetchall():
        max_frame = conn.execute(
            "SELECT max(frame) FROM track_points WHERE video_id = ?", [video_id]
        ).fetchone()[0]
        assert max_frame is None or max_frame < frames_done
        n_tracklets = conn.execute(
            "SELECT count(*) FROM tracklets WHERE video_id = ?", [video_id]
        ).fetchone()[0]
        assert (n_tracklets > 0) == (status == "done")
    dupes = conn.execute(
        "SELECT count(*) FROM (SELECT video_id, frame, track_id FROM track_points GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0


def test_process_writes_consistent_tables(tmp_path, store, components):
    conn = connect(tmp_path / "s.duckdb")
    outcome = process_store(load_config(store), conn, SETTINGS, components, progress=False, batch_frames=5)
    assert outcome[0].status == "processed" and outcome[0].tracks > 0
    check_consistent(conn)
    assert conn.execute("SELECT status FROM videos").fetchone()[0] == "done"
    n_points = conn.execute("SELECT count(*) FROM track_points").fetchone()[0]
    assert n_points > 50
    # Foot point through the homography.
    u, v, fx, fy = conn.execute(
        "SELECT foot_u, foot_v, floor_x, floor_y FROM track_points LIMIT 1"
    ).fetchone()
    assert (fx, fy) == pytest.approx((0.01 * u, 0.02 * v), rel=1e-4)
    # One tracklet (and shopper) per local track, one trajectory row per point, all in floor space.
    n_tracks = conn.execute("SELECT count(DISTINCT track_id) FROM track_points").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM tracklets").fetchone()[0] == n_tracks
    assert conn.execute("SELECT count(*) FROM shoppers").fetchone()[0] == n_tracks
    assert conn.execute("SELECT count(*), min(space), max(space) FROM trajectory").fetchone() == (
        n_points,
        "floor",
        "floor",
    )
    emb = conn.execute("SELECT embedding FROM tracklets LIMIT 1").fetchone()[0]
    assert np.linalg.norm(emb) == pytest.approx(1.0, abs=1e-3)
    assert conn.execute("SELECT yaml FROM store_config").fetchone()[0].startswith("name: Test")
    # Same file, same settings: skipped, nothing duplicated.
    again = process_store(load_config(store), conn, SETTINGS, components, progress=False)
    assert again[0].status == "skipped"
    assert conn.execute("SELECT count(*) FROM track_points").fetchone()[0] == n_points
    # A database written before `reid_precision` existed: the histogram's video is not tracked again.
    older = {k: v for k, v in SETTINGS.as_dict().items() if k != "reid_precision"}
    conn.execute("UPDATE videos SET settings = ?", [json.dumps(older)])
    assert (
        process_store(load_config(store), conn, SETTINGS, components, progress=False)[0].status == "skipped"
    )
    # Other settings still count.
    changed = replace(SETTINGS, conf=0.2)
    assert (
        process_store(load_config(store), conn, changed, components, progress=False)[0].status == "processed"
    )
    conn.close()


def test_ctrl_c_keeps_whole_batches_and_rerun_restarts_cleanly(tmp_path, store, components):
    clean = connect(tmp_path / "clean.duckdb")
    process_store(load_config(store), clean, SETTINGS, components, progress=False, batch_frames=5)

    def interrupt(camera, done, total):
        if done >= 20:
            raise KeyboardInterrupt

    conn = connect(tmp_path / "s.duckdb")
    with pytest.raises(KeyboardInterrupt):
        process_store(
            load_config(store),
            conn,
            SETTINGS,
            components,
            progress=False,
            on_progress=interrupt,
            batch_frames=5,
        )
    status, frames_done, error = conn.execute("SELECT status, frames_done, error FROM videos").fetchone()
    assert (status, error) == ("failed", "interrupted") and 0 < frames_done < 71
    check_consistent(conn)
    assert conn.execute("SELECT count(*) FROM track_points").fetchone()[0] > 0

    process_store(load_config(store), conn, SETTINGS, components, progress=False, batch_frames=5)
    check_consistent(conn)
    assert conn.execute("SELECT status FROM videos").fetchone()[0] == "done"
    for table in ("track_points", "tracklets"):
        assert table_rows(conn, table) == table_rows(clean, table)
    conn.close()
    clean.close()


@pytest.mark.slow
def test_killed_process_leaves_no_half_batch(tmp_path, store):
    require_shared("data", "mot15")
    db_path = tmp_path / "s.duckdb"
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "process",
        str(store),
        "--db",
        str(db_path),
        "--imgsz",
        "320",
        "--embedder",
        "hist",
        "--batch-frames",
        "3",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # Kill once the video row exists and some batches are committed (the WAL grows), or after 25 s.
    deadline = time.time() + 25
    wal = Path(str(db_path) + ".wal")
    while time.time() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 40_000:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "process finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = connect(db_path)
    check_consistent(conn)
    assert conn.execute("SELECT status FROM videos").fetchone()[0] == "processing"
    conn.close()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    conn = connect(db_path)
    check_consistent(conn)
    assert conn.execute("SELECT status FROM videos").fetchone()[0] == "done"
    conn.close()


@pytest.mark.slow
def test_parallel_workers_write_the_same_rows_as_one_process(tmp_path, mot15, components):
    video = mot15 / "TUD-Campus" / "TUD-Campus.mp4"
    path = tmp_path / "two.yaml"
    cams = "".join(
        f"  - {{name: cam{i}, video: {video}, start_time: '2026-11-20T09:0{i}:00', homography: {H}}}\n"
        for i in (1, 2)
    )
    path.write_text(f"name: Two\ncameras:\n{cams}")
    config = load_config(path)
    one = connect(tmp_path / "one.duckdb")
    process_store(config, one, SETTINGS, components, progress=False, batch_frames=5)
    two = connect(tmp_path / "two.duckdb")
    seen = []
    outcomes = process_store(
        config,
        two,
        SETTINGS,
        components,
        progress=False,
        batch_frames=5,
        workers=2,
        on_progress=lambda cam, done, total: seen.append(cam),
    )
    assert [o.status for o in outcomes] == ["processed", "processed"]
    assert set(seen) == {"cam1", "cam2"}
    check_consistent(two)
    for table in ("track_points", "tracklets"):
        assert table_rows(two, table) == table_rows(one, table)
    one.close()
    two.close()


def test_extensions_never_installed_or_loaded(tmp_path):
    conn = connect(tmp_path / "s.duckdb")
    settings = conn.execute(
        "SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')"
    ).fetchone()
    conn.close()
    assert settings == (False, False)


def _sqlite(path):
    import sqlite3

    lite = sqlite3.connect(path)
    lite.execute("CREATE TABLE videos (x)")
    lite.commit()
    lite.close()


def _foreign_duckdb(path):
    raw = duckdb.connect(str(path))
    raw.execute("CREATE TABLE videos (x INTEGER)")
    raw.execute("INSERT INTO videos VALUES (1)")
    raw.close()


def _foreign_with_schema_version(path):
    """Another application's database that happens to keep a table called schema_version."""
    raw = duckdb.connect(str(path))
    raw.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMP)")
    raw.execute("INSERT INTO schema_version VALUES (2, now())")
    raw.execute("CREATE TABLE orders (id INTEGER)")
    raw.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_sqlite, "is a SQLite database, not a DuckDB one"),
        (_foreign_duckdb, "DuckDB database of another application \\(tables: videos\\)"),
        (
            _foreign_with_schema_version,
            "DuckDB database of another application \\(tables: orders, schema_version\\)",
        ),
        (lambda p: p.write_bytes(b"plain text, not a database\n" * 10), "is not a DuckDB database file"),
        (lambda p: p.mkdir(), "is a directory"),
    ],
)
@pytest.mark.parametrize("read_only", [False, True])
def test_foreign_files_refused_and_left_alone(tmp_path, make, message, read_only):
    path = tmp_path / "store.duckdb"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(SchemaError, match=message):
        connect(path, read_only=read_only)
    assert (path.read_bytes() if path.is_file() else None) == before


def test_sqlite_file_behind_the_header_check_makes_no_download(tmp_path):
    from pipeline.db.connection import NO_EXTENSIONS

    path = tmp_path / "s.duckdb"
    _sqlite(path)
    # What DuckDB itself does with our settings: it looks for the extension locally and stops.
    with pytest.raises(duckdb.Error, match="not found") as info:
        duckdb.connect(str(path), config=NO_EXTENSIONS)
    assert "http" not in str(info.value).lower()


def counts(conn) -> dict[str, int]:
    tables = ("track_points", "tracklets", "tracklet_chunks", "tracklet_parts", "trajectory", "shoppers")
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def identities(conn) -> list[tuple]:
    """(track, frame range, shopper, staff flag) of every track and split part."""
    return conn.execute(
        """
        SELECT t.track_id, coalesce(q.first_frame, t.first_frame), coalesce(q.shopper_id, t.shopper_id),
               s.is_staff, s.staff_source
        FROM tracklets t LEFT JOIN tracklet_parts q USING (video_id, track_id)
        JOIN shoppers s ON s.shopper_id = coalesce(q.shopper_id, t.shopper_id)
        ORDER BY ALL
        """
    ).fetchall()


def test_reprocessing_keeps_shopper_ids_and_staff_flags(tmp_path, store, components):
    conn = connect(tmp_path / "s.duckdb")
    process_store(load_config(store), conn, SETTINGS, components, progress=False, batch_frames=5)
    first_id = conn.execute("SELECT min(shopper_id) FROM shoppers").fetchone()[0]
    conn.execute(
        "UPDATE shoppers SET is_staff = true, staff_source = 'manual' WHERE shopper_id = ?", [first_id]
    )
    before, sizes = identities(conn), counts(conn)
    assert len(before) > 3

    # Interrupted after its first batch (old rows replaced), then finished: the ids come back all the same.
    def interrupt(camera, done, total):
        if done >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        process_store(
            load_config(store),
            conn,
            SETTINGS,
            components,
            force=True,
            progress=False,
            on_progress=interrupt,
            batch_frames=5,
        )
    assert conn.execute("SELECT status FROM videos").fetchone()[0] == "failed"
    run_reid(conn)  # identities rebuilt meanwhile (`reid`, a dashboard re-analysis): the mark must survive it
    process_store(load_config(store), conn, SETTINGS, components, progress=False, batch_frames=5)
    assert identities(conn) == before and counts(conn) == sizes
    assert conn.execute("SELECT count(*) FROM replaced_tracklets").fetchone()[0] == 0
    process_store(load_config(store), conn, SETTINGS, components, force=True, progress=False)
    assert identities(conn) == before and counts(conn) == sizes
    conn.close()


def test_failure_before_the_first_batch_keeps_previous_results(tmp_path, store, components):
    from pipeline.db import tracks as db
    from pipeline.process import VideoTask, check_videos, process_video

    config = load_config(store)
    conn = connect(tmp_path / "s.duckdb")
    process_store(config, conn, SETTINGS, components, progress=False, batch_frames=5)
    sizes, before = counts(conn), identities(conn)
    info = check_videos(config)["campus"]
    video_id = db.begin_video(
        conn,
        camera="campus",
        path=str(info.path),
        sha256="other",
        fps=info.fps,
        n_frames=info.n_frames,
        start_time=config.cameras[0].start_time,
        run_id=1,
        settings={"changed": True},
    )

    def fail(frame):
        raise RuntimeError("decoder fell over")

    with pytest.raises(RuntimeError):
        process_video(
            conn, VideoTask(video_id, config.cameras[0], info, SETTINGS, 5, False), components, fail
        )
    db.mark_failed(conn, video_id, "decoder fell over")
    assert counts(conn) == sizes and identities(conn) == before
    status, sha, error = conn.execute("SELECT status, sha256, error FROM videos").fetchone()
    assert status == "done" and sha != "other"
    assert error == "re-processing failed, previous results kept: decoder fell over"
    check_consistent(conn)
    conn.close()


def test_reprocessing_keeps_cross_camera_shopper_ids(tmp_path, mot15, components):
    # Two cameras on the same footage, joined by appearance: shoppers span both cameras, so when one
    # camera's rows are replaced its shoppers live on through the other's tracks.
    video = mot15 / "TUD-Campus" / "TUD-Campus.mp4"
    path = tmp_path / "two.yaml"
    cams = "".join(
        f"  - {{name: cam{i}, video: {video}, start_time: '2026-11-20T09:0{i}:00'}}\n" for i in (1, 2)
    )
    path.write_text(f"name: Two\ncameras:\n{cams}")
    conn = connect(tmp_path / "s.duckdb")
    process_store(load_config(path), conn, SETTINGS, components, progress=False, reid_mode="appearance")
    shared = conn.execute(
        "SELECT count(*) FROM (SELECT shopper_id FROM tracklets GROUP BY 1 HAVING count(DISTINCT camera) = 2)"
    ).fetchone()[0]
    assert shared > 0
    before, sizes = (
        sorted(
            map(
                tuple,
                conn.execute("SELECT camera, track_id, first_frame, shopper_id FROM tracklets").fetchall(),
            )
        ),
        counts(conn),
    )
    process_store(
        load_config(path), conn, SETTINGS, components, force=True, progress=False, reid_mode="appearance"
    )
    after = sorted(
        map(tuple, conn.execute("SELECT camera, track_id, first_frame, shopper_id FROM tracklets").fetchall())
    )
    assert after == before and counts(conn) == sizes
    conn.close()
