"""Raw uploads are deleted once processed unless keeping them was asked for (SHOPPER_KEEP_UPLOADS)."""

from __future__ import annotations

import io

import pytest

from dashboard.uploads import KEEP_ENV, discard_processed, keep_uploads, store_upload
from tests.conftest import require_shared


@pytest.mark.parametrize(
    ("setting", "kept"),
    [(None, False), ("", False), ("0", False), ("1", True), ("yes", True), ("TRUE", True)],
)
def test_retention_setting(monkeypatch, tmp_path, setting, kept):
    if setting is None:
        monkeypatch.delenv(KEEP_ENV, raising=False)
    else:
        monkeypatch.setenv(KEEP_ENV, setting)
    video = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    upload = store_upload(io.BytesIO(video.read_bytes()), video.name, tmp_path / "uploads")
    assert keep_uploads() is kept
    assert discard_processed(upload.path) is not kept
    assert upload.path.exists() is kept
    assert video.exists()  # only the copy in the uploads folder is ever deleted
