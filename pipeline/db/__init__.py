"""DuckDB storage: the one package that holds SQL.

``connect(path)`` opens (or creates) a store database and brings its schema to the version this
code knows, one migration per transaction. A database written by a newer version is refused.
"""

from __future__ import annotations

from pipeline.db.connection import SCHEMA_VERSION, SchemaError, connect, transaction

__all__ = ["SCHEMA_VERSION", "SchemaError", "connect", "transaction"]
