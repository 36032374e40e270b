"""Footage: upload videos, assign each to a camera and start time, process them in the background."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from dashboard import auth, data, ui
from dashboard.jobs import RUNNING, VideoTask, uploads_dir
from dashboard.uploads import UploadError, store_upload
from pipeline.detector import DEFAULT_IMGSZ
from pipeline.track_video import TrackSettings
from pipeline.video import VIDEO_SUFFIXES

IMGSZ_CHOICES = [320, 480, 640, 960, 1280]

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

camera_names = [c.name for c in ctx.config.cameras]
pending = manager.pending_hashes(ctx.db)
tasks: list[VideoTask] = []
for file_id, item in current:
    if isinstance(item, str):
        continue
    with st.container(border=True):
        st.markdown(
            f"**{item.path.name}** — {item.duration_s:,.0f} s, {item.info.width}×{item.info.height}, "
            f"{item.info.fps:.1f} fps, {item.size / 1e6:,.1f} MB"
        )
        done = data.processed_video_with_hash(ctx.db, item.sha256)
        if done is not None:
            st.warning(
                f"Already processed (camera {done['camera']}, video {done['video_id']}): it will not be processed again."
            )
            continue
        if item.sha256 in pending:
            st.warning("This file is already queued for processing.")
            continue
        c1, c2, c3 = st.columns(3)
        camera = c1.selectbox("Camera", camera_names, key=f"cam::{file_id}")
        cam_start = ctx.config.camera(camera).start_time
        day = c2.date_input("Start date", value=cam_start.date(), key=f"day::{file_id}")
        clock = c3.time_input(
            "Start time",
            value=cam_start.time().replace(microsecond=0) or time(9),
            key=f"time::{file_id}",
            step=timedelta(minutes=1),
        )
        tasks.append(VideoTask(item, camera, datetime.combine(day, clock)))

with st.expander("Processing settings"):
    c1, c2, c3 = st.columns(3)
    imgsz = c1.selectbox(
        "Detector image size",
        IMGSZ_CHOICES,
        index=IMGSZ_CHOICES.index(DEFAULT_IMGSZ),
        key="imgsz",
        help="Smaller is faster and misses more small or distant people.",
    )
    stride = c2.number_input("Process every n-th frame", min_value=1, max_value=30, value=1, key="stride")
    embedder = c3.selectbox(
        "Appearance embedder", ["auto", "hist", "mobilenet", "none"], key="embedder",
        help="auto: the best re-ID model found (see README), else the colour histogram.",
    )

if st.button(f"Process {len(tasks)} video(s)", type="primary", disabled=not tasks, key="process"):
    settings = TrackSettings(imgsz=int(imgsz), stride=int(stride), embedder=embedder)
    job = manager.submit(data.connection(ctx.db), ctx.db, ctx.config, settings, tasks)
    st.toast(f"Job {job.job_id} queued: {len(tasks)} video(s).")


@st.fragment(run_every=1.0 if manager.active(ctx.db) else None)
def progress() -> None:
    jobs = manager.jobs(ctx.db)[:5]
    if not jobs:
        return
    st.subheader("Processing")
    for job in jobs:
        st.markdown(f"**Job {job.job_id}** — {job.status}" + (f": {job.error}" if job.error else ""))
        for t in job.tasks:
            eta = t.eta_s()
            text = f"{t.upload.path.name} → {t.camera}: {t.status}, {t.frames_done:,}/{t.n_frames:,} frames"
            if eta is not None:
                text += f", about {ui.duration(eta)} left"
            st.progress(t.fraction, text=text)
        if job.active and st.button("Cancel", key=f"cancel::{job.job_id}"):
            job.cancel.set()
    if st.session_state.get("was_active") and not manager.active(ctx.db):
        st.session_state["was_active"] = False
        st.rerun(scope="app")  # the job finished: refresh the whole page with the new analytics
    st.session_state["was_active"] = manager.active(ctx.db)
    if any(t.status == RUNNING for j in jobs for t in j.tasks):
        st.caption("The rest of the dashboard stays usable while this runs.")


progress()

st.subheader("Videos in this database")
videos = data.videos(ctx.db)
if videos.empty:
    st.caption("None yet.")
else:
    st.dataframe(videos.drop(columns=["sha256"]), hide_index=True, key="videos_table")
