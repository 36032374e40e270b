"""The dashboard's side of the job chain (:mod:`pipeline.jobs`): an upload becomes a plain request, and
the server keeps one queue that every browser session shares.

The dashboard only submits requests and polls their status; tracking, identities and analytics are the
pipeline's (see ``pipeline/jobs.py`` for why jobs run on a thread of the server process).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dashboard.uploads import StoredUpload, discard_processed
from pipeline.jobs import JobManager, VideoRequest


def upload_request(upload: StoredUpload, camera: str, start_time: datetime) -> VideoRequest:
    """A request to process an uploaded video as ``camera``'s footage starting at ``start_time``."""
    return VideoRequest(camera, upload.path, upload.info, upload.sha256, start_time, upload.original_name)


def new_job_manager(on_finished: Callable[[str], None] | None = None) -> JobManager:
    """The processing queue with the dashboard's retention rule: an upload is deleted once its video is
    stored, unless uploads are kept (see ``dashboard.uploads.KEEP_ENV``)."""
    return JobManager(on_finished=on_finished, on_video_done=lambda request: discard_processed(request.path))


def uploads_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"
