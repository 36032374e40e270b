"""Uploaded footage: sanitised names, hashed, probed, stored only under the data folder.

A file is streamed to ``<data>/uploads/.incoming-*.part`` while its SHA-256 is computed, probed with
OpenCV (a non-video or corrupt file is rejected and deleted), then renamed to
``<data>/uploads/<sha256[:12]>_<safe name>``. The same bytes uploaded twice land on the same path, and
the hash is what the Footage page checks against processed videos so a file is never processed twice.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import UserError, VideoError
from pipeline.video import VIDEO_SUFFIXES, VideoInfo, probe

MAX_NAME_CHARS = 80
# Retention of raw uploads: deleted once processed unless this is set to 1 (issue 13, privacy). Kept
# footage lets the dashboard show blurred evidence frames; deleted footage cannot leak.
KEEP_ENV = "SHOPPER_KEEP_UPLOADS"
_CHUNK = 1 << 20


class UploadError(UserError):
    """An upload was refused; the message says why."""


@dataclass(frozen=True)
class StoredUpload:
    """A validated upload on disk.

    Attributes:
        path: where it is stored (inside the uploads folder).
        original_name: the name the browser sent (for display only; never used as a path).
        info: what the video holds (frames, fps, size).
    """

    path: Path
    original_name: str
    sha256: str
    size: int
    info: VideoInfo

    @property
    def duration_s(self) -> float:
        return self.info.n_frames / self.info.fps


def sanitise_filename(name: str) -> str:
    """A safe file name from a browser-supplied one: no folders, ASCII ``[A-Za-z0-9._-]``, video suffix.

    Raises:
        UploadError: no usable name left, or the suffix is not a video format.

    Example:
        >>> sanitise_filename("../../etc/Caméra 1 (entrée).MP4")
        'Camera_1_entree.mp4'
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in VIDEO_SUFFIXES:
        raise UploadError(f"{name!r} is not a video file name (accepted: {', '.join(VIDEO_SUFFIXES)})")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("._-")[: MAX_NAME_CHARS - len(suffix)]
    return (stem or "video") + suffix


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def store_upload(
    source: BinaryIO, name: str, uploads_dir: Path, max_bytes: int | None = None
) -> StoredUpload:
    """Validate and store one uploaded file.

    Args:
        source: the file's bytes (read from the start).
        name: the browser-supplied file name.
        uploads_dir: the uploads folder (inside the data folder).
        max_bytes: refuse larger files.

    Raises:
        UploadError: bad name, too large, empty, not a decodable video.
    """
    safe = sanitise_filename(name)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(
        dir=uploads_dir, prefix=".incoming-", suffix=Path(safe).suffix, delete=False
    ) as tmp:
        part = Path(tmp.name)
        try:
            source.seek(0)
            while block := source.read(_CHUNK):
                size += len(block)
                if max_bytes is not None and size > max_bytes:
                    raise UploadError(f"{name!r} is larger than the {max_bytes / 1e6:.0f} MB upload limit")
                digest.update(block)
                tmp.write(block)
        except BaseException:
            tmp.close()
            part.unlink(missing_ok=True)
            raise
    try:
        if size == 0:
            raise UploadError(f"{name!r} is empty")
        try:
            probe(part)
        except VideoError as exc:
            raise UploadError(
                f"{name!r} is not a video that can be read (corrupt or not a video file)"
            ) from exc
        sha = digest.hexdigest()
        final = uploads_dir / f"{sha[:12]}_{safe}"
        if not _inside(final, uploads_dir):  # belt and braces: the name was sanitised above
            raise UploadError(f"refusing to write outside the uploads folder: {final}")
        if final.exists():
            part.unlink()
        else:
            part.replace(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return StoredUpload(final, name, sha, size, probe(final))


def keep_uploads() -> bool:
    """Whether raw uploads are kept after processing (``SHOPPER_KEEP_UPLOADS=1``); default: deleted."""
    return os.environ.get(KEEP_ENV, "").strip().lower() in ("1", "true", "yes")


def discard_processed(path: Path) -> bool:
    """Delete a processed upload's video file unless :func:`keep_uploads`; whether it was deleted."""
    if keep_uploads():
        return False
    path.unlink(missing_ok=True)
    return True
