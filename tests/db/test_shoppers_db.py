"""Global shopper ids in DuckDB: consistent across tables, idempotent, manual staff flags survive."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from pipeline.cli import main
from pipeline.config import CameraConfig
from pipeline.db import connect
from pipeline.db import shoppers as sdb
from pipeline.db import tracks as db
from pipeline.process import frame_rows
from pipeline.reid.settings import EMBEDDER_THRESHOLDS, ReidConfig
from pipeline.reid.store import load_tracklets, run_reid
from pipeline.track_video import TrackedVideoFrame
from pipeline.types import Detections
from tests.db.db_testkit import begin_virtual_video

START = datetime(2026, 11, 20, 9, 0, 0)
FPS = 5.0
CAM_A = CameraConfig("A", None, START, homography=np.diag([0.01, 0.01, 1.0]))
CAM_B = CameraConfig("B", None, START)  # no homography: image-pixel trajectories
LOOK_P, LOOK_Q = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]


def walk(track_id: int, t0: float, t1: float, u0: float, u1: float) -> dict[int, tuple[int, np.ndarray]]:
    """frame -> (track_id, xyxy) of one person walking along the image row v = 300."""
    out = {}
    for frame in range(round(t0 * FPS), round(t1 * FPS) + 1):
        u = u0 + (u1 - u0) * (frame / FPS - t0) / max(t1 - t0, 1e-9)
        out[frame] = (track_id, np.array([u - 20, 200, u + 20, 300], np.float32))
    return out


def add_video(
    conn,
    camera: CameraConfig,
    walks: list[dict],
    looks: dict[int, np.ndarray],
    run_id: int,
    filled: set[tuple[int, int]] = frozenset(),
) -> None:
    """One video of ``camera`` with the ``walks``; ``filled``: (track_id, frame) boxes filled in over a
    detector miss (score 0, as the gap filler writes them)."""
    video_id = begin_virtual_video(conn, camera, fps=FPS, n_frames=50, run_id=run_id)
    frames = []
    for frame in range(50):
        here = [w[frame] for w in walks if frame in w]
        if not here:
            continue
        scores = [0.0 if (t, frame) in filled else 0.9 for t, _ in here]
        dets = Detections(np.stack([b for _, b in here]), np.array(scores, np.float32))
        frames.append(
            TrackedVideoFrame(frame, frame / FPS, dets.with_track_id(np.array([t for t, _ in here])))
        )
    db.write_batch(conn, video_id, frame_rows(video_id, camera, frames), 50)
    db.finish_video(conn, video_id, "omz", looks, 50)


@pytest.fixture
def store_db(tmp_path):
    """P walks through A (0-4 s) then B (5-8 s); Q is in B at the same time as P; L looks like P (cosine
    distance 0.22, within the match threshold and clear of the ambiguity margin) but is in B at the same time as P (a similar coat)."""
    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    add_video(conn, CAM_A, [walk(1, 0, 4, 0, 400)], {1: LOOK_P}, run_id)
    add_video(
        conn,
        CAM_B,
        [walk(1, 5, 8, 50, 350), walk(2, 5, 9, 600, 400), walk(3, 5.5, 8, 100, 300)],
        {1: LOOK_P, 2: LOOK_Q, 3: (LOOK_P + 0.8 * LOOK_Q) / np.linalg.norm(LOOK_P + 0.8 * LOOK_Q)},
        run_id,
    )
    yield conn
    conn.close()


def ids(conn) -> dict[tuple[str, int], int]:
    return {
        (c, t): s for c, t, s in conn.execute("SELECT camera, track_id, shopper_id FROM tracklets").fetchall()
    }


def check_consistent(conn) -> None:
    """Every table names the same global shoppers."""
    tracklet_ids = {r[0] for r in conn.execute("SELECT DISTINCT shopper_id FROM tracklets").fetchall()}
    assert None not in tracklet_ids
    assert {r[0] for r in conn.execute("SELECT shopper_id FROM shoppers").fetchall()} == tracklet_ids
    assert {
        r[0] for r in conn.execute("SELECT DISTINCT shopper_id FROM trajectory").fetchall()
    } == tracklet_ids
    assert {
        r[0] for r in conn.execute("SELECT DISTINCT shopper_id FROM shopper_embeddings").fetchall()
    } <= tracklet_ids
    # Each trajectory row carries its tracklet's shopper; one row per track point.
    # Each frame's trajectory rows carry the shopper ids of that frame's tracklets.
    by_frame = (
        "SELECT video_id, frame, list(shopper_id ORDER BY shopper_id) FROM {} GROUP BY ALL ORDER BY ALL"
    )
    assert (
        conn.execute(by_frame.format("trajectory")).fetchall()
        == conn.execute(by_frame.format("track_points JOIN tracklets USING (video_id, track_id)")).fetchall()
    )
    per_shopper = conn.execute(
        """SELECT t.shopper_id, count(*) FROM track_points p JOIN tracklets t USING (video_id, track_id)
           GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    assert (
        conn.execute("SELECT shopper_id, count(*) FROM trajectory GROUP BY 1 ORDER BY 1").fetchall()
        == per_shopper
    )
    spans = conn.execute(
        """SELECT s.shopper_id FROM shoppers s JOIN tracklets t USING (shopper_id)
           GROUP BY s.shopper_id, s.first_ts, s.last_ts
           HAVING s.first_ts <> min(t.first_ts) OR s.last_ts <> max(t.last_ts)"""
    ).fetchall()
    assert spans == []


def test_a_near_twin_makes_the_join_ambiguous_so_nobody_is_joined(tmp_path):
    """L almost identical to P (distance 0.001) in B while P is: either could be P, so neither is joined
    (a wrong join merges two shoppers' paths; a missed one only splits one)."""
    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    twin = (LOOK_P + 0.05 * LOOK_Q) / np.linalg.norm(LOOK_P + 0.05 * LOOK_Q)
    add_video(conn, CAM_A, [walk(1, 0, 4, 0, 400)], {1: LOOK_P}, run_id)
    add_video(conn, CAM_B, [walk(1, 5, 8, 50, 350), walk(3, 5.5, 8, 100, 300)], {1: LOOK_P, 3: twin}, run_id)
    try:
        run_reid(conn, ReidConfig(), mode="full")
        assert len(set(ids(conn).values())) == 3
        run_reid(conn, ReidConfig(match_margin=0.0), mode="full")  # without the margin the closer one joins
        got = ids(conn)
        assert got[("A", 1)] == got[("B", 1)] != got[("B", 3)]
    finally:
        conn.close()


@pytest.mark.parametrize("filled_in", [True, False])
def test_a_track_that_takes_over_a_coasting_one_is_the_same_shopper(tmp_path, filled_in):
    """Track 1 loses P at 2 s, is filled in until 3.8 s and ends on a box at 4 s; P's new track 2 starts at
    2.6 s where track 1 was coasting. Only found boxes count as seen together: with track 1 filled in, the
    two are one shopper; had the detector found track 1 throughout, they would be two people."""
    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    filled = {(1, f) for f in range(11, 20)} if filled_in else set()
    add_video(
        conn,
        CAM_A,
        [walk(1, 0, 4, 0, 400), walk(2, 2.6, 6, 270, 450)],
        {1: LOOK_P, 2: LOOK_P},
        run_id,
        filled,
    )
    tracklets, _ = load_tracklets(conn)
    observed = {t.key[1]: t.observed for t in tracklets}
    assert observed[2] is None
    if filled_in:  # frames 0-10 and 20 were found
        np.testing.assert_allclose(
            observed[1] - observed[1][0], [f / FPS for f in [*range(11), 20]], atol=1e-6
        )
    else:
        assert observed[1] is None
    run_reid(conn, ReidConfig(match_threshold=0.3))
    found = ids(conn)
    assert (found[("A", 1)] == found[("A", 2)]) is filled_in
    conn.close()


def test_full_mode_joins_across_cameras_and_keeps_tables_consistent(store_db):
    conn = store_db
    summary = run_reid(conn, ReidConfig(), mode="full")
    got = ids(conn)
    assert got[("A", 1)] == got[("B", 1)]  # P, across the cameras
    assert len({got[("A", 1)], got[("B", 2)], got[("B", 3)]}) == 3  # Q and the look-alike L are others
    assert summary.n_shoppers == 3 and summary.n_tracklets == 4 and summary.cameras == 2
    check_consistent(conn)
    # Floor metres for the calibrated camera, pixels for the other.
    spaces = dict(conn.execute("SELECT camera, any_value(space) FROM trajectory GROUP BY 1").fetchall())
    assert spaces == {"A": "floor", "B": "image"}
    x_max = conn.execute("SELECT max(x) FROM trajectory WHERE camera = 'A'").fetchone()[0]
    assert x_max == pytest.approx(4.0, abs=0.3)
    # The MOT export writes the global id.
    rows = db.camera_track_rows(conn, "B")
    assert set(rows["id"]) == {got[("B", 1)], got[("B", 2)], got[("B", 3)]}
    # The multi-view gallery is stored: P has its views, all unit length.
    views = sdb.shopper_views(conn)
    assert got[("A", 1)] in views
    np.testing.assert_allclose(np.linalg.norm(views[got[("A", 1)]], axis=1), 1.0, rtol=1e-5)
    state = sdb.reid_state(conn)
    assert state["mode"] == "full" and state["n_shoppers"] == 3
    assert state["settings"]["match_threshold"] == pytest.approx(
        EMBEDDER_THRESHOLDS["omz"]
    )  # calibrated for omz


def test_modes_and_idempotence(store_db):
    conn = store_db
    run_reid(conn, mode="appearance")
    got = ids(conn)
    assert got[("A", 1)] == got[("B", 1)] != got[("B", 3)]  # one batch: P(B) is the closer look
    run_reid(conn, mode="independent")
    assert len(set(ids(conn).values())) == 4
    check_consistent(conn)
    run_reid(conn, mode="full")
    first = (ids(conn), conn.execute("SELECT * FROM shoppers ORDER BY ALL").fetchall())
    run_reid(conn, mode="full")
    assert (ids(conn), conn.execute("SELECT * FROM shoppers ORDER BY ALL").fetchall()) == first


def test_manual_staff_flag_survives_reassignment(store_db):
    conn = store_db
    run_reid(conn, mode="full")
    p = ids(conn)[("A", 1)]
    sdb.set_manual_staff(conn, p, True)
    run_reid(conn, mode="independent")  # P split in two: both parts stay staff
    got = ids(conn)
    assert got[("A", 1)] != got[("B", 1)]
    assert set(sdb.staff_shopper_ids(conn)) == {got[("A", 1)], got[("B", 1)]}
    run_reid(conn, mode="full")
    got = ids(conn)
    assert sdb.staff_shopper_ids(conn) == [got[("A", 1)]]
    source = conn.execute(
        "SELECT staff_source FROM shoppers WHERE shopper_id = ?", [got[("A", 1)]]
    ).fetchone()[0]
    assert source == "manual"


def test_a_staff_mark_made_while_identities_are_computed_is_kept(store_db, monkeypatch):
    """The dashboard's "Mark as staff" lands (another cursor, committed) after re-ID read the shoppers and
    before it writes: the mark stays (it was overwritten with the flags read before)."""
    import pipeline.reid.store as reid_store

    conn = store_db
    run_reid(conn, mode="full")
    p = ids(conn)[("A", 1)]
    dashboard = conn.cursor()
    read = reid_store.db.current_shoppers

    def read_then_click(cursor):
        shoppers = read(cursor)
        sdb.set_manual_staff(dashboard, p, True)
        return shoppers

    monkeypatch.setattr(reid_store.db, "current_shoppers", read_then_click)
    run_reid(conn, mode="full")
    assert ids(conn)[("A", 1)] == p
    assert conn.execute(
        "SELECT is_staff, staff_source FROM shoppers WHERE shopper_id = ?", [p]
    ).fetchone() == (
        True,
        "manual",
    )


def test_reid_command(store_db, tmp_path, capsys):
    path = tmp_path / "store.duckdb"
    store_db.close()
    assert main(["reid", "--db", str(path), "--mode", "full"]) == 0
    out = capsys.readouterr().out
    assert "4 tracklets from 2 camera(s) -> 3 shoppers (full + refinement" in out
    assert main(["reid", "--db", str(path), "--mode", "full", "--no-refine"]) == 0
    assert "-> 3 shoppers (full;" in capsys.readouterr().out
    assert main(["reid", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "database not found" in capsys.readouterr().err


def test_empty_store(tmp_path):
    conn = connect(tmp_path / "empty.duckdb")
    summary = run_reid(conn, mode="full")
    assert (summary.n_tracklets, summary.n_shoppers) == (0, 0)
    assert conn.execute("SELECT count(*) FROM shoppers").fetchone()[0] == 0
    conn.close()
