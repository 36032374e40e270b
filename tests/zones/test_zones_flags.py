"""Each suspicious-behaviour rule with positive and negative cases; staff handling; reviews survive."""

from __future__ import annotations

import json

import pytest
from zones_testkit import make_config, path

import zones
from pipeline.db.shoppers import set_manual_staff
from pipeline.errors import UserError

WALK = ("out", 5)


def _flags(conn) -> list[tuple[int, str]]:
    return conn.execute("SELECT shopper_id, rule FROM flags ORDER BY shopper_id, rule").fetchall()


@pytest.mark.parametrize(
    ("rule", "steps", "flags_cfg", "flagged"),
    [
        ("long_dwell", [("HV", 400), WALK, ("Till", 30)], {}, True),
        ("long_dwell", [("HV", 250), WALK, ("Till", 30)], {}, False),  # under 300 s; too few visits for p95
        ("long_dwell", [("HV", 250), WALK, ("Till", 30)], {"long_dwell": {"threshold_s": 200}}, True),
        ("long_dwell", [("A", 900), WALK, ("Till", 30)], {}, False),  # not a high-value zone
        ("repeated_returns", [("HV", 10), ("out", 10)] * 3 + [("Till", 30)], {}, True),
        ("repeated_returns", [("HV", 10), ("out", 10)] * 2 + [("Till", 30)], {}, False),
        ("repeated_returns", [("HV", 10), ("out", 2)] * 3 + [("Till", 30)], {}, False),  # short exits join
        (
            "repeated_returns",
            [("HV", 10), ("out", 10)] * 2 + [("Till", 30)],
            {"repeated_returns": {"min_visits": 2}},
            True,
        ),
        ("checkout_bypass", [("In", 2), ("HV", 30), WALK, ("Out", 2)], {}, True),
        ("checkout_bypass", [("In", 2), ("HV", 30), WALK, ("Till", 30), WALK, ("Out", 2)], {}, False),
        (
            "checkout_bypass",
            [("In", 2), ("HV", 30), WALK, ("Queue", 30), WALK, ("Out", 2)],
            {},
            True,
        ),  # queue only
        ("checkout_bypass", [("In", 2), ("A", 30), WALK, ("Out", 2)], {}, False),  # no high-value visit
        (
            "checkout_bypass",
            [("Till", 30), WALK, ("HV", 30), WALK, ("Out", 2)],
            {},
            True,
        ),  # paid before, not after
        (
            "checkout_bypass",
            [("In", 2), ("HV", 30), WALK, ("Out", 2)],
            {"checkout_bypass": {"enabled": False}},
            False,
        ),
        ("restricted_entry", [("Stock", 10)], {}, True),
        ("restricted_entry", [("Staff", 10)], {}, True),
        ("restricted_entry", [("Stock", 3)], {}, False),  # under the 5 s minimum dwell
        ("restricted_entry", [("Stock", 10)], {"restricted_entry": {"min_s": 20}}, False),
        ("loitering", [("In", 100), ("A", 20)], {}, True),
        ("loitering", [("In", 60), ("A", 20)], {}, False),
        ("loitering", [("Out", 95)], {}, True),
        ("loitering", [("Out", 95)], {"loitering": {"threshold_s": 120}}, False),
    ],
)
def test_rule(store, rule, steps, flags_cfg, flagged):
    conn = store({7: path(*steps)}, flags=flags_cfg)
    assert ((7, rule) in _flags(conn)) is flagged


@pytest.mark.parametrize("rule", ["long_dwell", "loitering"])
def test_a_zero_threshold_flags_every_visit_with_a_finite_score(store, rule):
    zone = "HV" if rule == "long_dwell" else "In"
    conn = store(
        {7: path((zone, 20), WALK, ("Till", 30))},
        flags={rule: {"threshold_s": 0, "use_p95": False} if rule == "long_dwell" else {"threshold_s": 0}},
    )
    ((score,),) = conn.execute("SELECT score FROM flags WHERE rule = ?", [rule]).fetchall()
    assert 0 < score < float("inf")


def test_long_dwell_uses_zone_p95(store):
    # 25 ordinary visits of 20 s and one of 200 s: p95 is low, so the 200 s visit (>= p95_min_s 180) is flagged
    shoppers = {i: path(("HV", 20), WALK, ("Till", 30)) for i in range(1, 26)}
    shoppers[99] = path(("HV", 200), WALK, ("Till", 30))
    conn = store(shoppers)
    assert _flags(conn) == [(99, "long_dwell")]
    conn = store(shoppers, flags={"long_dwell": {"use_p95": False}})
    assert _flags(conn) == []


def test_staff_are_not_flagged_and_zone_rule_marks_staff(store):
    shoppers = {
        1: path(("Stock", 30), WALK, ("HV", 400)),  # manual staff: never flagged
        2: path(("Staff", 150), WALK, ("Stock", 30)),  # > 120 s in staff_only: zone rule marks staff
        3: path(("Staff", 60), WALK, ("Stock", 30)),  # too short for the rule: flagged twice
    }
    conn = store(shoppers, staff={1: "manual"})
    assert _flags(conn) == [(3, "restricted_entry"), (3, "restricted_entry")]
    staff = conn.execute("SELECT shopper_id, is_staff, staff_source FROM shoppers ORDER BY 1").fetchall()
    assert staff == [(1, True, "manual"), (2, True, "zone_rule"), (3, False, None)]
    # the rule never overrides a manual mark, and re-analysis with a higher threshold undoes its own marks
    zones.analyse(conn, make_config(analytics={"staff_zone_s": 1000}))
    staff = conn.execute("SELECT shopper_id, is_staff, staff_source FROM shoppers ORDER BY 1").fetchall()
    assert staff == [(1, True, "manual"), (2, False, None), (3, False, None)]
    assert (2, "restricted_entry") in _flags(conn)
    # nor a manual "not staff": someone a manager unmarked stays a shopper whatever the rule says
    set_manual_staff(conn, 2, False)
    zones.analyse(conn, make_config())
    staff = conn.execute("SELECT shopper_id, is_staff, staff_source FROM shoppers ORDER BY 1").fetchall()
    assert staff == [(1, True, "manual"), (2, False, "manual"), (3, False, None)]


def test_flag_evidence_and_reviews_survive_reanalysis(store):
    conn = store({5: path(("In", 2), ("HV", 30), WALK, ("Out", 2))})
    key, evidence = conn.execute(
        "SELECT flag_key, evidence FROM flags WHERE rule = 'checkout_bypass'"
    ).fetchone()
    ev = json.loads(evidence)
    assert [z["zone"] for z in ev["zones"]] == ["HV", "Out"]
    assert (
        ev["cameras"][0]["camera"] == "cam1"
        and ev["cameras"][0]["first_frame"] <= ev["cameras"][0]["last_frame"]
    )
    zones.set_flag_review(conn, key, "dismissed", note="paid at the kiosk", reviewer="ana")
    zones.analyse(conn, make_config())
    row = conn.execute("SELECT review_state, review_note, reviewer FROM flags_reviewed WHERE flag_key = ?",
                       [key]).fetchone()  # fmt: skip
    assert row == ("dismissed", "paid at the kiosk", "ana")


@pytest.mark.parametrize(
    ("key", "state", "error"), [("nope", "confirmed", "no flag"), (None, "maybe", "review state")]
)
def test_set_flag_review_errors(store, key, state, error):
    conn = store({5: path(("Stock", 10))})
    key = key or conn.execute("SELECT flag_key FROM flags").fetchone()[0]
    with pytest.raises(UserError, match=error):
        zones.set_flag_review(conn, key, state)
