"""Section, store, occupancy, queue, path, heatmap and conversion metrics on small hand-built days."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from zones_testkit import make_config, path

import zones
from pipeline.errors import UserError

WALK = ("out", 5)


@pytest.fixture
def day(store):
    # 1: section A 30 s then pays; 2: section A 8 s (a bounce) and leaves; 3: HV only; 9: staff in A for long
    return store(
        {
            1: path(("In", 2), ("A", 30), WALK, ("Queue", 40), ("Till", 20), WALK, ("Out", 2)),
            2: path(("In", 2), ("A", 8), WALK, ("Out", 2)),
            3: path(("In", 2), ("HV", 60), WALK, ("Out", 2)),
            9: path(("A", 600)),
        },
        staff={9: "manual"},
    )


def test_section_metrics(day):
    row = day.execute(
        "SELECT visitors, visits, store_visitors, entry_rate, dwell_mean_s, dwell_median_s, bounce_rate, "
        "checkout_after_share FROM section_metrics WHERE zone = 'A'"
    ).fetchone()
    assert row == (2, 2, 3, pytest.approx(2 / 3), 19.0, 19.0, 0.5, 0.5)
    hourly = day.execute("SELECT hour, visitors FROM section_hourly WHERE zone = 'A'").fetchall()
    assert hourly == [(datetime(2026, 11, 20, 10), 2)]
    assert day.execute("SELECT visitors FROM section_metrics WHERE zone = 'HV'").fetchone() == (1,)


def test_store_metrics_and_occupancy(day):
    visitors, mean_s, busiest = day.execute(
        "SELECT visitors, time_in_store_mean_s, busiest_hour FROM store_metrics"
    ).fetchone()
    assert visitors == 3  # staff excluded
    assert mean_s == pytest.approx((104 + 17 + 69) / 3)  # samples each, 1 s apiece
    assert busiest == datetime(2026, 11, 20, 10)
    occ = day.execute("SELECT minute, shoppers, staff FROM occupancy_minute ORDER BY minute").fetchall()
    assert occ[0] == (datetime(2026, 11, 20, 10, 0), 3, 1)
    assert occ[1] == (datetime(2026, 11, 20, 10, 1), 2, 1)  # shoppers 1 (104 s) and 3 (69 s) reach 10:01
    assert day.execute("SELECT arrivals, visitors FROM store_hourly").fetchall() == [(3, 3)]


def test_queue_wait(day):
    waits = day.execute("SELECT checkout, shopper_id, wait_s, served FROM queue_waits").fetchall()
    assert waits == [("Till", 1, 40.0, True)]
    p50, p90 = day.execute("SELECT wait_p50_s, wait_p90_s FROM queue_hourly").fetchone()
    assert (p50, p90) == (40.0, 40.0)
    mx = day.execute("SELECT max(shoppers), sum(mean_length) FROM queue_minute").fetchone()
    assert mx[0] == 1 and mx[1] == pytest.approx(40 / 60)
    # The hour's mean queue length averages its filmed minutes, as mean occupancy does (not all 60).
    (hour, mean_length) = day.execute("SELECT hour, mean_length FROM queue_hourly").fetchone()
    (filmed,) = day.execute(
        "SELECT count(*) FROM occupancy_minute WHERE date_trunc('hour', minute) = ?", [hour]
    ).fetchone()
    assert 0 < filmed < 60
    assert mean_length == pytest.approx(40 / 60 / filmed)


def test_paths_and_transitions(day):
    seq = day.execute("SELECT sequence FROM shopper_paths WHERE shopper_id = 1").fetchone()[0]
    assert seq == "In > A > Queue > Till > Out"
    share = day.execute("SELECT share FROM transitions WHERE from_zone = 'In' AND to_zone = 'A'").fetchone()[
        0
    ]
    assert share == pytest.approx(2 / 3)
    top = day.execute("SELECT sequence, shoppers FROM zone_sequences ORDER BY rank").fetchall()
    assert len(top) == 3 and all(n == 1 for _, n in top)
    edges = day.execute(
        "SELECT step, source, target, value FROM sankey_edges WHERE step = 1 ORDER BY target"
    ).fetchall()
    assert edges == [(1, "1. In", "2. A", 2), (1, "1. In", "2. HV", 1)]
    # shopper 3: In centre (42, 2) -> HV centre (25, 5) -> outside (15, 20) -> Out centre (52, 2)
    length, speed = day.execute(
        "SELECT path_length_m, walking_speed_mps FROM shopper_paths WHERE shopper_id = 3"
    ).fetchone()
    legs = [(17**2 + 3**2) ** 0.5, (10**2 + 15**2) ** 0.5, (37**2 + 18**2) ** 0.5]
    assert length == pytest.approx(sum(legs))
    assert speed == pytest.approx(
        sum(legs) / 3
    )  # each jump takes one 1-s step; standing still is not walking


def test_heatmap_sums_to_time_seen(day):
    total = day.execute("SELECT sum(shopper_seconds) FROM heatmap_floor").fetchone()[0]
    assert total == pytest.approx(104 + 17 + 69)  # staff excluded, each point counts its 1 s
    cells = zones.heatmap_cells(day, None, datetime(2026, 11, 20, 11), None)
    assert cells.empty


def test_conversion_from_sales(day, tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("timestamp,transactions,amount\n2026-11-20T10:15:00,2,30.5\n2026-11-20T11:00:00,1,\n")
    assert zones.import_sales(day, csv) == {"imported": 2, "replaced": 0}
    rows = day.execute(
        "SELECT hour, visitors, transactions, amount, conversion FROM conversion_hourly ORDER BY 1"
    ).fetchall()
    assert rows[0] == (datetime(2026, 11, 20, 10), 3, 2, 30.5, pytest.approx(2 / 3))
    assert rows[1][1:3] == (0, 1) and rows[1][4] is None
    # importing the same file again replaces, not doubles
    assert zones.import_sales(day, csv) == {"imported": 2, "replaced": 2}
    assert day.execute("SELECT sum(transactions) FROM sales").fetchone()[0] == 3


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty file"),
        ("when,transactions\n", "missing column.*timestamp"),
        ("timestamp,transactions,colour\n", "unknown column.*colour"),
        (
            "timestamp,transactions\n2026-11-20T10:00,3\nyesterday,2\n",
            "1 bad row.*line 3: timestamp 'yesterday'",
        ),
        ("timestamp,transactions\n2026-11-20T10:00,-1\n2026-11-20T11:00,x\n", "2 bad row.*line 2.*line 3"),
        ("timestamp,transactions,amount\n2026-11-20T10:00,1,cheap\n", "line 2: amount 'cheap'"),
        ("timestamp,transactions\n2026-11-20T10:00,1,9\n", "line 2: expected 2 fields"),
    ],
)
def test_sales_errors_import_nothing(day, tmp_path, text, error):
    csv = tmp_path / "bad.csv"
    csv.write_text(text)
    with pytest.raises(UserError, match=error):
        zones.import_sales(day, csv)
    assert day.execute("SELECT count(*) FROM sales").fetchone()[0] == 0


def test_hourly_occupancy_is_averaged_over_the_filmed_minutes(day):
    """An hour filmed for 10 minutes is averaged over those 10 (it was over 60, as if the rest were empty)."""
    day.execute(
        "INSERT INTO videos (camera, path, fps, n_frames, start_time, status, frames_done) "
        "VALUES ('cam', 'ten-minutes.mp4', 10, 6000, TIMESTAMP '2026-11-20 10:00:00', 'done', 6000)"
    )
    zones.analyse(day, make_config())
    person_minutes = day.execute("SELECT sum(shoppers) FROM occupancy_minute").fetchone()[0]
    mean, peak = day.execute("SELECT occupancy_mean, occupancy_max FROM store_hourly").fetchone()
    assert mean == pytest.approx(person_minutes / 10) and peak == 3


@pytest.mark.parametrize(
    ("speed_mps", "offset_us"),
    [(0.0, 0), (0.5, 0), (0.5, 300_000)],  # standing / walking; the second camera's clock in step or not
)
def test_path_over_two_overlapping_cameras_counts_the_walk_once(speed_mps, offset_us):
    """Two cameras see one shopper at the same moments, their floor estimates 0.3 m apart: stepping from
    one camera's estimate to the other's is not walking (it read 89.7 m for 300 s of standing)."""
    from zones.paths import shopper_paths
    from zones.trajectory import Points

    seconds = np.arange(300)
    t_us = seconds * 1_000_000
    walk_x = speed_mps * seconds
    ts = np.r_[t_us, t_us + offset_us]
    x = np.r_[walk_x, walk_x + speed_mps * offset_us / 1e6 + 0.3]
    points = Points.from_arrays(np.ones(600), ts, x, np.zeros(600))
    (row,) = shopper_paths(points, dt_us=1_000_000, max_step_us=3_000_000, walking_min_mps=0.2).itertuples()
    assert row.path_length_m == pytest.approx(speed_mps * 299, abs=0.01)
    assert row.n_points == 600
    if speed_mps:
        assert row.walking_speed_mps == pytest.approx(speed_mps)
