"""Store setup: cameras and their calibration, zones drawn on the floor plan or a camera frame, YAML."""

from __future__ import annotations

from datetime import datetime, time

import numpy as np
import streamlit as st

from dashboard import auth, charts, data, evidence, setup, ui
from pipeline.config import ZONE_KINDS
from pipeline.errors import ConfigError, UserError

ctx = ui.context()
base = data.data_dir()
st.title("Store setup")
if not auth.require_admin("Changing the store setup"):  # viewers may look, not change
    st.stop()


def save(config, message: str) -> None:
    data.save_store_config(ctx.db, config)
    st.session_state["setup_saved"] = message
    st.rerun()


if msg := st.session_state.pop("setup_saved", None):
    st.success(msg + " Analytics use the new setup after re-analysis.")
if ctx.config is not None and st.button(
    "Re-analyse with this setup",
    key="reanalyse",
    disabled=ui.job_manager().active(ctx.db),
    help="Rebuild zones, visits, metrics and flags in the background (the dashboard stays usable).",
):
    ui.job_manager().submit(data.connection(ctx.db), ctx.db, ctx.config)  # no videos: re-analyse only
    st.toast("Re-analysis queued: pages refresh when it finishes.")

with st.expander("New store (a new, empty database)", expanded=False), st.form("new_store_db"):
    st.caption(
        f"Creates `<name>.duckdb` in {base} with one camera to rename, and switches the dashboard to it. "
        "The database open now is left as it is."
    )
    c1, c2, c3 = st.columns([2, 1, 1])
    new_name = c1.text_input("Store name", key="new_db_name")
    new_width = c2.number_input("Floor width (m)", min_value=0.0, value=20.0, key="new_db_width")
    new_height = c3.number_input("Floor depth (m)", min_value=0.0, value=12.0, key="new_db_height")
    if st.form_submit_button("Create store database"):
        try:
            db = data.create_store_db(setup.new_store(new_name, new_width or None, new_height or None, base))
            ui.switch_database(db, f"Store {new_name.strip()!r} created in {db}.")
        except (ConfigError, UserError) as exc:
            st.error(f"Not created: {exc}")

config = ctx.config
if config is None:
    st.info("This database has no store yet. Create one, or import a YAML config below.")
    with st.form("new_store"):
        name = st.text_input("Store name", key="store_name")
        c1, c2 = st.columns(2)
        width = c1.number_input("Floor width (m)", min_value=0.0, value=20.0, key="store_width")
        height = c2.number_input("Floor depth (m)", min_value=0.0, value=12.0, key="store_height")
        if st.form_submit_button("Create store", type="primary"):
            try:
                save(setup.new_store(name, width or None, height or None, base), "Store created.")
            except ConfigError as exc:
                st.error(str(exc))

# Keyed tabs keep the user's tab across the rerun after a save; only the open tab's content runs.
cams_tab, zones_tab, yaml_tab = st.tabs(
    ["Cameras", "Zones", "Import / export YAML"], key="setup_tab", on_change="rerun"
)

# -- YAML ------------------------------------------------------------------------------------------
if yaml_tab.open:
    with yaml_tab:
        if config is not None:
            st.download_button(
                "Download store config (YAML)",
                data.config_yaml(config),
                file_name="store.yaml",
                mime="application/x-yaml",
                key="yaml_download",
            )
        uploaded = st.file_uploader("Import a store config (YAML)", type=["yaml", "yml"], key="yaml_upload")
        text = st.text_area("…or paste YAML", height=200, key="yaml_text")
        if st.button("Validate and import", key="yaml_import"):
            source = uploaded.getvalue().decode("utf-8", errors="replace") if uploaded is not None else text
            try:
                save(data.config_from_yaml(source), "Store config imported.")
            except ConfigError as exc:
                st.error(f"Not imported: {exc}")

if config is None:
    st.stop()

# -- cameras ---------------------------------------------------------------------------------------
if cams_tab.open:
    with cams_tab:
        st.dataframe(
            [
                {
                    "camera": c.name,
                    "start time": c.start_time,
                    "calibrated": c.homography is not None,
                    "video": c.video.name if c.video else "",
                }
                for c in config.cameras
            ],
            hide_index=True,
            key="cameras_table",
        )
        names = [c.name for c in config.cameras]
        pick = st.selectbox("Camera", ["+ New camera", *names], key="camera_pick")
        cam = None if pick not in names else config.camera(pick)
        c1, c2, c3 = st.columns(3)
        cam_name = c1.text_input("Name", value=cam.name if cam else "", key=f"cam_name::{pick}")
        start = cam.start_time if cam else datetime.combine(datetime.now().date(), time(9))
        cam_day = c2.date_input(
            "Footage start date", value=start.date(), min_value=setup.FOOTAGE_MIN_DAY, key=f"cam_day::{pick}"
        )
        cam_clock = c3.time_input("Footage start time", value=start.time(), key=f"cam_time::{pick}")
        method = st.radio(
            "Calibration (image → floor)",
            ["None", "Paste matrix", "Click point pairs"],
            horizontal=True,
            index=1 if cam is not None and cam.homography is not None else 0,
            key=f"cal_method::{pick}",
        )
        homography = None
        try:
            if method == "Paste matrix":
                default = "" if cam is None or cam.homography is None else setup.points_text(cam.homography)
                homography = setup.parse_matrix(
                    st.text_area("3×3 homography, image px → floor m", value=default, key=f"matrix::{pick}")
                )
            elif method == "Click point pairs":
                pairs_key = f"pairs::{pick}"
                st.caption(
                    f"Click a point in the camera frame, then the same point on the floor plan; repeat for at least "
                    f"{setup.MIN_PAIRS} points spread over the floor. Or type pairs, one `u, v, x, y` per line."
                )
                width, height = ui.camera_size(ctx.db, pick)
                background = evidence.camera_background(ctx.db, pick) if cam else None

                def picked_image() -> None:
                    pts = st.session_state[f"img_click::{pick}"]["selection"]["points"]
                    if pts:
                        st.session_state[f"pending::{pick}"] = (pts[-1]["x"], pts[-1]["y"])

                def picked_floor() -> None:
                    pts = st.session_state[f"floor_click::{pick}"]["selection"]["points"]
                    uv = st.session_state.pop(f"pending::{pick}", None)
                    if pts and uv is not None:
                        line = f"{uv[0]:g}, {uv[1]:g}, {pts[-1]['x']:g}, {pts[-1]['y']:g}"
                        st.session_state[pairs_key] = (
                            st.session_state.get(pairs_key, "").rstrip() + "\n" + line
                        ).strip()

                pairs = setup.parse_rows(st.session_state.get(pairs_key, ""), 4, "point pairs")
                left, right = st.columns(2)
                left.plotly_chart(
                    charts.click_canvas(
                        width,
                        height,
                        max(width, height) / 64,
                        "Camera frame (faces blurred)",
                        background,
                        picked=pairs[:, :2],
                        image_space=True,
                    ),
                    key=f"img_click::{pick}",
                    on_select=picked_image,
                    selection_mode="points",
                )
                plan = config.floor_plan
                right.plotly_chart(
                    charts.click_canvas(
                        plan.width if plan else 20,
                        plan.height if plan else 12,
                        0.25,
                        "Floor plan (m)",
                        picked=pairs[:, 2:],
                    ),
                    key=f"floor_click::{pick}",
                    on_select=picked_floor,
                    selection_mode="points",
                )
                if st.session_state.get(f"pending::{pick}"):
                    st.info("Now click the matching point on the floor plan.")
                st.text_area("Point pairs (u, v, x, y)", key=pairs_key, height=120)
                pairs = setup.parse_rows(st.session_state.get(pairs_key, ""), 4, "point pairs")
                if len(pairs):
                    homography, err = setup.homography_from_pairs(pairs)
                    st.success(f"Calibrated from {len(pairs)} pairs: mean reprojection error {err:.2f} m.")
        except ConfigError as exc:
            st.error(str(exc))
            homography = "invalid"
        c1, c2 = st.columns([1, 5])
        if c1.button("Save camera", type="primary", key="save_camera", disabled=isinstance(homography, str)):
            try:
                new = setup.upsert_camera(
                    config,
                    cam_name,
                    datetime.combine(cam_day, cam_clock),
                    None if isinstance(homography, str) else homography,
                    base,
                    previous_name=cam.name if cam else None,
                )
                save(new, f"Camera {cam_name.strip()!r} saved.")
            except ConfigError as exc:
                st.error(str(exc))
        if cam is not None and c2.button("Remove camera", key="remove_camera"):
            try:
                save(setup.remove_camera(config, cam.name, base), f"Camera {cam.name!r} removed.")
            except ConfigError as exc:
                st.error(str(exc))

# -- zones -----------------------------------------------------------------------------------------
if zones_tab.open:
    with zones_tab:
        zone_names = [z.name for z in config.zones]
        pick = st.selectbox("Zone", ["+ New zone", *zone_names], key="zone_pick")
        zone = next((z for z in config.zones if z.name == pick), None)
        points_key = f"zone_points::{pick}"
        if points_key not in st.session_state:
            st.session_state[points_key] = setup.points_text(zone.polygon) if zone else ""
        c1, c2, c3 = st.columns(3)
        zone_name = c1.text_input("Zone name", value=zone.name if zone else "", key=f"zone_name::{pick}")
        kinds = c2.multiselect(
            "Kinds",
            list(ZONE_KINDS),
            default=list(zone.kinds) if zone else ["section"],
            key=f"zone_kinds::{pick}",
        )
        spaces = ["Floor plan (metres)", *[c.name for c in config.cameras]]
        space = c3.selectbox(
            "Drawn on",
            spaces,
            index=spaces.index(zone.camera) if zone and zone.camera else 0,
            key=f"zone_space::{pick}",
        )
        camera = None if space == spaces[0] else space

        def picked_vertex() -> None:
            pts = st.session_state[f"zone_click::{pick}::{space}"]["selection"]["points"]
            if pts:
                line = f"{pts[-1]['x']:g}, {pts[-1]['y']:g}"
                st.session_state[points_key] = (st.session_state[points_key].rstrip() + "\n" + line).strip()

        try:
            current = setup.parse_rows(st.session_state[points_key], 2, "polygon")
        except ConfigError:
            current = np.zeros((0, 2))
        others = {z.name: z.polygon for z in config.zones if z.camera == camera and z.name != pick}
        if camera is None:
            plan = config.floor_plan
            fig = charts.click_canvas(
                plan.width if plan else 20,
                plan.height if plan else 12,
                0.25,
                "Click the floor plan to add vertices",
                polygons=others,
                colours=ui.zone_colours(ctx),
                picked=current,
            )
        else:
            width, height = ui.camera_size(ctx.db, camera)
            fig = charts.click_canvas(
                width,
                height,
                max(width, height) / 64,
                f"Click {camera}'s frame to add vertices",
                evidence.camera_background(ctx.db, camera),
                polygons=others,
                colours=ui.zone_colours(ctx),
                picked=current,
                image_space=True,
            )
        st.plotly_chart(
            fig, key=f"zone_click::{pick}::{space}", on_select=picked_vertex, selection_mode="points"
        )
        st.text_area(
            "Polygon vertices, one `x, y` per line (metres on the floor plan, pixels on a camera frame)",
            key=points_key,
            height=140,
        )
        c1, c2, c3 = st.columns([1, 1, 4])
        if c1.button("Save zone", type="primary", key="save_zone"):
            try:
                points = setup.parse_rows(st.session_state[points_key], 2, "polygon")
                new = setup.upsert_zone(
                    config, zone_name, kinds, points, camera, base, previous_name=zone.name if zone else None
                )
                st.session_state.pop(points_key, None)
                save(new, f"Zone {zone_name.strip()!r} saved.")
            except ConfigError as exc:
                st.error(f"Zone not saved: {exc}")
        c2.button("Clear points", key="clear_points", on_click=lambda: st.session_state.pop(points_key, None))
        if zone is not None and c3.button("Remove zone", key="remove_zone"):
            save(setup.remove_zone(config, zone.name, base), f"Zone {zone.name!r} removed.")
