"""The dashboard's side of the job chain (:mod:`pipeline.jobs`): an upload becomes a plain request, and
the server keeps one queue that every browser session shares.

The dashboard only submits requests and polls their status; tracking, identities and analytics are the
pipeline's (see ``pipeline/jobs.py`` for why jobs run on a thread of the server process).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dashboard import data, evidence
from dashboard.uploads import StoredUpload, discard_processed
from pipeline.jobs import Job, JobManager, VideoRequest


def upload_request(upload: StoredUpload, camera: str, start_time: datetime) -> VideoRequest:
    """A request to process an uploaded video as ``camera``'s footage starting at ``start_time``."""
    return VideoRequest(camera, upload.path, upload.info, upload.sha256, start_time, upload.original_name)


def after_video(job: Job, request: VideoRequest) -> None:
    """Once a video is stored: keep the camera's still (its busiest frame, every face blurred) so zones can
    still be drawn on it, then apply the retention rule (the upload is deleted unless uploads are kept,
    ``dashboard.uploads.KEEP_ENV``)."""
    if request.video_id is not None:
        frame = data.busiest_frame(job.db_path, request.video_id)
        if frame is not None:
            people = data.frame_people(job.db_path, request.video_id, frame)
            still = evidence.still_of(request.path, frame, people)
            if still is not None:
                data.save_camera_still(job.db_path, request.camera, still)
    discard_processed(request.path)


def new_job_manager(on_finished: Callable[[str], None] | None = None) -> JobManager:
    """The processing queue with the dashboard's after-video step (:func:`after_video`)."""
    return JobManager(on_finished=on_finished, on_video_done=after_video)


def uploads_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"
