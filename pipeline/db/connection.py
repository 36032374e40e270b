"""Open a store database and migrate it (see ``migrations/``)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` on any exception (including Ctrl-C): readers and
    interrupted runs see all of the block or none of it."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def fetch_record(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, json_columns: tuple[str, ...] = ()
) -> dict | None:
    """The first row of ``sql`` as ``{column: value}`` (``json_columns`` decoded, NULL as ``{}``), or
    ``None`` without a row."""
    cursor = conn.execute(sql, params or [])
    row = cursor.fetchone()
    if row is None:
        return None
    record = dict(zip([d[0] for d in cursor.description], row))
    for column in json_columns:
        record[column] = json.loads(record[column] or "{}")
    return record


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
        with transaction(conn):
            module.migrate(conn)
            conn.execute("INSERT INTO schema_version VALUES (?, now())", [number])
        version = number
    return version


# Nothing in this product may reach the network: DuckDB would otherwise download an extension (over plain
# HTTP) to read a file it recognises, e.g. a SQLite file named ``.duckdb``.
NO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
OUR_TABLES = ("schema_version", "videos", "track_points")


def _check_ours(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a DuckDB file with tables of its own but not a Shopper ReID schema (it would be half-migrated):
    a store has at least :data:`OUR_TABLES`, a ``schema_version`` table alone is not enough."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()
    ]
    if tables and not set(OUR_TABLES) <= set(tables):
        raise SchemaError(
            f"{path} is a DuckDB database of another application (tables: {', '.join(tables[:5])}"
            f"{', ...' if len(tables) > 5 else ''}), not a Shopper ReID store; give a new file name"
        )


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path`` (created if missing unless ``read_only``) with an up-to-date schema.

    Raises:
        SchemaError: the file is not a Shopper ReID database this code can use.
        FileNotFoundError: ``read_only`` and the file does not exist.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseNotFoundError(f"database not found: {path}")
    if path.is_dir():
        raise SchemaError(f"{path} is a directory, not a database file")
    _check_header(path)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SchemaError(f"cannot create the database's folder {path.parent}: {exc}") from exc
    try:
        conn = duckdb.connect(str(path), read_only=read_only, config=NO_EXTENSIONS)
    except duckdb.Error as exc:
        if "conflicting lock" in str(exc).lower():
            raise DatabaseLockedError(_lock_message(path, str(exc))) from exc
        raise SchemaError(f"cannot open {path} as a DuckDB database: {_first_line(exc)}") from exc
    try:
        _check_ours(conn, path)
        if read_only:
            version = current_version(conn)
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"{path} has schema version {version}, newer than this Shopper ReID knows "
                    f"({SCHEMA_VERSION}); upgrade Shopper ReID to open it"
                )
            if version != SCHEMA_VERSION:
                raise SchemaError(
                    f"{path} has schema version {version}, this Shopper ReID needs {SCHEMA_VERSION}; "
                    "open it once read-write (e.g. run `python -m pipeline analyse`) to migrate it"
                )
        else:
            migrate(conn)
    except duckdb.Error as exc:
        conn.close()
        raise SchemaError(f"cannot use {path} as a Shopper ReID database: {_first_line(exc)}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


class DatabaseLockedError(UserError):
    """Another process (the dashboard, another command) has the database file open."""


def _lock_message(path: Path, duckdb_message: str) -> str:
    """Who holds ``path`` open, in words, from DuckDB's "Conflicting lock is held in ... (PID n)"."""
    pid = re.search(r"PID (\d+)", duckdb_message)
    try:
        holder = Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().replace(b"\0", b" ") if pid else b""
    except OSError:
        holder = b""
    if b"streamlit" in holder or b"dashboard" in holder:
        return (
            f"{path} is open in the dashboard (`make run`): it keeps its database open while it runs. "
            "Process footage from the dashboard's Footage page, or stop the dashboard and retry."
        )
    return (
        f"{path} is open in another program (another Shopper ReID command?): wait for it to finish and retry."
    )


def _check_header(path: Path) -> None:
    """Refuse an existing file that is not DuckDB (its main header carries ``DUCK`` at byte 8)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SchemaError(f"cannot read {path}: {exc}") from exc
    if not head:
        return  # an empty file: DuckDB makes it a new database
    if head.startswith(b"SQLite format 3"):
        raise SchemaError(f"{path} is a SQLite database, not a DuckDB one")
    if head[8:12] != b"DUCK":
        raise SchemaError(f"{path} is not a DuckDB database file")


def _first_line(exc: BaseException) -> str:
    """DuckDB messages can span lines (hints, candidates): the CLI prints one."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
