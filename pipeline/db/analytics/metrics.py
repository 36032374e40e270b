"""Store and section metrics: hourly arrivals, visitors and occupancy, per-section visitors and dwell."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.db.analytics.tables import registered


def insert_occupancy(conn: duckdb.DuckDBPyConnection, minutes: pd.DataFrame, hours: pd.DataFrame) -> None:
    """``minutes``: minute_us, shoppers, staff; ``hours``: hour_us, visitors (distinct non-staff present)."""
    with registered(conn, "_minutes", minutes):
        conn.execute(
            "INSERT INTO occupancy_minute SELECT make_timestamp(minute_us), shoppers, staff FROM _minutes"
        )
    with registered(conn, "_hours", hours):
        conn.execute(
            """
            INSERT INTO store_hourly
            WITH arr AS (SELECT date_trunc('hour', first_ts) AS hour, count(*) AS arrivals
                         FROM shopper_paths WHERE NOT is_staff GROUP BY 1),
                 -- Minutes some processed footage covers: an hour filmed for 5 minutes is averaged over
                 -- those 5, not over 60 (unfilmed minutes are unknown, not empty).
                 filmed AS (SELECT date_trunc('hour', m) AS hour, count(DISTINCT m) AS minutes
                            FROM (SELECT unnest(range(date_trunc('minute', start_time),
                                                      start_time + to_microseconds(
                                                          CAST(frames_done / fps * 1e6 AS BIGINT)),
                                                      INTERVAL 1 MINUTE)) AS m
                                  FROM videos WHERE status = 'done' AND fps > 0 AND frames_done > 0)
                            GROUP BY 1),
                 occ AS (SELECT date_trunc('hour', minute) AS hour, sum(shoppers) AS person_minutes,
                                count(*) AS seen_minutes, max(shoppers) AS max_occ
                         FROM occupancy_minute GROUP BY 1)
            SELECT make_timestamp(h.hour_us) AS hour, coalesce(arr.arrivals, 0), h.visitors,
                   coalesce(occ.person_minutes / greatest(coalesce(filmed.minutes, 0), occ.seen_minutes), 0),
                   coalesce(occ.max_occ, 0)
            FROM _hours h LEFT JOIN arr ON arr.hour = make_timestamp(h.hour_us)
                 LEFT JOIN occ ON occ.hour = make_timestamp(h.hour_us)
                 LEFT JOIN filmed ON filmed.hour = make_timestamp(h.hour_us)
            """
        )


def insert_store_metrics(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        INSERT INTO store_metrics
        WITH d AS (SELECT CAST(first_ts AS DATE) AS day, count(*) AS visitors,
                          avg(time_in_store_s) AS m, median(time_in_store_s) AS med,
                          quantile_cont(time_in_store_s, 0.9) AS p90
                   FROM shopper_paths WHERE NOT is_staff GROUP BY 1),
             bh AS (SELECT CAST(hour AS DATE) AS day, first(hour ORDER BY visitors DESC, hour) AS busiest,
                           max(visitors) AS busiest_visitors FROM store_hourly GROUP BY 1),
             pk AS (SELECT CAST(minute AS DATE) AS day, first(minute ORDER BY shoppers DESC, minute) AS peak_minute,
                           max(shoppers) AS peak FROM occupancy_minute GROUP BY 1)
        SELECT d.day, d.visitors, d.m, d.med, d.p90, bh.busiest, bh.busiest_visitors, pk.peak, pk.peak_minute
        FROM d LEFT JOIN bh USING (day) LEFT JOIN pk USING (day)
        """
    )


_SECTION_METRICS = """
    WITH sec AS (SELECT zone FROM zones WHERE list_contains(kinds, 'section')),
    till_last AS (SELECT v.shopper_id, max(v.start_ts) AS last_till
                  FROM zone_visits v JOIN zones z USING (zone) WHERE z.is_till GROUP BY 1),
    v AS (SELECT v.zone, v.shopper_id, v.dwell_s, {period} AS period,
                 coalesce(t.last_till >= v.end_ts, false) AS reached
          FROM zone_visits v JOIN sec USING (zone) LEFT JOIN till_last t USING (shopper_id)
          WHERE NOT v.is_staff),
    agg AS (SELECT zone, period, count(DISTINCT shopper_id) AS visitors, count(*) AS visits,
                   avg(dwell_s) AS m, median(dwell_s) AS med, quantile_cont(dwell_s, 0.9) AS p90,
                   avg(CASE WHEN dwell_s < ? THEN 1.0 ELSE 0.0 END) AS bounce,
                   count(DISTINCT CASE WHEN reached THEN shopper_id END) / count(DISTINCT shopper_id) AS after
            FROM v GROUP BY zone, period),
    periods AS ({periods})
    SELECT s.zone, p.period, coalesce(a.visitors, 0), coalesce(a.visits, 0), p.store_visitors,
           CASE WHEN p.store_visitors > 0 THEN coalesce(a.visitors, 0) / p.store_visitors END,
           a.m, a.med, a.p90, a.bounce, a.after
    FROM sec s CROSS JOIN periods p LEFT JOIN agg a ON a.zone = s.zone AND a.period = p.period
"""
_SECTION_DAILY = "INSERT INTO section_metrics " + _SECTION_METRICS.format(
    period="CAST(v.start_ts AS DATE)",
    periods="SELECT day AS period, visitors AS store_visitors FROM store_metrics",
)
_SECTION_HOURLY = "INSERT INTO section_hourly " + _SECTION_METRICS.format(
    period="date_trunc('hour', v.start_ts)",
    periods="SELECT hour AS period, visitors AS store_visitors FROM store_hourly",
)


def insert_section_metrics(conn: duckdb.DuckDBPyConnection, bounce_s: float) -> None:
    """Per section and day / hour: visitors, visits, entry rate, dwell stats, bounce rate, checkout share."""
    conn.execute(_SECTION_DAILY, [bounce_s])
    conn.execute(_SECTION_HOURLY, [bounce_s])
