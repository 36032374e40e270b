"""The command line on bad input: one clear line on stderr, exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.builders import write_video
from tests.conftest import REPO


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def store_yaml(tmp_path, video, extra=""):
    path = tmp_path / "store.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            name: Shop
            cameras:
              - name: cam
                video: {video}
                start_time: 2026-11-20T09:00:00
            """
        )
        + extra
    )
    return path


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing.mp4", "video not found: .*missing.mp4"),
        (
            lambda p: (p / "corrupt.mp4").write_bytes(b"\x00garbage" * 500) and p / "corrupt.mp4",
            "corrupt.mp4",
        ),
        (lambda p: (p / "empty.mp4").write_bytes(b"") is not None and p / "empty.mp4", "video file is empty"),
    ],
)
def test_track_bad_video(tmp_path, setup, message):
    video = setup(tmp_path)
    result = cli("track", str(video), "--out", str(tmp_path / "out.txt"), "--embedder", "hist")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert __import__("re").search(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.txt").exists()


def test_track_missing_weights_never_downloads(tmp_path):
    video = write_video(tmp_path / "v.mp4")
    result = cli("track", str(video), "--out", str(tmp_path / "o.txt"), "--weights", "yolo11n.pt")
    assert result.returncode == 2
    assert "detector weights not found: yolo11n.pt (no download is attempted)" in result.stderr


def test_track_unknown_embedder_lists_names(tmp_path):
    video = write_video(tmp_path / "v.mp4")
    result = cli("track", str(video), "--out", str(tmp_path / "o.txt"), "--embedder", "nope")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: unknown embedder 'nope'; valid names:" in result.stderr and "hist" in result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("bogus: 1\n", "unknown key\\(s\\) bogus"),
        (
            "zones:\n  - {name: A, kind: section, polygon: [[0, 0], [1, 1]]}\n",
            "zone 'A': a polygon needs at least 3 points",
        ),
        (
            "  - name: cam2\n    start_time: 2026-11-20T09:00:00\n    video: v.mp4\n    homography: [[1, 2, 3], [2, 4, 6], [1, 1, 1]]\n",
            "camera 'cam2': homography is singular",
        ),
        ("name: [\n", "not valid YAML"),
    ],
)
def test_process_bad_config(tmp_path, extra, message):
    video = write_video(tmp_path / "v.mp4")
    db = tmp_path / "s.duckdb"
    result = cli("process", str(store_yaml(tmp_path, video, extra)), "--db", str(db))
    assert result.returncode == 2, result.stderr
    assert __import__("re").search(message, result.stderr), result.stderr
    assert not db.exists()


def test_process_corrupt_video_writes_nothing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01" * 5000)
    db = tmp_path / "s.duckdb"
    result = cli("process", str(store_yaml(tmp_path, bad)), "--db", str(db))
    assert result.returncode == 2 and "bad.mp4" in result.stderr
    assert not db.exists()


def test_evaluate_and_export_errors(tmp_path):
    result = cli("evaluate", "--gt", str(tmp_path / "gt.txt"), "--pred", str(tmp_path / "p.txt"))
    assert result.returncode == 2 and "MOT file not found" in result.stderr
    result = cli(
        "export-mot", "--db", str(tmp_path / "none.duckdb"), "--camera", "x", "--out", str(tmp_path / "o.txt")
    )
    assert result.returncode == 2 and "database not found" in result.stderr
