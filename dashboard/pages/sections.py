"""Sections: dwell, visitors and entry rate per section, and the hour-by-section matrix."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
st.title("Sections")
st.caption(ui.period_label(ctx) + " · staff excluded")
if not ui.require_analytics(ctx):
    st.stop()

sections = data.sections(ctx.db, ctx.start, ctx.end)
colours = ui.zone_colours(ctx)
left, right = st.columns(2)
left.plotly_chart(charts.dwell_bars(sections, colours), key="dwell_bars")
right.plotly_chart(
    charts.dwell_distribution(data.dwell_samples(ctx.db, ctx.start, ctx.end), colours), key="dwell_dist"
)
left, right = st.columns(2)
left.plotly_chart(charts.visitors_bars(sections, colours), key="visitors_bars")
with right:
    st.markdown("**Per section**")
    st.dataframe(
        sections[
            [
                "zone",
                "visitors",
                "visits",
                "entry_rate",
                "dwell_mean_s",
                "dwell_median_s",
                "dwell_p90_s",
                "bounce_rate",
            ]
        ],
        hide_index=True,
        key="sections_table",
        column_config={
            "zone": "Section",
            "visitors": "Visitors",
            "visits": "Visits",
            "entry_rate": st.column_config.NumberColumn(
                "Entry rate",
                format="percent",
                help="Share of the store's visitors who came into this section.",
            ),
            "dwell_mean_s": st.column_config.NumberColumn(
                "Average stay (s)", format="%.0f", help="Mean time per visit (dwell_mean_s)."
            ),
            "dwell_median_s": st.column_config.NumberColumn(
                "Typical stay (s)",
                format="%.0f",
                help="Half of the visits were shorter (median, dwell_median_s).",
            ),
            "dwell_p90_s": st.column_config.NumberColumn(
                "Long stay (s)",
                format="%.0f",
                help="9 in 10 visits were shorter than this (p90, dwell_p90_s).",
            ),
            "bounce_rate": st.column_config.NumberColumn(
                "Bounce rate", format="percent", help="Share of visits shorter than the store's bounce time."
            ),
        },
    )
    if sections["days"].max() > 1 if len(sections) else False:
        st.caption(
            "Several days: typical and long stays are per-day figures, so they are shown for one-day periods only."
        )
value = st.radio("Matrix value", ["visitors", "visits"], horizontal=True, key="matrix_value")
st.plotly_chart(
    charts.hour_by_section(data.section_hourly(ctx.db, ctx.start, ctx.end), value), key="hour_matrix"
)
