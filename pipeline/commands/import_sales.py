"""``python -m pipeline import-sales --db STORE.duckdb FILE.csv``."""

from __future__ import annotations

import argparse

NAME = "import-sales"
HELP = "Import a sales CSV (timestamp, transactions[, amount]); all rows or none; recomputes conversion."
ORDER = 51


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="store database (.duckdb)")
    parser.add_argument("file", help="CSV with header timestamp,transactions[,amount]")


def run(args: argparse.Namespace) -> int:
    from zones.sales import import_sales
    from zones.store_db import open_store  # imported here: the CLI loads every command module

    conn = open_store(args.db)
    try:
        counts = import_sales(conn, args.file)
    finally:
        conn.close()
    print(
        f"imported {counts['imported']} sales rows ({counts['replaced']} earlier rows in that time range replaced)"
    )
    return 0
