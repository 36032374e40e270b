"""Merging per-camera databases (the many-machines path) on real processed footage."""

from __future__ import annotations

import textwrap

import pytest

from pipeline.config import load_config
from pipeline.db import connect
from pipeline.jobs import process_store
from pipeline.track_video import TrackSettings, load_components
from tests.test_cli import cli

SETTINGS = TrackSettings(imgsz=320, conf=0.1, embedder="hist", stride=3)


@pytest.fixture(scope="module")
def parts(tmp_path_factory, mot15):
    """Two cameras processed into two separate databases, as two machines would."""
    tmp = tmp_path_factory.mktemp("parts")
    components = load_components(SETTINGS)
    out = []
    for i, seq in enumerate(("TUD-Campus", "TUD-Stadtmitte"), start=1):
        cfg = tmp / f"cam{i}.yaml"
        cfg.write_text(
            textwrap.dedent(
                f"""
                name: Merged
                cameras:
                  - {{name: cam{i}, video: '{mot15 / seq / (seq + ".mp4")}', start_time: '2026-11-20T09:00:00',
                      homography: [[0.01, 0, {10 * i}], [0, 0.01, 0], [0, 0, 1]]}}
                """
            )
        )
        conn = connect(tmp / f"cam{i}.duckdb")
        process_store(load_config(cfg), conn, SETTINGS, components, progress=False, reid_mode="independent")
        conn.close()
        out.append(tmp / f"cam{i}.duckdb")
    return out


def counts(path):
    conn = connect(path, read_only=True)
    try:
        out = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in ("videos", "cameras", "track_points", "tracklets", "trajectory")
        }
        # Static tracklets (mannequins; on TUD-Stadtmitte a man standing still all along) have no trajectory.
        out["moving points"] = conn.execute(
            "SELECT count(*) FROM track_points p JOIN tracklets t USING (video_id, track_id) WHERE NOT t.is_static"
        ).fetchone()[0]
        return out, conn.execute(
            "SELECT count(*) FROM tracklets WHERE shopper_id IS NULL AND NOT is_static"
        ).fetchone()[0]
    finally:
        conn.close()


def test_merge_combines_parts_and_is_idempotent(tmp_path, parts):
    expected = {
        k: counts(parts[0])[0][k] + counts(parts[1])[0][k]
        for k in ("videos", "cameras", "track_points", "tracklets")
    }
    store = tmp_path / "store.duckdb"
    result = cli("merge", "--db", str(store), *map(str, parts), "--reid-mode", "full")
    assert result.returncode == 0, result.stderr
    assert "1 video(s) merged" in result.stdout and "analytics recomputed" in result.stdout
    merged, unassigned = counts(store)
    assert {k: merged[k] for k in expected} == expected
    assert merged["trajectory"] == merged["moving points"] > 0 and unassigned == 0
    # Again: the parts' videos replace themselves, nothing is duplicated.
    assert cli("merge", "--db", str(store), *map(str, parts)).returncode == 0
    assert counts(store)[0] == merged


def test_merge_rejects_bad_parts(tmp_path, parts):
    missing = cli("merge", "--db", str(tmp_path / "s.duckdb"), str(tmp_path / "absent.duckdb"))
    assert missing.returncode == 2 and "database not found" in missing.stderr
    itself = cli("merge", "--db", str(parts[0]), str(parts[0]))
    assert itself.returncode == 2 and "into itself" in itself.stderr


def test_merge_refits_the_cross_camera_threshold_on_new_footage(tmp_path, parts):
    """Merged-in footage is new footage: the on-site calibration is fitted again with its pairs, as
    `process` does (it kept the first merge's fit)."""
    from pipeline.db.shoppers import load_calibration

    def pairs(path):
        conn = connect(path, read_only=True)
        try:
            row = load_calibration(conn, "hist").iloc[0]
            return int(row["n_same"]) + int(row["n_diff"])
        finally:
            conn.close()

    store = tmp_path / "store.duckdb"
    assert cli("merge", "--db", str(store), str(parts[0])).returncode == 0
    first = pairs(store)
    assert cli("merge", "--db", str(store), str(parts[1])).returncode == 0
    assert pairs(store) > first


def test_merge_keeps_the_store_cameras_still(tmp_path, parts):
    """The still a camera keeps for drawing zones (set by the dashboard) is not wiped by a part that has none."""
    from pipeline.db import tracks as db

    store = tmp_path / "store.duckdb"
    conn = connect(store)
    db.upsert_camera(conn, "cam1", None, 640, 480)
    conn.execute("UPDATE cameras SET still_jpeg = ? WHERE name = 'cam1'", [b"\xff\xd8 a blurred still"])
    conn.close()
    assert cli("merge", "--db", str(store), str(parts[0])).returncode == 0
    conn = connect(store, read_only=True)
    try:
        (still, homography) = conn.execute(
            "SELECT still_jpeg, homography FROM cameras WHERE name = 'cam1'"
        ).fetchone()
    finally:
        conn.close()
    assert still == b"\xff\xd8 a blurred still"
    assert homography is not None  # the part's calibration comes with it


def test_merging_a_part_again_keeps_its_shoppers_and_their_staff_marks(tmp_path, parts):
    """A part merged again replaces its videos; its shoppers keep their ids (flag reviews are keyed by them)
    and the staff marks made by hand (they were renumbered and the marks lost)."""
    from pipeline.db.shoppers import set_manual_staff

    def shoppers(path):
        conn = connect(path, read_only=True)
        try:
            return conn.execute(
                "SELECT t.camera, t.track_id, t.shopper_id, s.is_staff, s.staff_source FROM tracklets t "
                "JOIN shoppers s USING (shopper_id) ORDER BY ALL"
            ).fetchall()
        finally:
            conn.close()

    store = tmp_path / "store.duckdb"
    assert cli("merge", "--db", str(store), *map(str, parts), "--reid-mode", "independent").returncode == 0
    before = shoppers(store)
    conn = connect(store)
    set_manual_staff(conn, before[0][2], True)
    conn.close()
    marked = shoppers(store)
    assert marked[0][3:] == (True, "manual")
    assert cli("merge", "--db", str(store), *map(str, parts), "--reid-mode", "independent").returncode == 0
    assert shoppers(store) == marked
