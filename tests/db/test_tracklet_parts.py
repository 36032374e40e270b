"""Identity-switch splitting in the database: chunks -> parts -> per-point shopper ids, consistent everywhere."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from pipeline.config import CameraConfig, StoreConfig
from pipeline.db import connect
from pipeline.db import tracks as db
from pipeline.process import frame_rows
from pipeline.reid.store import run_reid
from pipeline.track_video import TrackChunks, TrackedVideoFrame
from pipeline.types import Detections
from tests.db.db_testkit import begin_virtual_video

START = datetime(2026, 11, 20, 9, 0, 0)
FPS = 5.0
CAM = CameraConfig("A", None, START, homography=np.diag([0.01, 0.01, 1.0]))
LOOK_P, LOOK_Q = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]


# People cut by the bottom of a 300 px high image, so a tracker can switch them anywhere (a split needs a
# box touching another's or the border, see pipeline/reid/split.py); EDGELESS is a 480 px high image.
CUT = (640, 300)
EDGELESS = (640, 480)


def add_video(
    conn, looks: dict[int, list], run_id: int, size: tuple[int, int] = CUT, spacing: int = 300
) -> None:
    """Tracks walking along v = 300 for 20 frames, ``spacing`` px apart (boxes are 40 px wide); ``looks``:
    track -> embedding per frame."""
    video_id = begin_virtual_video(conn, CAM, fps=FPS, n_frames=20, run_id=run_id, size=size)
    frames, chunks = [], TrackChunks()
    for frame in range(20):
        tids = np.array(sorted(looks), np.int64)
        boxes = np.array(
            [[10 * frame + spacing * k, 200, 10 * frame + spacing * k + 40, 300] for k in range(len(tids))],
            np.float32,
        )
        dets = Detections(boxes, np.full(len(tids), 0.9, np.float32)).with_track_id(tids)
        dets = dets.with_embedding(np.stack([looks[t][frame] for t in tids]).astype(np.float32))
        tracked = TrackedVideoFrame(frame, frame / FPS, dets)
        frames.append(tracked)
        chunks.add(frame, frame / FPS, dets)
    db.write_batch(conn, video_id, frame_rows(video_id, CAM, frames), 20)
    db.finish_video(conn, video_id, "omz", chunks.means(), 20, chunks.table())


def point_ids(conn) -> list[tuple]:
    """(track, 0-based frame, shopper) of every exported box (``export-mot`` rows)."""
    export = db.camera_track_rows(conn, "A").sort_values(["frame", "x"])
    local = db.camera_track_rows(conn, "A", use_shopper_id=False).sort_values(["frame", "x"])
    return list(zip(local["id"], local["frame"] - 1, export["id"]))


def test_switching_track_is_split_and_every_table_agrees(tmp_path):
    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    switch = [LOOK_P] * 10 + [LOOK_Q] * 10  # track 1 follows P for 2 s, then Q
    add_video(conn, {1: switch, 2: [LOOK_P] * 20}, run_id)  # track 2: P all along
    n_chunks = conn.execute("SELECT count(*) FROM tracklet_chunks WHERE track_id = 1").fetchone()[0]
    assert n_chunks == 7  # 0.5 s chunks at 5 fps: 3 frames each (last one 2)

    run_reid(conn, mode="independent")
    assert (
        conn.execute("SELECT count(*) FROM tracklet_parts").fetchone()[0] == 0
    )  # independent: tracks as they are

    summary = run_reid(conn, mode="appearance")
    assert summary.n_tracklets == 3
    parts = conn.execute(
        "SELECT part, first_frame, last_frame, shopper_id FROM tracklet_parts ORDER BY part"
    ).fetchall()
    assert [(p, f, la) for p, f, la, _ in parts] == [(0, 0, 8), (1, 9, 19)]
    assert parts[0][3] != parts[1][3]
    rows = point_ids(conn)
    track1 = {frame: sid for tid, frame, sid in rows if tid == 1}
    assert {track1[f] for f in range(9)} == {parts[0][3]} and {track1[f] for f in range(9, 20)} == {
        parts[1][3]
    }
    # Trajectory and shoppers name the per-point ids; the tracklet keeps its largest part's.
    traj = conn.execute(
        "SELECT frame, list(shopper_id ORDER BY shopper_id) FROM trajectory GROUP BY 1 ORDER BY 1"
    )
    exported: dict[int, list[int]] = {}
    for _, frame, sid in rows:
        exported.setdefault(int(frame), []).append(int(sid))
    assert traj.fetchall() == [(f, sorted(v)) for f, v in sorted(exported.items())]
    shoppers = {r[0] for r in conn.execute("SELECT shopper_id FROM shoppers").fetchall()}
    assert {r[0] for r in conn.execute("SELECT DISTINCT shopper_id FROM trajectory").fetchall()} == shoppers
    assert conn.execute("SELECT shopper_id FROM tracklets WHERE track_id = 1").fetchone()[0] == parts[1][3]

    before = conn.execute("SELECT * FROM tracklet_parts ORDER BY ALL").fetchall()
    run_reid(conn, mode="appearance")  # idempotent: parts keep their ids
    assert conn.execute("SELECT * FROM tracklet_parts ORDER BY ALL").fetchall() == before
    conn.close()


def test_tracks_and_chunks_without_appearance(tmp_path):
    """NULL embeddings (a chunk, or a whole track, with no confident box) come back as None, not pd.NA."""
    from pipeline.db import shoppers as sdb

    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    zero = np.zeros(4, np.float32)
    gappy = [LOOK_P] * 6 + [zero] * 4 + [LOOK_Q] * 10  # a chunk without any embedded box, then a switch
    add_video(conn, {1: gappy, 2: [zero] * 20}, run_id)  # track 2 was never embedded
    chunks = sdb.tracklet_chunks(conn)
    assert chunks["embedding"].isna().any() and all(e is None or len(e) == 4 for e in chunks["embedding"])
    assert sdb.done_tracklets(conn).set_index("track_id").loc[2, "embedding"] is None
    summary = run_reid(conn, mode="full")
    assert summary.n_tracklets == 3  # track 1 split at the switch, track 2 whole
    assert conn.execute("SELECT count(*) FROM tracklets WHERE shopper_id IS NULL").fetchone()[0] == 0


def test_deleting_another_video_keeps_the_shoppers_of_split_parts(tmp_path):
    """Re-processing one video must not drop a shopper known only through another video's track part."""
    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    add_video(conn, {1: [LOOK_P] * 10 + [LOOK_Q] * 10}, run_id)  # one track, split P -> Q
    run_reid(conn, mode="appearance")
    parts = [r[0] for r in conn.execute("SELECT shopper_id FROM tracklet_parts ORDER BY part").fetchall()]
    assert len(set(parts)) == 2
    other = db.begin_video(
        conn,
        camera=CAM.name,
        path="/virtual/B.mp4",
        sha256=None,
        fps=FPS,
        n_frames=1,
        start_time=START,
        run_id=run_id,
        settings={},
    )
    with db.transaction(conn):
        db.delete_video_rows(conn, other)
    kept = {r[0] for r in conn.execute("SELECT shopper_id FROM shoppers").fetchall()}
    assert set(parts) <= kept


def test_a_change_of_look_where_nobody_could_be_switched_is_no_split(tmp_path):
    """The same look change as above, but the track's boxes never touch another box or the image border:
    a shopper walking alone from a lit shop onto a dim gallery changes colour, not identity."""
    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    add_video(conn, {1: [LOOK_P] * 10 + [LOOK_Q] * 10, 2: [LOOK_P] * 20}, run_id, size=EDGELESS)
    summary = run_reid(conn, mode="appearance")
    assert summary.n_tracklets == 2
    assert conn.execute("SELECT count(*) FROM tracklet_parts").fetchone()[0] == 0
    conn.close()


def test_chunk_contacts_are_boxes_meeting_or_the_border(tmp_path):
    from pipeline.db import shoppers as sdb

    def contacts(size, spacing):
        conn = connect(tmp_path / f"{size[1]}-{spacing}.duckdb")
        add_video(
            conn, {1: [LOOK_P] * 20, 2: [LOOK_Q] * 20}, db.start_run(conn, "T", None, {}), size, spacing
        )
        out = sdb.chunk_contacts(conn, pd.DataFrame({"video_id": [1], "track_id": [1]}))
        conn.close()
        assert list(out["chunk"]) == list(range(7)) and set(out["track_id"]) == {1}
        return list(out["contact"])

    # Track 1 starts at the image's left border (frame 0, chunk 0), then walks apart from track 2.
    assert contacts(EDGELESS, 300) == [True] + [False] * 6
    assert contacts(EDGELESS, 30) == [True] * 7  # the two boxes overlap by 10 px in every frame
    assert contacts(CUT, 300) == [True] * 7  # cut by the bottom of the image


def test_camera_heatmap_leaves_out_the_staff_part_of_a_split_track(tmp_path):
    """Staff is judged per tracklet part in the camera heatmap too, as in every per-box reader: the part of
    a switching track that belongs to a staff member is not shopper time."""
    import zones
    from pipeline.db.shoppers import set_manual_staff

    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    add_video(conn, {1: [LOOK_P] * 10 + [LOOK_Q] * 10, 2: [LOOK_P] * 20}, run_id)
    run_reid(conn, mode="appearance")
    ((staff,),) = conn.execute("SELECT shopper_id FROM tracklet_parts WHERE part = 0").fetchall()
    # The staff member's boxes, per point: track 1's first part (and, in mode appearance, which ignores
    # space and time, track 2, which looks the same).
    (staff_points,) = conn.execute("SELECT count(*) FROM trajectory WHERE shopper_id = ?", [staff]).fetchone()
    assert staff_points >= 9
    config = StoreConfig("Test", (CAM,))
    zones.analyse(conn, config)
    everyone = conn.execute("SELECT sum(shopper_seconds) FROM heatmap_camera").fetchone()[0]
    set_manual_staff(conn, staff, True)
    zones.analyse(conn, config)
    shoppers_only = conn.execute("SELECT sum(shopper_seconds) FROM heatmap_camera").fetchone()[0]
    assert everyone == pytest.approx(40 / FPS)  # 2 tracks x 20 points, each standing for 1 / FPS
    assert shoppers_only == pytest.approx(everyone - staff_points / FPS)
    conn.close()


def test_camera_heatmap_counts_finished_videos_only(tmp_path):
    """Boxes of a video still being processed (or interrupted) are not shopper time yet: they have no
    tracklet to say whether they are a mannequin or staff, and the floor heatmap leaves them out too."""
    import zones

    conn = connect(tmp_path / "store.duckdb")
    run_id = db.start_run(conn, "Test", None, {})
    add_video(conn, {1: [LOOK_P] * 20}, run_id)
    config = StoreConfig("Test", (CAM,))
    zones.analyse(conn, config)
    finished = conn.execute("SELECT sum(shopper_seconds) FROM heatmap_camera").fetchone()[0]
    video_id = begin_virtual_video(conn, CAM, fps=FPS, n_frames=20, run_id=run_id, path="/virtual/later.mp4")
    still = Detections(np.array([[300, 200, 340, 300]], np.float32), np.array([0.9], np.float32))
    frames = [TrackedVideoFrame(f, f / FPS, still.with_track_id(np.array([7]))) for f in range(20)]
    db.write_batch(conn, video_id, frame_rows(video_id, CAM, frames), 20)  # committed, never finished
    zones.analyse(conn, config)
    assert conn.execute("SELECT sum(shopper_seconds) FROM heatmap_camera").fetchone()[0] == pytest.approx(
        finished
    )
    conn.close()
