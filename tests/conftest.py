"""Shared fixtures: locating ../shared (real footage, re-ID crops, models)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Nothing a test starts (including dashboard threads that outlive their test) may write into the
# checkout's data/ folder: the whole session gets its own data folder.
os.environ["SHOPPER_DATA_DIR"] = tempfile.mkdtemp(prefix="shopper-test-data-")


def shared_dir() -> Path | None:
    """``$SHOPPER_SHARED`` or ``../shared`` beside the checkout, if present."""
    candidates = [os.environ.get("SHOPPER_SHARED"), REPO.parent / "shared"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


def require_shared(*parts: str) -> Path:
    """Path under ../shared; skip the test when absent (a user's clone), fail when ``CI`` is set."""
    root = shared_dir()
    path = root.joinpath(*parts) if root else None
    if path is None or not path.exists():
        reason = f"shared test data not found: ../shared/{'/'.join(parts)} (set SHOPPER_SHARED to its folder)"
        if os.environ.get("CI"):
            pytest.fail(reason + " — required in CI")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def mot15() -> Path:
    return require_shared("data", "mot15")
