"""Sales CSV import: ``timestamp, transactions[, amount]`` per row; all rows valid or nothing imported."""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.db import transaction
from pipeline.db.analytics import sales as sales_sql
from pipeline.errors import UserError

REQUIRED = ("timestamp", "transactions")
OPTIONAL = ("amount",)
MAX_REPORTED = 20


def parse_sales_csv(path: str | Path) -> pd.DataFrame:
    """Read and validate a sales CSV.

    Header (case-insensitive, any order): ``timestamp`` (ISO 8601, store local time; an offset is dropped),
    ``transactions`` (integer >= 0), optional ``amount`` (number >= 0, may be empty).

    Returns:
        Columns ts (datetime64), transactions (int64), amount (float64, NaN when missing), line (int).

    Raises:
        UserError: missing file or columns, or bad rows (listed with their line numbers).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"sales file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise UserError(f"{path}: empty file; expected a header with {', '.join(REQUIRED)}")
            names = [h.strip().lower() for h in header]
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                raise UserError(
                    f"{path}: missing column(s) {', '.join(missing)}; header is {', '.join(header)}"
                )
            unknown = [h for h in names if h not in REQUIRED + OPTIONAL]
            if unknown:
                raise UserError(
                    f"{path}: unknown column(s) {', '.join(unknown)}; allowed: "
                    f"{', '.join(REQUIRED + OPTIONAL)}"
                )
            col = {name: names.index(name) for name in names}
            rows, errors = [], []
            for line, record in enumerate(reader, start=2):
                if not any(cell.strip() for cell in record):
                    continue  # blank line
                problem = None
                if len(record) != len(names):
                    problem = f"expected {len(names)} fields, got {len(record)}"
                else:
                    raw_ts = record[col["timestamp"]].strip()
                    raw_tx = record[col["transactions"]].strip()
                    raw_amount = record[col["amount"]].strip() if "amount" in col else ""
                    try:
                        ts = datetime.fromisoformat(raw_ts).replace(tzinfo=None)
                    except ValueError:
                        problem = f"timestamp {raw_ts!r} is not an ISO 8601 time"
                    if problem is None:
                        try:
                            tx = int(raw_tx)
                            if tx < 0:
                                raise ValueError
                        except ValueError:
                            problem = f"transactions {raw_tx!r} is not a whole number >= 0"
                    amount = math.nan
                    if problem is None and raw_amount:
                        try:
                            amount = float(raw_amount)
                            if not math.isfinite(amount) or amount < 0:
                                raise ValueError
                        except ValueError:
                            problem = f"amount {raw_amount!r} is not a number >= 0"
                if problem:
                    errors.append(f"line {line}: {problem}")
                else:
                    rows.append((ts, tx, amount, line))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a UTF-8 text file ({exc})") from exc
    if errors:
        more = f" (and {len(errors) - MAX_REPORTED} more)" if len(errors) > MAX_REPORTED else ""
        raise UserError(
            f"{path}: {len(errors)} bad row(s), nothing imported: " + "; ".join(errors[:MAX_REPORTED]) + more
        )
    return pd.DataFrame(
        {
            "ts": pd.to_datetime([r[0] for r in rows]).as_unit("us")
            if rows
            else pd.Series([], dtype="datetime64[us]"),
            "transactions": pd.Series([r[1] for r in rows], dtype="int64"),
            "amount": pd.Series([r[2] for r in rows], dtype="float64"),
            "line": pd.Series([r[3] for r in rows], dtype="int64"),
        }
    )


def import_sales(conn: duckdb.DuckDBPyConnection, path: str | Path) -> dict[str, int]:
    """Validate ``path`` and, in one transaction, replace the sales rows in the time range it covers and
    recompute conversion. Returns counts ``imported`` and ``replaced``."""
    rows = parse_sales_csv(path)
    with transaction(conn):
        replaced = sales_sql.replace_sales(conn, rows, str(path))
        sales_sql.refresh_conversion(conn)
    return {"imported": len(rows), "replaced": replaced}
