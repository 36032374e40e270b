"""Helpers for the dashboard tests: the app path, a campus store config, reading through the app's connection."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dashboard.auth import hash_password
from pipeline.db import connect
from pipeline.db import tracks as tracks_db

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "streamlit_app.py")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
# A one-camera store for TUD-Campus (640x480, 2.8 s): the image maps onto a 16 m x 12 m floor; visits of
# any length count (the clip is shorter than the default 5 s minimum dwell).
CAMPUS_CONFIG = {
    "name": "Campus test store",
    "floor_plan": {"width": 16.0, "height": 12.0},
    "cameras": [
        {
            "name": "campus",
            "start_time": "2026-11-20T10:00:00",
            "homography": [[0.025, 0, 0], [0, 0.025, 0], [0, 0, 1]],
        },
    ],
    "zones": [
        {"name": "Left", "kind": "section", "polygon": [[0, 0], [8, 0], [8, 12], [0, 12]]},
        {"name": "Right", "kind": ["section", "high_value"], "polygon": [[8, 0], [16, 0], [16, 12], [8, 12]]},
        {"name": "Till", "kind": "checkout", "polygon": [[12, 8], [16, 8], [16, 12], [12, 12]]},
    ],
    "analytics": {"min_dwell_s": 0},
}


def query(db: str, sql: str, params: list | None = None) -> list[tuple]:
    """Read ``db`` through the app's own shared connection (a second one would be refused)."""
    from dashboard import data

    cur = data.connection(db).cursor()
    try:
        return cur.execute(sql, params or []).fetchall()
    finally:
        cur.close()


def make_campus_db(path: Path) -> Path:
    """An empty store database holding :data:`CAMPUS_CONFIG` (no footage yet)."""
    conn = connect(path)
    try:
        tracks_db.save_store_config(conn, yaml.safe_dump(CAMPUS_CONFIG, sort_keys=False))
    finally:
        conn.close()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard_server(
    tmp_path: Path, data_dir: Path, db: Path, password: str, **env: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python -m dashboard.server`` (what ``make run`` starts: sign-in and security headers in front of
    Streamlit) on ``db``, with one admin ``password`` and the extra environment ``env``; yields its URL and
    process, and stops it (if still running) on exit. Its output goes to ``tmp_path / "server.log"``."""
    port = free_port()
    environ = dict(os.environ, SHOPPER_DATA_DIR=str(data_dir), SHOPPER_DB=str(db), **env)
    environ["SHOPPER_PASSWORD_HASH"] = hash_password(password, 1000)  # signs in at the front door first
    environ.pop("SHOPPER_REVIEWER_PASSWORD_HASH", None)
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.server", "--port", str(port), "--address", "127.0.0.1"],
            cwd=REPO,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    time.sleep(0.3)
            else:
                pytest.fail("the dashboard did not start: " + log_path.read_text())
            yield f"http://127.0.0.1:{port}", proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
