"""Dashboard fixtures: the simulated demo store built by the analytics package, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.dashboard.dashboard_testkit import make_campus_db


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo store database, built once by ``pipeline.simulate.build_demo`` (and analysed)."""
    from pipeline.simulate import build_demo

    path = tmp_path_factory.mktemp("demo_template") / "demo.duckdb"
    build_demo(path, shoppers=160, seed=7, analyse=True)
    return path


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data folder that the app uses (``SHOPPER_DATA_DIR``)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("SHOPPER_DATA_DIR", str(folder))
    for var in ("SHOPPER_PASSWORD_HASH", "SHOPPER_REVIEWER_PASSWORD_HASH", "SHOPPER_DB"):
        monkeypatch.delenv(var, raising=False)
    return folder


@pytest.fixture
def demo_db(demo_template, data_dir, monkeypatch) -> str:
    """A private copy of the demo database, configured as the app's default database."""
    path = data_dir / "demo.duckdb"
    shutil.copy(demo_template, path)
    monkeypatch.setenv("SHOPPER_DB", str(path))
    return str(path.resolve())


@pytest.fixture
def campus_db(data_dir, monkeypatch) -> str:
    path = make_campus_db(data_dir / "campus.duckdb")
    monkeypatch.setenv("SHOPPER_DB", str(path))
    return str(path.resolve())
