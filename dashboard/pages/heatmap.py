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
            f"Minutes shoppers spent in each {cells['cell_m'].iloc[0] if len(cells) else '–'} m square",
            ui.zone_colours(ctx),
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
        # cameras with processed footage first: the default choice has something to show
        cams = cams.sort_values(["videos", "name"], ascending=[False, True])
        camera = st.selectbox("Camera", cams["name"].tolist(), key="heatmap_camera")
        row = cams.set_index("name").loc[camera]
        cells = data.heatmap_camera(ctx.db, camera, start, end)
        path, frame, people = data.camera_frame(ctx.db, camera)
        background = evidence.blurred_frame(path, frame, people)
        width, height = ui.image_size(row["width"], row["height"], cells)
        st.plotly_chart(
            charts.camera_heatmap(
                cells, width, height, background, f"{camera}: minutes shoppers spent in each part of the view"
            ),
            key="camera_heatmap",
        )
        if not row["videos"]:
            st.caption("No footage processed for this camera yet.")
        elif background is None:
            st.caption("No footage file available for this camera: the heatmap is drawn on a blank frame.")
        else:
            st.caption("Representative frame with every face blurred.")
