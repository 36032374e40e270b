"""Uploads: sanitised names, rejected non-videos, same bytes stored once, nothing outside the folder."""

from __future__ import annotations

import io

import pytest

from dashboard.uploads import UploadError, sanitise_filename, store_upload
from tests.builders import write_video


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("entrance.mp4", "entrance.mp4"),
        ("../../etc/passwd.mp4", "passwd.mp4"),
        ("C:\\Users\\x\\Caméra 1 (entrée).MOV", "Camera_1_entree.mov"),
        (".hidden.avi", "hidden.avi"),
        ("....mp4", "video.mp4"),
        ("a" * 300 + ".mkv", "a" * 76 + ".mkv"),
    ],
)
def test_sanitise_filename(name, expected):
    assert sanitise_filename(name) == expected


@pytest.mark.parametrize("name", ["notes.txt", "archive.zip", "noextension", "", "video.mp4.exe"])
def test_non_video_names_are_rejected(name):
    with pytest.raises(UploadError, match="not a video file name"):
        sanitise_filename(name)


def test_valid_video_is_stored_once_under_its_hash(tmp_path):
    video = write_video(tmp_path / "src.mp4")
    folder = tmp_path / "data" / "uploads"
    first = store_upload(io.BytesIO(video.read_bytes()), "../Cam 1.mp4", folder)
    again = store_upload(io.BytesIO(video.read_bytes()), "other name.mp4", folder)
    assert first.path.parent == folder and first.path.name == f"{first.sha256[:12]}_Cam_1.mp4"
    assert again.sha256 == first.sha256 and first.info.n_frames == 12
    assert sorted(p.name for p in folder.iterdir()) == sorted({first.path.name, again.path.name})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a video at all" * 100, "not a video that can be read"),
        (b"", "is empty"),
    ],
)
def test_corrupt_or_empty_files_are_rejected_and_deleted(tmp_path, content, message):
    folder = tmp_path / "uploads"
    with pytest.raises(UploadError, match=message):
        store_upload(io.BytesIO(content), "clip.mp4", folder)
    assert list(folder.iterdir()) == []


def test_truncated_video_is_rejected(tmp_path):
    data = write_video(tmp_path / "src.mp4").read_bytes()
    with pytest.raises(UploadError, match="not a video that can be read"):
        store_upload(io.BytesIO(data[: len(data) // 5]), "clip.mp4", tmp_path / "uploads")


def test_size_limit(tmp_path):
    data = write_video(tmp_path / "src.mp4").read_bytes()
    with pytest.raises(UploadError, match="upload limit"):
        store_upload(io.BytesIO(data), "clip.mp4", tmp_path / "uploads", max_bytes=len(data) - 1)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_footage_page_rejects_non_video_upload(campus_db):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.dashboard_testkit import APP

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("dashboard/pages/footage.py").run()
    uploader = at.get("file_uploader")[0]
    assert "2,048 MB" in uploader.proto.label
