"""The ``analysis_summary`` row of one ``analyse`` run."""

from __future__ import annotations

from typing import Any

import duckdb


def write_summary(
    conn: duckdb.DuckDBPyConnection,
    settings_json: str,
    points: int,
    sample_interval_s: float | None,
    seconds: float,
) -> dict[str, Any]:
    conn.execute(
        """
        INSERT INTO analysis_summary
        SELECT 1, now(), ?, ?, (SELECT count(*) FROM shopper_paths WHERE NOT is_staff),
               (SELECT count(*) FROM shopper_paths WHERE is_staff), (SELECT count(*) FROM zone_visits),
               (SELECT count(*) FROM flags), ?, ?
        """,
        [settings_json, points, sample_interval_s, seconds],
    )
    cur = conn.execute("SELECT * FROM analysis_summary")
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone()))
