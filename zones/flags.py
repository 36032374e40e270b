"""Suspicious-behaviour flags: leads for human review, never accusations.

Rules (parameters in the store config's ``flags:``, defaults in ``pipeline.store.rules.FLAG_DEFAULTS``), all over
non-staff shoppers' counted visits:

* ``long_dwell``: a high_value visit longer than its limit: ``threshold_s``, or, when ``use_p95`` and the zone
  has at least ``p95_min_visits`` visits, the zone's p95 dwell if that is lower (but never below ``p95_min_s``).
  Score = dwell / limit.
* ``repeated_returns``: ``min_visits`` or more separate visits (see ``zones.visits``) to one high_value zone.
  Score = visits / min_visits.
* ``checkout_bypass``: a high_value visit followed by an exit visit with no till visit in between. Score 1.
* ``restricted_entry``: a visit of at least ``min_s`` to a restricted or staff_only zone. Score 1.
* ``loitering``: an entrance/exit visit of at least ``threshold_s``. Score = dwell / threshold.
* ``pose_concealment`` (experimental): see ``zones.pose``. Score = duration / min_s.

Each flag has a stable ``flag_key`` (hash of rule, shopper, zone and start time), so a review stored with
:func:`set_flag_review` (table ``flag_reviews``) survives re-analysis.
"""

from __future__ import annotations

from typing import Any

import duckdb

from pipeline.db.analytics import flags as flags_sql
from pipeline.errors import UserError
from pipeline.store.rules import FlagRules

REVIEW_STATES = ("new", "confirmed", "dismissed")


def rule_params(rules: FlagRules) -> dict[str, dict[str, Any]]:
    """Named SQL parameters (``$threshold_s`` ...) of each enabled SQL rule: its ``flags:`` settings.

    ``pose_concealment`` runs in numpy (see ``zones.pose``).
    """
    return {
        name: {key: value for key, value in rules[name].items() if key != "enabled"}
        for name in ("long_dwell", "repeated_returns", "checkout_bypass", "restricted_entry", "loitering")
        if rules.enabled(name)
    }


def set_flag_review(
    conn: duckdb.DuckDBPyConnection,
    flag_key: str,
    state: str,
    note: str | None = None,
    reviewer: str | None = None,
) -> None:
    """Record a review of flag ``flag_key``: ``state`` is new, confirmed or dismissed.

    Raises:
        UserError: unknown state or unknown flag.
    """
    if state not in REVIEW_STATES:
        raise UserError(f"review state must be one of {', '.join(REVIEW_STATES)}, but got {state!r}")
    if not flags_sql.flag_exists(conn, flag_key):
        raise UserError(f"no flag with key {flag_key!r}; run `python -m pipeline analyse` first")
    flags_sql.upsert_flag_review(conn, flag_key, state, note, reviewer)
