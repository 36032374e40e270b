"""The derived analytics tables: their list, emptying them, reading the analysis inputs, the zone table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd

ISO = "%Y-%m-%dT%H:%M:%S"  # ISO 8601, store local time, no zone
ISO_MS = "%Y-%m-%dT%H:%M:%S.%g"

DERIVED_TABLES = (
    "zones", "zone_visits", "section_metrics", "section_hourly", "store_hourly", "store_metrics",
    "occupancy_minute", "queue_minute", "queue_waits", "queue_hourly", "transitions", "zone_sequences",
    "sankey_edges", "shopper_paths", "heatmap_floor", "heatmap_camera", "flags", "conversion_hourly",
    "conversion_daily", "analysis_summary",
)  # fmt: skip

_CLEAR = {name: f"DELETE FROM {name}" for name in DERIVED_TABLES}  # constant table names only


@contextmanager
def registered(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[None]:
    """Make ``frame`` readable as table ``name`` for the block."""
    conn.register(name, frame)
    try:
        yield
    finally:
        conn.unregister(name)


def clear_derived(conn: duckdb.DuckDBPyConnection) -> None:
    """Empty every derived table (not ``flag_reviews``, ``sales`` or the pipeline's own tables)."""
    for name in DERIVED_TABLES:
        conn.execute(_CLEAR[name])


def floor_points(conn: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """Floor trajectory points as numpy arrays ``shopper_id`` (int32), ``ts_us`` (int64), ``x``, ``y``."""
    query = "SELECT shopper_id, ts, x, y FROM trajectory WHERE space = 'floor'"
    # Arrow hands the columns over without a per-value conversion: 2-5x faster than fetchnumpy. A cursor,
    # because a relation refuses to run while this connection holds an unfinished result; it reads committed
    # rows, and analyse never writes the trajectory.
    with conn.cursor() as cur:
        table = cur.sql(query).to_arrow_table(1 << 30)  # big batches: to_numpy then barely copies
    out = {name: table.column(name).to_numpy() for name in ("shopper_id", "ts", "x", "y")}
    out["ts_us"] = np.asarray(out.pop("ts"), "datetime64[us]").view(np.int64)
    return out


def insert_zones(conn: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    with registered(conn, "_zones", frame):
        conn.execute(
            "INSERT INTO zones SELECT zone, kinds, is_till, queue_zone, source_camera, min_dwell_s, area_m2, wkt "
            "FROM _zones"
        )
