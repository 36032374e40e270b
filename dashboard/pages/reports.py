"""Reports: CSV exports for a period and a set of zones, one by one or all in a ZIP."""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui

DESCRIPTIONS = {
    "visits": "every zone visit",
    "section_metrics": "per section and day",
    "section_hourly": "per section and hour",
    "store_hourly": "store traffic per hour",
    "occupancy": "people in store per minute",
    "queue_waits": "every queue wait",
    "queue_hourly": "queues per hour",
    "flags": "flags with their reviews",
    "shoppers": "per shopper",
    "conversion_hourly": "sales conversion per hour",
    "heatmap_floor": "floor heatmap cells",
    "paths": "zone transitions",
    "sequences": "top zone sequences",
}

ctx = ui.context()
st.title("Reports")
if not ui.require_analytics(ctx):
    st.stop()

zone_names = data.zones(ctx.db)["zone"].tolist()
picked = st.multiselect("Zones (empty: all)", zone_names, key="report_zones")
st.caption(f"Period: {ui.period_label(ctx)} (change it in the sidebar). Times are store-local ISO 8601.")
with st.spinner("Preparing exports…"):
    files = data.reports(ctx.db, ctx.start, ctx.end, tuple(picked))
if not files:
    st.info("Nothing to export for this period.")
    st.stop()
st.download_button(
    f"Download all ({len(files)} CSV files, ZIP)",
    data.reports_zip(ctx.db, ctx.start, ctx.end, tuple(picked)),
    file_name=f"shopper-reports_{ctx.start_day}_{ctx.end_day}.zip",
    mime="application/zip",
    type="primary",
    key="download_zip",
)
for name, content in files.items():
    stem = name.removesuffix(".csv")
    rows = max(content.count(b"\n") - 1, 0)
    c1, c2 = st.columns([3, 1])
    c1.markdown(f"**{name}** — {DESCRIPTIONS.get(stem, '')} ({rows:,} rows)")
    c2.download_button("Download", content, file_name=name, mime="text/csv", key=f"download_{stem}")
