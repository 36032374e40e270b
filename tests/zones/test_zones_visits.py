"""Visit hysteresis, table-driven, computed by ``zones.analyse`` on real DuckDB files (1 Hz samples).

With 1 Hz samples a run of k in-zone samples has dwell k s, and g samples outside make a gap of g s.
Defaults: min dwell 5 s (entrance/exit 0), merge window 3 s (gaps shorter join).
"""

from __future__ import annotations

import pytest
from zones_testkit import path, visits


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], []),  # empty trajectory
        ([("A", 1)], []),  # single point: 1 s < min dwell
        ([("In", 1)], [("In", 1.0)]),  # single point at the entrance: min dwell 0 there
        ([("A", 4)], []),  # 4 s < 5 s
        ([("A", 5)], [("A", 5.0)]),  # exactly the minimum dwell counts
        ([("A", 30)], [("A", 30.0)]),
        ([("A", 10), ("out", 2), ("A", 10)], [("A", 22.0)]),  # gap 2 s < 3 s: one visit
        ([("A", 10), ("out", 3), ("A", 10)], [("A", 10.0), ("A", 10.0)]),  # gap 3 s: re-entry
        ([("A", 10), ("gap", 2), ("A", 10)], [("A", 22.0)]),  # a short tracking gap joins too
        ([("A", 10), ("gap", 5), ("A", 10)], [("A", 10.0), ("A", 10.0)]),
        ([("A", 3), ("out", 1), ("A", 3)], [("A", 7.0)]),  # two short stays join into a counted visit
        (
            [("A", 10), ("out", 60), ("A", 20), ("out", 60), ("A", 4)],
            [("A", 10.0), ("A", 20.0)],
        ),  # re-entries
        ([("A", 10), ("HV", 10)], [("A", 10.0), ("HV", 10.0)]),
    ],
)
def test_visit_hysteresis(store, steps, expected):
    conn = store({1: path(*steps)} if steps else {})
    assert [(z, d) for _, z, d in visits(conn)] == expected


@pytest.mark.parametrize(
    ("analytics", "expected"),
    [
        ({"merge_gap_s": 5}, [("A", 23.0)]),
        ({"merge_gap_s": 1}, [("A", 10.0), ("A", 10.0)]),
        ({"min_dwell_s": 12}, []),
        ({"min_dwell_s": 12, "merge_gap_s": 5}, [("A", 23.0)]),
    ],
)
def test_visit_settings(store, analytics, expected):
    conn = store({1: path(("A", 10), ("out", 3), ("A", 10))}, analytics=analytics)
    assert [(z, d) for _, z, d in visits(conn)] == expected


def test_analyse_is_idempotent(store):
    from zones_testkit import make_config

    import zones

    conn = store({1: path(("In", 2), ("A", 30), ("out", 10), ("HV", 20)), 2: path(("A", 8))})
    first = conn.execute("SELECT * FROM zone_visits ORDER BY visit_id").fetchall()
    zones.analyse(conn, make_config())
    assert conn.execute("SELECT * FROM zone_visits ORDER BY visit_id").fetchall() == first
    assert len(first) == 4
