"""Report queries of the API, dashboard and CSV exports, filtered by time range and zones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from pipeline.db.analytics.paths import SEQUENCES_SQL, TRANSITIONS_SQL
from pipeline.db.analytics.tables import ISO, ISO_MS

_F = "WITH f AS (SELECT CAST(? AS TIMESTAMP) AS t0, CAST(? AS TIMESTAMP) AS t1, CAST(? AS VARCHAR[]) AS zs) "
_IN_TIME = "(f.t0 IS NULL OR {col} >= f.t0) AND (f.t1 IS NULL OR {col} < f.t1)"
_OVERLAP = "(f.t0 IS NULL OR {col} + INTERVAL {len} > f.t0) AND (f.t1 IS NULL OR {col} < f.t1)"
_IN_ZONES = "(f.zs IS NULL OR list_contains(f.zs, {col}))"


def _where(time: str, zone: str | None = None) -> str:
    parts = [time] + ([_IN_ZONES.format(col=zone)] if zone else [])
    return " WHERE " + " AND ".join(parts)


EXPORT_SQL: dict[str, str] = {
    "visits": _F
    + f"""
        SELECT visit_id, shopper_id, zone, strftime(start_ts, '{ISO_MS}') AS start_time,
               strftime(end_ts, '{ISO_MS}') AS end_time, round(dwell_s, 3) AS dwell_s, is_staff
        FROM zone_visits, f"""
    + _where(_IN_TIME.format(col="start_ts"), "zone")
    + " ORDER BY visit_id",
    "section_metrics": _F
    + """
        SELECT zone, strftime(day, '%Y-%m-%d') AS date, visitors, visits, store_visitors,
               entry_rate AS entry_rate_frac, dwell_mean_s, dwell_median_s, dwell_p90_s,
               bounce_rate AS bounce_rate_frac, checkout_after_share AS checkout_after_frac
        FROM section_metrics, f"""
    + _where(_OVERLAP.format(col="CAST(day AS TIMESTAMP)", len="1 DAY"), "zone")
    + " ORDER BY day, zone",
    "section_hourly": _F
    + f"""
        SELECT zone, strftime(hour, '{ISO}') AS hour_start, visitors, visits, store_visitors,
               entry_rate AS entry_rate_frac, dwell_mean_s, dwell_median_s, dwell_p90_s,
               bounce_rate AS bounce_rate_frac, checkout_after_share AS checkout_after_frac
        FROM section_hourly, f"""
    + _where(_OVERLAP.format(col="hour", len="1 HOUR"), "zone")
    + " ORDER BY hour, zone",
    "store_hourly": _F
    + f"""
        SELECT strftime(hour, '{ISO}') AS hour_start, arrivals, visitors, occupancy_mean AS occupancy_mean_shoppers,
               occupancy_max AS occupancy_max_shoppers
        FROM store_hourly, f"""
    + _where(_OVERLAP.format(col="hour", len="1 HOUR"))
    + " ORDER BY hour",
    "occupancy": _F
    + f"""
        SELECT strftime(minute, '{ISO}') AS minute_start, shoppers, staff FROM occupancy_minute, f"""
    + _where(_IN_TIME.format(col="minute"))
    + " ORDER BY minute",
    "queue_waits": _F
    + f"""
        SELECT checkout, queue_zone, shopper_id, strftime(queue_start, '{ISO_MS}') AS queue_start,
               strftime(queue_end, '{ISO_MS}') AS queue_end, strftime(till_start, '{ISO_MS}') AS till_start,
               round(wait_s, 3) AS wait_s, served
        FROM queue_waits, f"""
    + _where(_IN_TIME.format(col="queue_start"), "checkout")
    + " ORDER BY queue_start, checkout, shopper_id",
    "queue_hourly": _F
    + f"""
        SELECT checkout, strftime(hour, '{ISO}') AS hour_start, waits, served, wait_p50_s, wait_p90_s,
               mean_length AS mean_length_shoppers, max_shoppers
        FROM queue_hourly, f"""
    + _where(_OVERLAP.format(col="hour", len="1 HOUR"), "checkout")
    + " ORDER BY hour, checkout",
    "flags": _F
    + f"""
        SELECT flag_key, rule, shopper_id, zone, round(score, 3) AS score_ratio,
               strftime(start_ts, '{ISO_MS}') AS start_time, strftime(end_ts, '{ISO_MS}') AS end_time,
               experimental, review_state, review_note, reviewer, strftime(reviewed_at, '{ISO}') AS reviewed_at,
               details, CAST(evidence AS VARCHAR) AS evidence_json
        FROM flags_reviewed, f"""
    + _where(_IN_TIME.format(col="start_ts"), "zone")
    + " ORDER BY start_ts, rule, shopper_id",
    "shoppers": _F
    + f"""
        SELECT p.shopper_id, p.is_staff, s.staff_source, strftime(p.first_ts, '{ISO_MS}') AS first_seen,
               strftime(p.last_ts, '{ISO_MS}') AS last_seen, round(p.time_in_store_s, 3) AS time_in_store_s,
               round(p.path_length_m, 2) AS path_length_m, round(p.moving_s, 1) AS moving_s,
               round(p.walking_speed_mps, 3) AS walking_speed_mps, p.visits, p.sequence
        FROM shopper_paths p LEFT JOIN shoppers s USING (shopper_id), f"""
    + _where(
        _IN_TIME.format(col="p.first_ts")
        + " AND (f.zs IS NULL OR p.shopper_id IN (SELECT shopper_id FROM zone_visits WHERE list_contains(f.zs, zone)))"
    )
    + " ORDER BY p.shopper_id",
    "conversion_hourly": _F
    + f"""
        SELECT strftime(hour, '{ISO}') AS hour_start, visitors AS arrivals, transactions, amount,
               conversion AS conversion_per_arrival
        FROM conversion_hourly, f"""
    + _where(_OVERLAP.format(col="hour", len="1 HOUR"))
    + " ORDER BY hour",
    "heatmap_floor": _F
    + """
        SELECT ix, iy, any_value(x_m) AS x_m, any_value(y_m) AS y_m, any_value(cell_m) AS cell_m,
               round(sum(shopper_seconds), 3) AS shopper_seconds
        FROM heatmap_floor, f"""
    + _where(_OVERLAP.format(col="hour", len="1 HOUR"))
    + " GROUP BY ix, iy ORDER BY iy, ix",
    "paths": TRANSITIONS_SQL,
    "sequences": SEQUENCES_SQL,
}


def export_rows(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    start: datetime | None = None,
    end: datetime | None = None,
    zones: Sequence[str] | None = None,
    limit: int = 1000,
) -> tuple[list[str], list[tuple]]:
    """Columns and rows of report ``name`` (a key of :data:`EXPORT_SQL`), filtered to ``[start, end)`` and
    ``zones`` (each ``None`` for all). ``limit`` applies to ``sequences`` only."""
    params: list[Any] = [start, end, list(zones) if zones is not None else None]
    if name == "sequences":
        params.append(limit)
    cur = conn.execute(EXPORT_SQL[name], params)
    return [d[0] for d in cur.description], cur.fetchall()


def heatmap_cells(
    conn: duckdb.DuckDBPyConnection,
    camera: str | None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """Shopper-seconds per cell summed over the hours overlapping ``[start, end)``: floor cells when
    ``camera`` is ``None`` (x_m, y_m, cell_m), else that camera's image cells (u_px, v_px, cell_px)."""
    if camera is None:
        return conn.execute(EXPORT_SQL["heatmap_floor"], [start, end, None]).df()
    return conn.execute(
        _F
        + """
        SELECT iu, iv, any_value(u_px) AS u_px, any_value(v_px) AS v_px, any_value(cell_px) AS cell_px,
               sum(shopper_seconds) AS shopper_seconds
        FROM heatmap_camera, f WHERE camera = ? AND """
        + _OVERLAP.format(col="hour", len="1 HOUR")
        + " GROUP BY iu, iv ORDER BY iv, iu",
        [start, end, None, camera],
    ).df()
