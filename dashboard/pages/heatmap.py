"""Heatmap: where shoppers spend time, on the floor plan (with zones) and in each camera's view."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import charts, data, evidence, ui

ctx = ui.context()
st.title("Heatmap")
if not ui.require_analytics(ctx):
    st.stop()

window = st.slider(
    "Time range",
    min_value=ctx.start,
    max_value=ctx.end,
    value=(ctx.start, ctx.end),
    step=timedelta(hours=1),
    format="MM-DD HH:mm",
    key="heatmap_window",
    help="Whole hours within the sidebar period.",
)
start, end = window if window[1] > window[0] else (window[0], window[0] + timedelta(hours=1))
plan = ctx.config.floor_plan if ctx.config else None
zones = data.zones(ctx.db)

floor_tab, camera_tab = st.tabs(["Floor plan", "Cameras"])
with floor_tab:
    cells = data.heatmap_floor(ctx.db, start, end)
    st.plotly_chart(
        charts.floor_heatmap(
            cells,
            zones,
            plan.width if plan else None,
            plan.height if plan else None,
            f"Shopper-minutes per {cells['cell_m'].iloc[0] if len(cells) else '–'} m cell",
        ),
        key="floor_heatmap",
    )
    st.caption(
        f"{len(cells):,} cells · {cells['shopper_seconds'].sum() / 3600 if len(cells) else 0:,.1f} shopper-hours · staff excluded"
    )

with camera_tab:
    cams = data.cameras(ctx.db)
    if cams.empty:
        st.info("No cameras in this database yet.")
    else:
        camera = st.selectbox("Camera", cams["name"].tolist(), key="heatmap_camera")
        row = cams.set_index("name").loc[camera]
        cells = data.heatmap_camera(ctx.db, camera, start, end)
        path, frame, people = data.camera_frame(ctx.db, camera)
        background = evidence.blurred_frame(path, frame, people)
        width = (
            int(row["width"])
            if row["width"] == row["width"] and row["width"]
            else int(cells["u_px"].max() + 40 if len(cells) else 640)
        )
        height = (
            int(row["height"])
            if row["height"] == row["height"] and row["height"]
            else int(cells["v_px"].max() + 40 if len(cells) else 480)
        )
        st.plotly_chart(
            charts.camera_heatmap(
                cells, width, height, background, f"{camera}: shopper-minutes per image cell"
            ),
            key="camera_heatmap",
        )
        if background is None:
            st.caption("No footage file available for this camera: the heatmap is drawn on a blank frame.")
        else:
            st.caption("Representative frame with every face blurred.")
