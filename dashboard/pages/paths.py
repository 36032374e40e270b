"""Paths: how shoppers move between zones (Sankey, top sequences, transition matrix)."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ctx = ui.context()
st.title("Paths")
st.caption(ui.period_label(ctx) + " · staff excluded · repeated visits to the same zone count once")
if not ui.require_analytics(ctx):
    st.stop()

steps = st.slider("Steps in the flow diagram", 2, 10, 6, key="sankey_steps")
tables = data.paths_tables(ctx.db, ctx.start, ctx.end, top=20, steps=steps)
st.plotly_chart(charts.sankey(tables["sankey"], ui.zone_colours(ctx)), key="sankey")
st.caption("Staff rooms and restricted areas are left out of the flow diagram (they are not shopper flow).")
left, right = st.columns([1, 1])
with left:
    st.subheader("Top zone sequences")
    st.dataframe(
        tables["sequences"],
        hide_index=True,
        key="sequences",
        column_config={
            "rank": "#",
            "sequence": "Sequence",
            "n_zones": "Zones",
            "shoppers": "Shoppers",
            "share": st.column_config.NumberColumn("Share", format="percent"),
        },
    )
with right:
    st.plotly_chart(charts.transition_matrix(tables["transitions"]), key="transition_matrix")
