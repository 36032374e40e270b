"""Helpers for the dashboard tests: the app path, a campus store config, reading through the app's connection."""

from __future__ import annotations

from pathlib import Path

import yaml

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
