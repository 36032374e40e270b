"""Open an existing store database for the analytics commands, with user-fixable errors."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.db import SchemaError, connect
from pipeline.errors import UserError


def open_store(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open an existing store database read-write (migrating it to this code's schema).

    Raises:
        UserError: the file is missing or not a database this code can use.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"database not found: {path}")
    try:
        return connect(path)
    except SchemaError as exc:
        raise UserError(str(exc)) from exc
