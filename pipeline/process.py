"""Process a store: every camera's footage -> tracks -> DuckDB.

Writes are committed per batch of frames together with the video's progress, so an interrupted run
(Ctrl-C, kill, crash) leaves only whole batches. A video left unfinished is restarted from scratch on
the next run (its rows are deleted first), and a finished video with the same file and settings is
skipped, so re-running ``process`` never duplicates rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from pipeline.config import CameraConfig, StoreConfig, config_to_dict
from pipeline.db import tracks as db
from pipeline.errors import ConfigError
from pipeline.track_video import Components, TrackedVideoFrame, TrackEmbeddings, TrackSettings, track_video
from pipeline.video import VideoInfo, probe

BATCH_FRAMES = 100


@dataclass(frozen=True)
class VideoOutcome:
    camera: str
    video_id: int
    status: str  # 'processed' | 'skipped'
    frames: int
    tracks: int


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def to_floor(points: np.ndarray, homography: np.ndarray | None) -> np.ndarray | None:
    """Map (N, 2) image points through a 3x3 homography; ``None`` without one."""
    if homography is None:
        return None
    if len(points) == 0:
        return np.zeros((0, 2))
    homog = np.hstack([points.astype(np.float64), np.ones((len(points), 1))]) @ homography.T
    return homog[:, :2] / homog[:, 2:3]


def frame_rows(
    video_id: int, camera: CameraConfig, tracked: list[TrackedVideoFrame]
) -> pd.DataFrame:
    """Track-point rows (``db.TRACK_POINT_COLUMNS``) for a batch of tracked frames."""
    parts = []
    for f in tracked:
        d = f.detections
        n = len(d)
        if n == 0:
            continue
        foot = d.foot_point
        floor = to_floor(foot, camera.homography)
        kp = None if d.keypoints is None else d.keypoints.reshape(n, -1).tolist()
        parts.append(
            pd.DataFrame(
                {
                    "video_id": video_id,
                    "camera": camera.name,
                    "frame": f.frame,
                    "t_sec": f.t_sec,
                    "ts": camera.start_time + timedelta(seconds=f.t_sec),
                    "track_id": d.track_id,
                    "x1": d.xyxy[:, 0], "y1": d.xyxy[:, 1], "x2": d.xyxy[:, 2], "y2": d.xyxy[:, 3],
                    "score": d.confidence,
                    "foot_u": foot[:, 0], "foot_v": foot[:, 1],
                    "floor_x": None if floor is None else floor[:, 0],
                    "floor_y": None if floor is None else floor[:, 1],
                    "keypoints": kp if kp is not None else [None] * n,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=db.TRACK_POINT_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table["floor_x"] = table["floor_x"].astype("float64")
    table["floor_y"] = table["floor_y"].astype("float64")
    return table


def check_videos(config: StoreConfig) -> dict[str, VideoInfo]:
    """Probe every camera's video before anything is written (fail fast on a bad file)."""
    infos = {}
    for cam in config.cameras:
        if cam.video is None:
            raise ConfigError(f"camera {cam.name!r} has no video to process")
        infos[cam.name] = probe(cam.video, cam.fps)
    return infos


def process_store(
    config: StoreConfig,
    conn: duckdb.DuckDBPyConnection,
    settings: TrackSettings,
    components: Components | Callable[[], Components],
    force: bool = False,
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    batch_frames: int = BATCH_FRAMES,
) -> list[VideoOutcome]:
    """Process every camera of ``config`` into ``conn``.

    Args:
        components: loaded models, or a factory called only if some video needs processing.
        force: reprocess videos that are already done with the same file and settings.
        on_progress: called as ``(camera, frames_done, frames_total)`` after each committed batch.
        batch_frames: processed frames per committed transaction.
    """
    if batch_frames < 1:
        raise ValueError(f"batch_frames must be >= 1, but got {batch_frames}")
    infos = check_videos(config)
    with db.transaction(conn):
        db.save_store_config(conn, yaml.safe_dump(config_to_dict(config), sort_keys=False))
        for cam in config.cameras:
            db.upsert_camera(conn, cam.name, cam.homography, infos[cam.name].width, infos[cam.name].height)
    run_id = db.start_run(conn, config.name, str(config.source) if config.source else None, settings.as_dict())
    outcomes = []
    loaded: Components | None = components if isinstance(components, Components) else None
    for cam in config.cameras:
        info = infos[cam.name]
        sha = file_sha256(info.path)
        existing = db.find_video(conn, cam.name, str(info.path))
        if (
            not force and existing is not None and existing["status"] == "done"
            and existing["sha256"] == sha and existing["settings"] == settings.as_dict()
        ):
            outcomes.append(VideoOutcome(cam.name, existing["video_id"], "skipped", 0, 0))
            continue
        if loaded is None:
            loaded = components()  # type: ignore[operator]
        outcomes.append(
            _process_video(conn, cam, info, sha, run_id, settings, loaded, progress, on_progress, batch_frames)
        )
    db.finish_run(conn, run_id)
    return outcomes


def _process_video(
    conn: duckdb.DuckDBPyConnection,
    cam: CameraConfig,
    info: VideoInfo,
    sha: str,
    run_id: int,
    settings: TrackSettings,
    components: Components,
    progress: bool,
    on_progress: Callable[[str, int, int], None] | None,
    batch_frames: int,
) -> VideoOutcome:
    video_id = db.begin_video(
        conn, camera=cam.name, path=str(info.path), sha256=sha, fps=info.fps, n_frames=info.n_frames,
        start_time=cam.start_time, run_id=run_id, settings=settings.as_dict(),
    )
    embeddings = TrackEmbeddings()
    batch: list[TrackedVideoFrame] = []
    last_frame = -1
    track_ids: set[int] = set()
    label = f"{cam.name}" if progress else False
    for tracked in track_video(info.path, settings, components, cam.fps, progress=label):
        batch.append(tracked)
        embeddings.add(tracked.detections)
        track_ids.update(tracked.detections.track_id.tolist())
        last_frame = tracked.frame
        if len(batch) >= batch_frames:
            db.write_batch(conn, video_id, frame_rows(video_id, cam, batch), last_frame + 1)
            batch = []
            if on_progress:
                on_progress(cam.name, last_frame + 1, info.n_frames)
    db.write_batch(conn, video_id, frame_rows(video_id, cam, batch), last_frame + 1)
    db.finish_video(conn, video_id, settings.embedder, embeddings.means(), last_frame + 1)
    if on_progress:
        on_progress(cam.name, info.n_frames, info.n_frames)
    return VideoOutcome(cam.name, video_id, "processed", last_frame + 1, len(track_ids))
