"""Sales rows (imported CSV) and conversion per hour and day."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.db.analytics.tables import registered


def replace_sales(conn: duckdb.DuckDBPyConnection, rows: pd.DataFrame, source: str) -> int:
    """Replace the sales rows in the time range ``rows`` covers with ``rows`` (ts, transactions, amount, line).

    Returns the number of rows deleted.
    """
    if rows.empty:
        return 0
    lo, hi = rows["ts"].min().to_pydatetime(), rows["ts"].max().to_pydatetime()
    deleted = conn.execute("SELECT count(*) FROM sales WHERE ts BETWEEN ? AND ?", [lo, hi]).fetchone()[0]
    conn.execute("DELETE FROM sales WHERE ts BETWEEN ? AND ?", [lo, hi])
    with registered(conn, "_sales", rows):
        conn.execute(
            "INSERT INTO sales SELECT CAST(ts AS TIMESTAMP), transactions, amount, ?, line FROM _sales",
            [source],
        )
    return deleted


def refresh_conversion(conn: duckdb.DuckDBPyConnection) -> None:
    """Rewrite conversion = transactions / visitors (arrivals) per hour and day; empty without sales."""
    conn.execute("DELETE FROM conversion_hourly")
    conn.execute("DELETE FROM conversion_daily")
    conn.execute(
        """
        INSERT INTO conversion_hourly
        WITH s AS (SELECT date_trunc('hour', ts) AS hour, sum(transactions) AS tx, sum(amount) AS amount
                   FROM sales GROUP BY 1)
        SELECT coalesce(h.hour, s.hour), coalesce(h.arrivals, 0), coalesce(s.tx, 0), s.amount,
               CASE WHEN h.arrivals > 0 THEN coalesce(s.tx, 0) / h.arrivals END
        FROM store_hourly h FULL JOIN s ON s.hour = h.hour
        WHERE EXISTS (SELECT 1 FROM sales)
        """
    )
    conn.execute(
        """
        INSERT INTO conversion_daily
        WITH s AS (SELECT CAST(ts AS DATE) AS day, sum(transactions) AS tx, sum(amount) AS amount
                   FROM sales GROUP BY 1)
        SELECT coalesce(d.day, s.day), coalesce(d.visitors, 0), coalesce(s.tx, 0), s.amount,
               CASE WHEN d.visitors > 0 THEN coalesce(s.tx, 0) / d.visitors END
        FROM store_metrics d FULL JOIN s ON s.day = d.day
        WHERE EXISTS (SELECT 1 FROM sales)
        """
    )
