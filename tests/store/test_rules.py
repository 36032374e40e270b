"""``analytics:`` and ``flags:`` settings: defaults and validation errors naming the key."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.store.rules import ANALYTICS_DEFAULTS, parse_analytics, parse_flags


def test_defaults():
    a = parse_analytics(None)
    assert (a.min_dwell_s, a.merge_gap_s, a.bounce_s) == (5.0, 3.0, 10.0)
    assert a.min_dwell_for(("entrance",)) == 0.0 and a.min_dwell_for(("section",)) == 5.0
    f = parse_flags({})
    assert f.enabled("pose_concealment") and f["repeated_returns"]["min_visits"] == 3


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"min_dwel_s": 5}, "unknown key.*min_dwel_s"),
        ({"merge_gap_s": -1}, "analytics.merge_gap_s must be a number >= 0"),
        ({"heatmap_cell_m": 0}, "analytics.heatmap_cell_m must be a number > 0"),
        ({"bounce_s": "ten"}, "analytics.bounce_s"),
        ({"top_sequences": 2.5}, "analytics.top_sequences must be an integer"),
        ({"min_dwell_by_kind": {"aisle": 1}}, "unknown zone kind"),
        ({"queues": {"Till": "Nowhere"}}, "unknown zone 'Nowhere'"),
    ],
)
def test_analytics_errors(raw, error):
    with pytest.raises(ConfigError, match=error):
        parse_analytics(raw, {"Till"})


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"shoplifting": {}}, "flags: unknown key.*shoplifting"),
        ({"long_dwell": {"treshold_s": 1}}, "flags.long_dwell: unknown key"),
        ({"long_dwell": {"enabled": "yes"}}, "flags.long_dwell.enabled must be true or false"),
        (
            {"repeated_returns": {"min_visits": 0}},
            "flags.repeated_returns.min_visits must be an integer >= 1",
        ),
        ({"loitering": []}, "flags.loitering must be a mapping"),
    ],
)
def test_flag_errors(raw, error):
    with pytest.raises(ConfigError, match=error):
        parse_flags(raw)


def test_every_default_key_is_documented():
    assert set(ANALYTICS_DEFAULTS) >= {"min_dwell_s", "merge_gap_s", "bounce_s", "queues", "staff_zone_s"}
