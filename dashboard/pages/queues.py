"""Queues: queue length and wait time at each checkout over the day."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
st.title("Queues")
st.caption(ui.period_label(ctx))
if not ui.require_analytics(ctx):
    st.stop()

q = data.queues(ctx.db, ctx.start, ctx.end)
st.plotly_chart(charts.queue_lengths(q["minute"]), key="queue_lengths")
st.plotly_chart(charts.queue_waits(q["hourly"]), key="queue_waits")
st.subheader("Per checkout and hour")
st.dataframe(
    q["hourly"],
    hide_index=True,
    key="queue_table",
    column_config={
        "checkout": "Checkout",
        "hour": st.column_config.DatetimeColumn("Hour", format="DD MMM HH:00"),
        "waits": "Waits",
        "served": "Served",
        "wait_p50_s": st.column_config.NumberColumn(
            "Typical wait (s)", format="%.0f", help="Half of the waits were shorter (median, wait_p50_s)."
        ),
        "wait_p90_s": st.column_config.NumberColumn(
            "Long wait (s)", format="%.0f", help="9 in 10 waits were shorter than this (p90, wait_p90_s)."
        ),
        "mean_length": st.column_config.NumberColumn("Mean queue", format="%.1f"),
        "max_shoppers": "Max in queue",
    },
)
