"""Mining weak labels from footage: cannot-link rules, sequential crop extraction, the store database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.errors import UserError
from pipeline.training.mining import Tracklet, cannot_link_matrix, extract_crops, mine_store, read_mot_gt


def _t(camera: str, t0: float, t1: float) -> Tracklet:
    return Tracklet("v.mp4", camera, 0, t0, t1, np.zeros(1, np.int64), np.zeros((1, 4), np.float32))


@pytest.mark.parametrize(
    ("a", "b", "known_different"),
    [
        (_t("entrance", 0, 10), _t("entrance", 5, 15), True),  # same camera, same time: two people
        (_t("entrance", 0, 10), _t("entrance", 10, 15), True),  # touching counts as overlapping
        (_t("entrance", 0, 10), _t("entrance", 11, 15), False),  # later: may be the same shopper back
        (_t("entrance", 0, 10), _t("aisle", 0, 10), False),  # other camera: may be the same shopper
    ],
)
def test_cannot_link_rules(a: Tracklet, b: Tracklet, known_different: bool) -> None:
    matrix = cannot_link_matrix([a, b])
    assert matrix[0, 1] == matrix[1, 0] == known_different
    assert not matrix.diagonal().any()


def test_cannot_link_empty() -> None:
    assert cannot_link_matrix([]).shape == (0, 0)


def test_extract_crops_keeps_request_order(shared: Path) -> None:
    video = shared / "data" / "mot15" / "TUD-Campus" / "TUD-Campus.mp4"
    boxes = np.array([[100, 100, 164, 228], [200, 150, 264, 278], [10, 10, 74, 138]], np.float32)
    frames = np.array([20, 3, 20])
    crops = extract_crops(video, frames, boxes)
    assert crops.shape == (3, 256, 128, 3) and crops.dtype == np.uint8
    cap = cv2.VideoCapture(str(video))
    for _ in range(4):
        _, frame3 = cap.read()
    cap.release()
    direct = cv2.resize(frame3[150:278, 200:264], (128, 256))
    assert np.abs(crops[1].astype(int) - direct.astype(int)).mean() < 12
    assert extract_crops(video, np.zeros(0, np.int64), np.zeros((0, 4), np.float32)).shape == (0, 256, 128, 3)
    with pytest.raises(UserError, match="ends"):
        extract_crops(video, np.array([10_000]), boxes[:1])


def make_store(path: Path, shared: Path, seq: str = "TUD-Campus", max_frame: int | None = None) -> Path:
    """A processed-store database whose tracks are the sequence's ground truth."""
    from pipeline.db import connect

    seq_dir = shared / "data" / "mot15" / seq
    gt = read_mot_gt(seq_dir / "gt" / "gt.txt")
    if max_frame is not None:
        gt = gt[gt[:, 0] < max_frame]
    start = datetime(2026, 11, 20, 9, 0, 0)
    conn = connect(path)
    conn.execute(
        "INSERT INTO videos (video_id, camera, path, fps, n_frames, start_time, status) VALUES (1, 'cam', ?, 25, 71, ?, 'done')",
        [str(seq_dir / f"{seq}.mp4"), start],
    )
    points = [
        (
            1,
            "cam",
            int(f),
            f / 25,
            start + timedelta(seconds=f / 25),
            int(i),
            x1,
            y1,
            x2,
            y2,
            0.9,
            (x1 + x2) / 2,
            y2,
        )
        for f, i, x1, y1, x2, y2 in gt
    ]
    conn.executemany(
        "INSERT INTO track_points (video_id, camera, frame, t_sec, ts, track_id, x1, y1, x2, y2, score, foot_u, foot_v) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        points,
    )
    for track_id in np.unique(gt[:, 1]):
        frames = gt[gt[:, 1] == track_id, 0]
        conn.execute(
            "INSERT INTO tracklets (video_id, camera, track_id, first_frame, last_frame, first_ts, last_ts, n_points, mean_score) "
            "VALUES (1, 'cam', ?, ?, ?, ?, ?, ?, 0.9)",
            [int(track_id), int(frames.min()), int(frames.max()), start + timedelta(seconds=frames.min() / 25),
             start + timedelta(seconds=frames.max() / 25), len(frames)],
        )  # fmt: skip
    conn.close()
    return path


@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Path:
    return make_store(tmp_path_factory.mktemp("db") / "store.duckdb", shared)


def test_mine_store(store_db: Path) -> None:
    data = mine_store(store_db, per_tracklet=6)
    assert data.n_groups >= 6 and len(data) <= 6 * data.n_groups
    assert data.n_negative_pairs > 0
    assert data.crops.shape[1:] == (256, 128, 3)
    assert np.bincount(data.labels).min() >= 2
    data.check_enough("siamese")


def test_mine_store_too_little_footage(tmp_path: Path, shared: Path) -> None:
    db = make_store(tmp_path / "small.duckdb", shared, max_frame=12)
    data = mine_store(db)
    with pytest.raises(UserError, match=r"not enough training data.*Process more footage"):
        data.check_enough("siamese")


def test_mine_store_missing_db(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read store database"):
        mine_store(tmp_path / "nope.duckdb")
