"""The store config saved in a database (``store_config`` table, one row): the one reader and writer.

Relative paths in a saved config (camera videos) are relative to the database file's folder, wherever the
reader runs from (an in-memory database: the working directory).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from pipeline.config import StoreConfig, parse_config


def save_store_config(conn: duckdb.DuckDBPyConnection, yaml_text: str) -> None:
    """Save ``yaml_text`` (``pipeline.config.dump_config``) as the store config, replacing any."""
    conn.execute(
        "INSERT OR REPLACE INTO store_config (id, yaml, updated_at) VALUES (1, ?, now())", [yaml_text]
    )


def load_store_config(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The saved store config's YAML text (``None`` when none is saved)."""
    row = conn.execute("SELECT yaml FROM store_config WHERE id = 1").fetchone()
    return None if row is None else row[0]


def database_folder(conn: duckdb.DuckDBPyConnection) -> Path:
    """The folder of ``conn``'s database file (the working directory for an in-memory database)."""
    row = conn.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]).parent if row and row[0] else Path(".")


def stored_config(conn: duckdb.DuckDBPyConnection) -> StoreConfig | None:
    """The validated store config saved in ``conn`` (``None`` when none is saved); files need not exist.

    Raises:
        ConfigError: the saved config is invalid (e.g. written by an older version with other rules).
    """
    text = load_store_config(conn)
    if not text:
        return None
    # safe_load, not pipeline.config.read_yaml: the text was written by this code (and older versions and
    # tests wrote it with yaml.safe_dump, which may use aliases), not typed by a user.
    return parse_config(yaml.safe_load(text), database_folder(conn), source=None, check_files=False)
