"""CSV reports, one file per table, with stable column names (units in the names) and ISO 8601 times.

Unit suffixes: ``_s`` seconds, ``_m`` metres, ``_mps`` metres per second, ``_frac`` a fraction 0-1,
``_ratio`` observed / threshold, ``_shoppers`` a count of people. Times are store-local ISO 8601
(``2026-11-20T14:03:07.250``), dates ``YYYY-MM-DD``. Text cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading apostrophe; numbers are
written as numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.db.analytics import export as export_sql

REPORTS: dict[str, tuple[str, ...]] = {
    "visits": ("visit_id", "shopper_id", "zone", "start_time", "end_time", "dwell_s", "is_staff"),
    "section_metrics": (
        "zone", "date", "visitors", "visits", "store_visitors", "entry_rate_frac", "dwell_mean_s",
        "dwell_median_s", "dwell_p90_s", "bounce_rate_frac", "checkout_after_frac",
    ),
    "section_hourly": (
        "zone", "hour_start", "visitors", "visits", "store_visitors", "entry_rate_frac", "dwell_mean_s",
        "dwell_median_s", "dwell_p90_s", "bounce_rate_frac", "checkout_after_frac",
    ),
    "store_hourly": ("hour_start", "arrivals", "visitors", "occupancy_mean_shoppers", "occupancy_max_shoppers"),
    "occupancy": ("minute_start", "shoppers", "staff"),
    "queue_waits": (
        "checkout", "queue_zone", "shopper_id", "queue_start", "queue_end", "till_start", "wait_s", "served",
    ),
    "queue_hourly": (
        "checkout", "hour_start", "waits", "served", "wait_p50_s", "wait_p90_s", "mean_length_shoppers",
        "max_shoppers",
    ),
    "paths": ("from_zone", "to_zone", "transitions", "shoppers", "share"),
    "sequences": ("rank", "sequence", "n_zones", "shoppers", "share"),
    "flags": (
        "flag_key", "rule", "shopper_id", "zone", "score_ratio", "start_time", "end_time", "experimental",
        "review_state", "review_note", "reviewer", "reviewed_at", "details", "evidence_json",
    ),
    "shoppers": (
        "shopper_id", "is_staff", "staff_source", "first_seen", "last_seen", "time_in_store_s", "path_length_m",
        "moving_s", "walking_speed_mps", "visits", "sequence",
    ),
    # Conversion is per arrival (visitors whose visit starts in the hour), not per visitor present (as
    # store_hourly.csv's visitors): the column says which.
    "conversion_hourly": ("hour_start", "arrivals", "transactions", "amount", "conversion_per_arrival"),
    "heatmap_floor": ("ix", "iy", "x_m", "y_m", "cell_m", "shopper_seconds"),
}  # fmt: skip


# A spreadsheet runs a cell starting with one of these as a formula (``=HYPERLINK(...)`` in a zone name).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if value != value else repr(round(value, 6))
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value  # shown as text, never evaluated (OWASP "CSV injection")
    return value


def write_reports(
    conn: duckdb.DuckDBPyConnection,
    out_dir: str | Path,
    start: datetime | None = None,
    end: datetime | None = None,
    zones: Sequence[str] | None = None,
) -> list[Path]:
    """Write one CSV per report in :data:`REPORTS` to ``out_dir`` (created), filtered to ``[start, end)``
    and to ``zones`` where the report has a zone (``None``: everything).

    ``paths`` (transitions) and ``sequences`` are recomputed for the filter; the others read the
    materialised tables. Returns the written paths in :data:`REPORTS` order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, columns in REPORTS.items():
        got, rows = export_sql.export_rows(conn, name, start, end, zones, limit=1_000_000)
        if tuple(got) != columns:  # a programming error: the SQL drifted from the published schema
            raise RuntimeError(f"report {name}: columns {got} differ from the published {columns}")
        path = out / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            writer.writerows([_cell(v) for v in row] for row in rows)
        written.append(path)
    return written
