"""The simulated demo store checked against its own ground truth (a small, quick demo)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
import shapely

import zones
from pipeline.cli import main
from pipeline.db import connect
from pipeline.simulate import build_demo
from pipeline.simulate.scripts import SUSPICIOUS

NOISE_S = 0.1  # floor noise (3 cm) moves a boundary crossing by a few hundredths of a second


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    truth = build_demo(db, shoppers=60, seed=3)
    conn = connect(db)
    yield conn, truth
    conn.close()


def test_visits_match_ground_truth(demo):
    conn, truth = demo
    measured = conn.execute("SELECT shopper_id, zone, start_ts, dwell_s FROM zone_visits").df()
    expected = truth.visits

    def count(df: pd.DataFrame) -> pd.Series:
        return df.astype({"shopper_id": "int64"}).groupby(["shopper_id", "zone"]).size()

    pd.testing.assert_series_equal(count(measured), count(expected), check_names=False)
    m = measured.sort_values(["shopper_id", "zone", "start_ts"]).reset_index(drop=True)
    e = expected.sort_values(["shopper_id", "zone", "start_s"]).reset_index(drop=True)
    assert (m["dwell_s"] - e["dwell_s"]).abs().max() <= truth.sample_interval_s + NOISE_S
    start_diff = (m["start_ts"] - e["start_ts"]).dt.total_seconds().abs()
    assert start_diff.max() <= truth.sample_interval_s + NOISE_S


def test_every_scripted_sequence_is_flagged_and_near_misses_are_not(demo):
    conn, truth = demo
    flags = set(conn.execute("SELECT shopper_id, rule FROM flags").fetchall())
    for rule in SUSPICIOUS:
        for shopper in truth.shoppers("suspicious", rule):
            assert (shopper, rule) in flags, (shopper, rule)
    scripted = {(s, r) for r in SUSPICIOUS for s in truth.shoppers("suspicious", r)}
    near = {s for r in SUSPICIOUS for s in truth.shoppers("near_miss", r)}
    on_near = {(s, r) for s, r in flags if s in near}
    assert len(flags & scripted) / len(flags) >= 0.9  # precision over all flags
    assert len(on_near) <= 0.1 * len(flags)


def test_staff_and_metrics(demo):
    conn, truth = demo
    staff = dict(conn.execute("SELECT shopper_id, staff_source FROM shoppers WHERE is_staff").fetchall())
    assert {s for s, src in staff.items() if src == "manual"} == truth.shoppers("staff_manual")
    assert {s for s, src in staff.items() if src == "zone_rule"} == truth.shoppers("staff_rule")
    non_staff = len(truth.labels) - len(staff)
    assert conn.execute("SELECT visitors FROM store_metrics").fetchone()[0] == non_staff
    waits = conn.execute("SELECT shopper_id, wait_s FROM queue_waits WHERE served").df()
    both = waits.merge(truth.queue_waits, on="shopper_id", suffixes=("_m", "_t"))
    assert len(both) == len(truth.queue_waits) > 0
    assert (both["wait_s_m"] - both["wait_s_t"]).abs().max() <= truth.sample_interval_s + NOISE_S
    # conversion comes from the imported sales CSV: one transaction per till visit
    tx, visitors = conn.execute("SELECT transactions, visitors FROM conversion_daily").fetchone()
    assert visitors == non_staff and 0 < tx <= visitors
    # the camera-pixel zone (Promo, cam2) is on the floor where the layout puts it
    wkt, camera = conn.execute("SELECT wkt, source_camera FROM zones WHERE zone = 'Promo'").fetchone()
    assert camera == "cam2"
    assert shapely.from_wkt(wkt).bounds == pytest.approx((21.0, 4.5, 25.0, 8.0), abs=1e-3)


def test_demo_writes_pipeline_tables(demo):
    conn, truth = demo
    counts = dict(conn.execute(
        "SELECT 'videos', count(*) FROM videos UNION ALL SELECT 'tracklets', count(*) FROM tracklets "
        "UNION ALL SELECT 'track_points', count(*) FROM track_points UNION ALL SELECT 'kp', count(*) FROM "
        "track_points WHERE len(keypoints) = 51 UNION ALL SELECT 'traj', count(*) FROM trajectory"
    ).fetchall())  # fmt: skip
    assert counts["videos"] == 4 and counts["tracklets"] > 0 and counts["kp"] > 0
    assert counts["traj"] == truth.n_points and counts["track_points"] >= truth.n_points
    cams = conn.execute("SELECT DISTINCT camera FROM heatmap_camera ORDER BY 1").fetchall()
    assert [c for (c,) in cams] == ["cam1", "cam2", "cam3", "cam4"]
    assert conn.execute("SELECT count(*) FROM store_config").fetchone()[0] == 1
    # image heatmaps with a time filter: the whole day vs. an hour before opening
    day = zones.heatmap_cells(conn, "cam2")
    assert day["shopper_seconds"].sum() > 0 and {"u_px", "v_px", "cell_px"} <= set(day.columns)
    assert zones.heatmap_cells(conn, "cam2", datetime(2026, 11, 20, 7), datetime(2026, 11, 20, 8)).empty
    floor = zones.heatmap_cells(conn)
    seen = conn.execute("SELECT sum(time_in_store_s) FROM shopper_paths WHERE NOT is_staff").fetchone()[0]
    assert floor["shopper_seconds"].sum() == pytest.approx(seen)


def test_demo_is_deterministic_and_cli(tmp_path, capsys):
    a = build_demo(tmp_path / "a.duckdb", shoppers=20, seed=5, analyse=False)
    b = build_demo(tmp_path / "b.duckdb", shoppers=20, seed=5, analyse=False)
    pd.testing.assert_frame_equal(a.visits, b.visits)
    assert a.n_points == b.n_points
    assert main(["demo", "--db", str(tmp_path / "c.duckdb"), "--shoppers", "20", "--seed", "5"]) == 0
    assert (tmp_path / "c_store.yaml").is_file()
    assert main(["demo", "--db", str(tmp_path / "d.duckdb"), "--shoppers", "3"]) == 2
