"""``python -m pipeline report --db STORE.duckdb --out DIR``: one CSV per analytics table."""

from __future__ import annotations

import argparse
from datetime import datetime

from pipeline.commands._outputs import output_dir
from pipeline.errors import UserError

NAME = "report"
HELP = "Write the analytics CSV reports (visits, section metrics, paths, flags, shoppers, ...) to a folder."
ORDER = 52


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="store database (.duckdb), analysed")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--start", help="only from this ISO 8601 local time")
    parser.add_argument("--end", help="only before this ISO 8601 local time")
    parser.add_argument("--zone", action="append", help="only this zone (repeatable)")


def _time(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError as exc:
        raise UserError(f"{flag} {value!r} is not an ISO 8601 time (e.g. 2026-11-20T09:00)") from exc


def run(args: argparse.Namespace) -> int:
    from zones.export import write_reports
    from zones.store_db import open_store  # imported here: the CLI loads every command module

    start, end = _time(args.start, "--start"), _time(args.end, "--end")
    output_dir(args.out, "--out")
    conn = open_store(args.db)
    try:
        paths = write_reports(conn, args.out, start, end, args.zone)
    finally:
        conn.close()
    print(f"wrote {len(paths)} reports to {args.out}")
    return 0
