"""Figure builders on the shapes short real footage gives (a few minutes in one hour)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts


def minutes(n: int) -> pd.DataFrame:
    ts = pd.date_range("2026-11-20 08:59", periods=n, freq="min")
    return pd.DataFrame({"minute": ts, "shoppers": range(1, n + 1), "staff": [0] * n})


@pytest.mark.parametrize(
    ("n", "trace", "dtick"),
    [
        (1, "bar", 60_000),  # one minute of footage: a bar, not a lone dot
        (3, "bar", 60_000),
        (charts.SHORT_FOOTAGE_MINUTES + 1, "scatter", None),
    ],
)
def test_occupancy_of_short_footage(n, trace, dtick):
    fig = charts.occupancy_chart(minutes(n))
    assert {t.type for t in fig.data} == {trace}
    assert fig.layout.xaxis.tickformat == "%H:%M"  # never 08:59:59.9995
    assert fig.layout.xaxis.dtick == dtick
    lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    assert hi - lo >= pd.Timedelta(minutes=1)


def test_occupancy_empty():
    fig = charts.occupancy_chart(minutes(0))
    assert not fig.data and "No analysed occupancy" in fig.layout.annotations[0].text


def test_one_hour_of_traffic_has_whole_hour_ticks():
    hourly = pd.DataFrame({"hour": [pd.Timestamp("2026-11-20 08:00")], "visitors": [4], "arrivals": [3]})
    fig = charts.hourly_traffic(hourly)
    assert fig.layout.xaxis.tickformat == "%H:%M" and fig.layout.xaxis.dtick == 3_600_000


def test_several_days_show_the_day():
    hourly = pd.DataFrame({
        "hour": pd.to_datetime(["2026-11-20 08:00", "2026-11-21 09:00"]), "visitors": [4, 5], "arrivals": [3, 2],
    })  # fmt: skip
    assert charts.hourly_traffic(hourly).layout.xaxis.tickformat == "%d %b %H:%M"


def test_sankey_one_colour_per_zone_one_column_per_step():
    edges = pd.DataFrame({
        "step": [1, 2, 2], "source": ["1. Entrance", "2. Bakery", "2. Produce"],
        "target": ["2. Bakery", "3. Produce", "3. Bakery"], "source_zone": ["Entrance", "Bakery", "Produce"],
        "target_zone": ["Bakery", "Produce", "Bakery"], "value": [5, 3, 1],
    })  # fmt: skip
    colours = charts.zone_colours(["Bakery", "Entrance", "Produce"])
    node = charts.sankey(edges, colours).data[0].node
    by_label = list(zip(node.label, node.color, node.x))
    assert {c for label, c, _ in by_label if label == "Bakery"} == {colours["Bakery"]}  # steps 2 and 3 alike
    assert sorted({round(x, 3) for _, _, x in by_label}) == [0.001, 0.5, 0.999]


def test_zone_colours_are_stable_and_distinct():
    a = charts.zone_colours(["Produce", "Bakery", "Entrance"])
    assert a == charts.zone_colours(["Entrance", "Produce", "Bakery", "Bakery"])
    assert len(set(a.values())) == 3
    assert charts.zone_colours([]) == {}
