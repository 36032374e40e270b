"""Builders for the zones tests: a small store config and 1 Hz trajectories written to a real DuckDB file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import parse_config
from pipeline.db import connect, simulated, transaction

T0 = datetime(2026, 11, 20, 10, 0, 0)
OUT = (15.0, 20.0)  # a floor point in no zone

ZONES = [
    {"name": "A", "kind": "section", "polygon": [[0, 0], [10, 0], [10, 10], [0, 10]]},
    {"name": "HV", "kind": ["section", "high_value"], "polygon": [[20, 0], [30, 0], [30, 10], [20, 10]]},
    {"name": "In", "kind": "entrance", "polygon": [[40, 0], [44, 0], [44, 4], [40, 4]]},
    {"name": "Out", "kind": "exit", "polygon": [[50, 0], [54, 0], [54, 4], [50, 4]]},
    {"name": "Till", "kind": "checkout", "polygon": [[60, 0], [64, 0], [64, 4], [60, 4]]},
    {"name": "Queue", "kind": "checkout", "polygon": [[60, 5], [64, 5], [64, 9], [60, 9]]},
    {"name": "Staff", "kind": "staff_only", "polygon": [[70, 0], [74, 0], [74, 4], [70, 4]]},
    {"name": "Stock", "kind": "restricted", "polygon": [[80, 0], [84, 0], [84, 4], [80, 4]]},
]
CENTRE = {z["name"]: tuple(np.mean(z["polygon"], axis=0)) for z in ZONES}


def make_config(analytics: dict | None = None, flags: dict | None = None, zones: list | None = None):
    raw = {
        "name": "Test store",
        "floor_plan": {"width": 100, "height": 30},
        "cameras": [{"name": "cam1", "start_time": T0.isoformat(), "homography": np.eye(3).tolist()}],
        "zones": ZONES if zones is None else zones,
        # the default queue names zones of ZONES (a config naming unknown queue zones is refused at load)
        "analytics": {
            "sample_interval_s": 1.0,
            "queues": {"Till": "Queue"} if zones is None else {},
            **(analytics or {}),
        },
        "flags": flags or {},
    }
    return parse_config(raw, Path("."), check_files=False)


def path(*steps: tuple[str, float]) -> list[tuple[float, float]]:
    """1 Hz floor positions: ``("A", 30)`` = 30 samples at zone A's centre, ``("out", 2)`` = 2 outside,
    ``("gap", 4)`` = 4 s with no samples (written as None)."""
    out: list = []
    for where, seconds in steps:
        n = int(seconds)
        if where == "gap":
            out += [None] * n
        else:
            out += [OUT if where == "out" else CENTRE[where]] * n
    return out


def write_store(db: Path, shoppers: dict[int, list], staff: dict[int, str] | None = None, start=T0) -> None:
    """Write ``shoppers`` (id -> :func:`path` output, starting at ``start``) as trajectory + shoppers rows."""
    staff = staff or {}
    rows = []
    for sid, positions in shoppers.items():
        for i, p in enumerate(positions):
            if p is not None:
                rows.append((sid, start + timedelta(seconds=i), p[0], p[1]))
    traj = pd.DataFrame(rows, columns=["shopper_id", "ts", "x", "y"])
    traj["camera"], traj["frame"] = "cam1", np.arange(len(traj), dtype=np.int32)
    traj["shopper_id"] = traj["shopper_id"].astype(np.int32)
    traj["ts"] = traj["ts"].astype("datetime64[us]")
    span = (
        traj.groupby("shopper_id")["ts"].agg(["min", "max"])
        if len(traj)
        else pd.DataFrame(columns=["min", "max"])
    )
    shoppers_df = pd.DataFrame({
        "shopper_id": np.asarray(span.index, np.int32), "first_ts": span["min"].to_numpy(),
        "last_ts": span["max"].to_numpy(), "is_staff": [i in staff for i in span.index],
        "staff_source": [staff.get(i) for i in span.index],
    })  # fmt: skip
    cameras = pd.DataFrame({"name": ["cam1"], "homography": [np.eye(3).ravel().tolist()], "width": 1280,
                            "height": 720, "path": ["simulated://cam1"], "fps": 25.0, "n_frames": 0,
                            "start_time": T0})  # fmt: skip
    empty_tp = pd.DataFrame({c: pd.Series(dtype=d) for c, d in [
        ("camera", "object"), ("frame", "int64"), ("t_sec", "float64"), ("ts", "datetime64[us]"),
        ("track_id", "int32"), ("shopper_id", "int32"), ("x1", "float64"), ("y1", "float64"), ("x2", "float64"),
        ("y2", "float64"), ("score", "float64"), ("foot_u", "float64"), ("foot_v", "float64"),
        ("floor_x", "float64"), ("floor_y", "float64"), ("keypoints", "object")]})  # fmt: skip
    conn = connect(db)
    with transaction(conn):
        simulated.write_simulated_store(conn, "test", "{}", cameras, shoppers_df, traj[
            ["shopper_id", "camera", "frame", "ts", "x", "y"]], empty_tp)  # fmt: skip
    conn.close()


@pytest.fixture
def store(tmp_path):
    """``store(shoppers, staff=None, **config)`` -> an analysed connection to a fresh DuckDB file."""
    opened = []

    def build(shoppers: dict[int, list], staff: dict[int, str] | None = None, analytics=None, flags=None):
        import zones

        db = tmp_path / f"store{len(opened)}.duckdb"
        write_store(db, shoppers, staff)
        conn = connect(db)
        opened.append(conn)
        zones.analyse(conn, make_config(analytics, flags))
        return conn

    yield build
    for conn in opened:
        conn.close()


def visits(conn, zone: str | None = None) -> list[tuple]:
    """(shopper_id, zone, dwell_s) of counted visits, ordered."""
    rows = conn.execute(
        "SELECT shopper_id, zone, dwell_s FROM zone_visits ORDER BY shopper_id, start_ts"
    ).fetchall()
    return [r for r in rows if zone is None or r[1] == zone]
