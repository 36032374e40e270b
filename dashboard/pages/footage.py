"""Footage: upload videos, assign each to a camera and start time, process them in the background."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from dashboard import auth, data, setup, ui
from dashboard.jobs import upload_request, uploads_dir
from dashboard.uploads import UploadError, store_upload
from pipeline.autosize import AUTO
from pipeline.embedders import self_contained_embedders
from pipeline.errors import ConfigError
from pipeline.jobs import CANCELLED, DONE, FAILED, LOADING, LOCAL_RAY, RUNNING, SKIPPED, VideoRequest
from pipeline.track_settings import TrackSettings
from pipeline.video import VIDEO_SUFFIXES

# The detector sizes offered, in one place; "auto" (the default) picks one per video from its people.
IMGSZ_CHOICES = [AUTO, 320, 480, 640, 960, 1280]

ctx = ui.context()
manager = ui.job_manager()
st.title("Footage")
if not auth.require_admin("Uploading and processing footage"):  # viewers may look, not change
    st.stop()

if ctx.config is None:
    st.warning(
        "Set up the store first (cameras and zones) on the **Store setup** page, then upload footage here."
    )
    st.stop()

simulated = set(data.simulated_cameras(ctx.db))
camera_names = [c.name for c in ctx.config.cameras if c.name not in simulated]
if simulated:
    st.info(
        "This is the simulated demo store: its cameras have no real footage. Add a camera below for your own "
        "footage, or create a new store of your own on the **Store setup** page."
    )

with st.expander("Add a camera", expanded=not camera_names), st.form("add_camera"):
    c1, c2, c3 = st.columns(3)
    new_name = c1.text_input("Camera name", key="new_camera_name", placeholder="e.g. entrance")
    new_day = c2.date_input(
        "Footage start date", value=None, min_value=setup.FOOTAGE_MIN_DAY, key="new_camera_day"
    )
    new_clock = c3.time_input("Footage start time", value=time(9), key="new_camera_time")
    st.caption("Calibrate it and draw its zones on the **Store setup** page.")
    if st.form_submit_button("Add camera"):
        try:
            if new_day is None:
                raise ConfigError("pick the date the camera's footage starts")
            config = setup.upsert_camera(
                ctx.config, new_name, datetime.combine(new_day, new_clock), None, data.data_dir()
            )
            data.save_store_config(ctx.db, config)
            st.session_state["footage_saved"] = f"Camera {new_name.strip()!r} added."
            st.rerun()
        except ConfigError as exc:
            st.error(f"Camera not added: {exc}")
if msg := st.session_state.pop("footage_saved", None):
    st.success(msg)
if not camera_names:
    st.stop()

limit_mb = int(st.get_option("server.maxUploadSize"))
files = st.file_uploader(
    f"Upload videos (up to {limit_mb:,} MB each; {', '.join(s.lstrip('.') for s in VIDEO_SUFFIXES)})",
    type=[s.lstrip(".") for s in VIDEO_SUFFIXES],
    accept_multiple_files=True,
    key="uploader",
)

# Each browser upload is validated and stored once, keyed by Streamlit's file id.
stored: dict[str, object] = st.session_state.setdefault("stored_uploads", {})
for f in files or []:
    if f.file_id not in stored:
        try:
            stored[f.file_id] = store_upload(f, f.name, uploads_dir(data.data_dir()), limit_mb * 1024 * 1024)
        except UploadError as exc:
            stored[f.file_id] = str(exc)
current = [(f.file_id, stored[f.file_id]) for f in files or []]
for _, item in current:
    if isinstance(item, str):
        st.error(f"Rejected: {item}")

pending = manager.pending_hashes(ctx.db)
tasks: list[VideoRequest] = []
undated = 0
for file_id, item in current:
    if isinstance(item, str):
        continue
    with st.container(border=True):
        st.markdown(
            f"**{item.original_name}** — {item.duration_s:,.0f} s, {item.info.width}×{item.info.height}, "
            f"{item.info.fps:.1f} fps, {item.size / 1e6:,.1f} MB"
        )
        done = data.processed_video_with_hash(ctx.db, item.sha256)
        if done is not None:
            st.warning(f"Already processed (camera {done['camera']}): it will not be processed again.")
            continue
        if item.sha256 in pending:
            st.warning("This file is already queued for processing.")
            continue
        c1, c2, c3 = st.columns(3)
        camera = c1.selectbox("Camera", camera_names, key=f"cam::{file_id}")
        cam_start = ctx.config.camera(camera).start_time
        placeholder = setup.is_placeholder_start(cam_start)
        day = c2.date_input(
            "Filmed on",
            value=None if placeholder else cam_start.date(),
            min_value=setup.FOOTAGE_MIN_DAY,
            key=f"day::{file_id}::{camera}",
            help="The date the footage was recorded: every time in the analytics counts from it.",
        )
        clock = c3.time_input(
            "Start time",
            value=time(9) if placeholder else cam_start.time().replace(microsecond=0),
            key=f"time::{file_id}::{camera}",
            step=timedelta(minutes=1),
        )
        if day is None:
            undated += 1
            st.caption("Pick the date this footage was filmed.")
            continue
        tasks.append(upload_request(item, camera, datetime.combine(day, clock)))

with st.expander("Processing settings"):
    c1, c2, c3 = st.columns(3)
    imgsz = c1.selectbox(
        "Detector image size",
        IMGSZ_CHOICES,
        index=0,
        key="imgsz",
        help="auto: measured per video from the people in its first seconds (small, distant people get a "
        "larger size). A smaller fixed size is faster and misses more small or distant people.",
    )
    stride = c2.number_input("Process every n-th frame", min_value=1, max_value=30, value=1, key="stride")
    embedder = c3.selectbox(
        "Appearance embedder", [*self_contained_embedders(), "none"], key="embedder",
        help="auto: the best re-ID model found (see README), else the colour histogram.",
    )  # fmt: skip
    r1, r2 = st.columns([2, 1])
    ray_address = r1.text_input(
        "Ray cluster (optional)",
        key="ray_address",
        placeholder="empty: process here",
        help=f"Track the videos on a Ray cluster (HEAD:6379 or ray://HEAD:10001; see docs/scale-out.md), "
        f"or '{LOCAL_RAY}' to start Ray on this machine. This server still writes the database; "
        "every node must read the upload folder at the same path.",
    ).strip()
    segment_s = r2.number_input(
        "Split videos into segments of (s)",
        min_value=0,
        max_value=86_400,
        value=0,
        step=60,
        key="segment_seconds",
        disabled=not ray_address,
        help="With Ray: long videos are cut into segments this long, tracked in parallel and stitched. "
        "0: one task per video.",
    )

busy = manager.active(ctx.db)
if st.button(
    f"Process {len(tasks)} video(s)",
    type="primary",
    disabled=not tasks or bool(undated) or busy,
    key="process",
    help="Wait for the running job to finish first." if busy else None,
):
    settings = TrackSettings(
        imgsz=imgsz if imgsz == AUTO else int(imgsz), stride=int(stride), embedder=embedder
    )
    job = manager.submit(
        data.connection(ctx.db),
        ctx.db,
        ctx.config,
        settings,
        tasks,
        ray_address=ray_address or None,
        segment_seconds=float(segment_s) if ray_address and segment_s else None,
    )
    st.session_state["footage_saved"] = f"Job {job.job_id} queued: {len(tasks)} video(s)."
    st.rerun()  # redraw with the button disabled and the progress shown


@st.fragment(run_every=1.0 if manager.active(ctx.db) else None)
def progress() -> None:
    jobs = manager.jobs(ctx.db)[:5]
    if not jobs:
        return
    st.subheader("Processing")
    for job in jobs:
        st.markdown(f"**Job {job.job_id}** — {job.status}")
        for t in job.tasks:
            name = f"{t.name} → {t.camera}"
            if t.status == FAILED:
                st.error(f"{name}: failed — {t.error}")
            elif t.status == DONE:
                st.success(f"{name}: done, {t.frames_done:,} frames")
            elif t.status in (SKIPPED, CANCELLED):
                st.caption(f"{name}: {t.status}")
            elif t.status == LOADING:
                st.progress(0.0, text=f"{name}: loading the detector (takes a few seconds the first time)…")
            else:
                text = f"{name}: {t.status}, {t.frames_done:,}/{t.n_frames:,} frames"
                if (eta := t.eta_s()) is not None:
                    text += f", about {ui.duration(eta)} left"
                st.progress(t.fraction, text=text)
        if job.units and job.active:  # on Ray: one line per task (a video, or a segment of one)
            where = "this machine" if job.ray_address == LOCAL_RAY else job.ray_address
            with st.expander(f"Ray tasks on {where} ({len(job.units)})", expanded=True):
                for unit in job.units.values():
                    retry = f", retry {unit.attempt}" if unit.attempt else ""
                    st.progress(
                        unit.fraction,
                        text=f"{unit.label}: frames {unit.start:,}–{unit.end:,}, {unit.done:,} read{retry}",
                    )
        if job.status == FAILED and not any(t.status == FAILED for t in job.tasks):
            st.error(f"Job {job.job_id} failed: {job.error}")
        if job.active and st.button("Cancel", key=f"cancel::{job.job_id}"):
            job.cancel.set()
    if st.session_state.get("was_active") and not manager.active(ctx.db):
        st.session_state["was_active"] = False
        st.rerun(scope="app")  # the job finished: refresh the whole page with the new analytics
    st.session_state["was_active"] = manager.active(ctx.db)
    if any(t.status in (LOADING, RUNNING) for j in jobs for t in j.tasks):
        st.caption("The rest of the dashboard stays usable while this runs.")


progress()

st.subheader("Videos in this database")
videos = data.videos(ctx.db)
if videos.empty:
    st.caption("None yet.")
else:
    st.dataframe(
        videos[
            [
                "camera",
                "file",
                "start_time",
                "status",
                "frames_done",
                "n_frames",
                "duration_s",
                "imgsz",
                "error",
            ]
        ],
        hide_index=True,
        key="videos_table",
        column_config={
            "camera": "Camera",
            "file": "File",
            "start_time": st.column_config.DatetimeColumn("Filmed from", format="DD MMM YYYY HH:mm:ss"),
            "status": "Status",
            "frames_done": st.column_config.NumberColumn("Frames processed", format="%d"),
            "n_frames": st.column_config.NumberColumn("Frames", format="%d"),
            "duration_s": st.column_config.NumberColumn("Length (s)", format="%.1f"),
            "imgsz": st.column_config.TextColumn(
                "Detector size",
                help="The input size the detector ran at, and why (auto measures the people).",
            ),
            "error": "Problem",
        },
    )

calibration = data.reid_calibration(ctx.db)
if not calibration.empty:
    st.subheader("Cross-camera matching")
    for row in calibration.itertuples(index=False):
        threshold = (
            "built-in" if row.threshold is None or row.threshold != row.threshold else f"{row.threshold:.3f}"
        )
        st.markdown(f"**{row.embedder}** — match threshold {threshold}")
        st.caption(str(row.note))
