"""The one reader of the saved store config, and the one transaction helper."""

from __future__ import annotations

import pytest
import yaml

from pipeline.db import connect, transaction
from pipeline.db.store_config import load_store_config, save_store_config, stored_config

RAW = {
    "name": "Shop",
    "cameras": [{"name": "door", "start_time": "2026-11-20T09:00:00", "video": "footage/door.mp4"}],
    "reid": {"max_walking_speed": 1.5},
}


def test_nothing_saved_reads_as_none(tmp_path):
    conn = connect(tmp_path / "store.duckdb")
    assert load_store_config(conn) is None and stored_config(conn) is None


def test_relative_paths_resolve_against_the_database_folder(tmp_path, monkeypatch):
    folder = tmp_path / "stores" / "shop"
    folder.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)  # wherever the reader runs from
    conn = connect(folder / "store.duckdb")
    save_store_config(conn, yaml.safe_dump(RAW))
    config = stored_config(conn)
    assert config.cameras[0].video == folder / "footage" / "door.mp4"
    assert config.reid.max_walking_speed == 1.5


def test_saving_again_replaces_the_config(tmp_path):
    conn = connect(tmp_path / "store.duckdb")
    save_store_config(conn, "name: a")
    save_store_config(conn, "name: b")
    assert load_store_config(conn) == "name: b"


def test_transaction_rolls_back_on_any_exception(tmp_path):
    conn = connect(tmp_path / "store.duckdb")
    with pytest.raises(KeyboardInterrupt), transaction(conn):
        save_store_config(conn, "name: a")
        raise KeyboardInterrupt
    assert load_store_config(conn) is None
    with transaction(conn) as cur:
        save_store_config(cur, "name: b")
    assert load_store_config(conn) == "name: b"
