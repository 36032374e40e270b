"""Open a store database and migrate it (see ``migrations/``)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import duckdb

from pipeline.db import migrations
from pipeline.errors import UserError


class SchemaError(UserError):
    """The database's schema cannot be used by this version of Shopper ReID."""


class DatabaseNotFoundError(UserError, FileNotFoundError):
    """A database opened read-only does not exist."""


def _migration_modules() -> list[tuple[int, object]]:
    found = []
    for info in pkgutil.iter_modules(migrations.__path__):
        if info.name.startswith("v") and info.name[1:5].isdigit():
            found.append((int(info.name[1:5]), importlib.import_module(f"{migrations.__name__}.{info.name}")))
    return sorted(found, key=lambda item: item[0])


SCHEMA_VERSION = _migration_modules()[-1][0]


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The schema version recorded in the database (0 for an empty database)."""
    has_table = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not has_table:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the database's version, each in its own transaction.

    Returns:
        The version after migrating.

    Raises:
        SchemaError: the database is newer than this code.
    """
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema version {version} is newer than this Shopper ReID knows "
            f"({SCHEMA_VERSION}); upgrade Shopper ReID to open it"
        )
    for number, module in _migration_modules():
        if number <= version:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            module.migrate(conn)
            conn.execute("INSERT INTO schema_version VALUES (?, now())", [number])
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        version = number
    return version


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path`` (created if missing unless ``read_only``) with an up-to-date schema.

    Raises:
        SchemaError: the file is not a Shopper ReID database this code can use.
        FileNotFoundError: ``read_only`` and the file does not exist.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseNotFoundError(f"database not found: {path}")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise SchemaError(f"cannot open {path} as a DuckDB database: {exc}") from exc
    if read_only:
        version = current_version(conn)
        if version != SCHEMA_VERSION:
            conn.close()
            raise SchemaError(
                f"{path} has schema version {version}, this Shopper ReID needs {SCHEMA_VERSION}; "
                "open it once read-write (e.g. run `python -m pipeline analyse`) to migrate it"
            )
        return conn
    try:
        migrate(conn)
    except Exception:
        conn.close()
        raise
    return conn
