"""Overview: the period's KPIs against the previous period, hourly traffic and occupancy."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
st.title("Overview")
st.caption(
    f"{ctx.config.name if ctx.config else 'Store'} · {ui.period_label(ctx)} · compared with the period before"
)
if not ui.require_analytics(ctx):
    st.stop()

now = data.kpis(ctx.db, ctx.start, ctx.end)
before = data.kpis(ctx.db, *data.previous_period(ctx.start, ctx.end))
had_before = before.visitors > 0


def delta(a: float | None, b: float | None, fmt) -> dict:
    return ui.delta(a, b, fmt) if had_before else {"delta": None}


# Two rows of three: six tiles in one row cut values and labels short ("30.1 …", "Reached check…").
cols = [*st.columns(3), *st.columns(3)]
cols[0].metric("Visitors", f"{now.visitors:,}", **delta(now.visitors, before.visitors, lambda d: f"{d:+,}"))
cols[1].metric(
    "Median time in store",
    ui.minutes(now.median_time_in_store_s),
    **delta(now.median_time_in_store_s, before.median_time_in_store_s, lambda d: f"{d / 60:+.1f} min"),
)
cols[2].metric(
    "Busiest hour",
    "–" if now.busiest_hour is None else f"{now.busiest_hour:%H:00}",
    None if now.busiest_hour_visitors is None else f"{now.busiest_hour_visitors} visitors",
    delta_color="off",
    delta_arrow="off",
)
if now.has_checkout:
    cols[3].metric(
        "Reached checkout",
        ui.percent(now.checkout_share),
        **delta(now.checkout_share, before.checkout_share, lambda d: f"{d * 100:+.1f} pp"),
        help="Share of visitors (staff excluded) with a visit to a till zone.",
    )
else:
    cols[3].metric(
        "Reached checkout",
        "–",
        "no checkout zone",
        delta_color="off",
        delta_arrow="off",
        help="This store has no zone of kind *checkout*: draw one around the tills on **Store setup**.",
    )
cols[4].metric(
    "Conversion",
    ui.percent(now.conversion, 1),
    **delta(now.conversion, before.conversion, lambda d: f"{d * 100:+.1f} pp"),
    help="Sales transactions / visitors. Shows – until sales are imported (`python -m pipeline import-sales`).",
)
cols[5].metric(
    "Open flags", now.open_flags, help="Leads awaiting review on the Flags page.", delta_color="off"
)

hourly = data.hourly(ctx.db, ctx.start, ctx.end)
st.plotly_chart(charts.hourly_traffic(hourly, data.hourly_previous(ctx.db, ctx.start, ctx.end)), key="hourly")
st.plotly_chart(charts.occupancy_chart(data.occupancy(ctx.db, ctx.start, ctx.end)), key="occupancy")
