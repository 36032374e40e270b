"""Checkout queues: waits per shopper, queue length per minute, p50 / p90 waits per hour."""

from __future__ import annotations

import duckdb


def insert_queues(conn: duckdb.DuckDBPyConnection, till_link_s: float) -> None:
    """Queue waits per shopper, queue length per minute and p50/p90 waits per hour, for every till."""
    conn.execute(
        """
        INSERT INTO queue_waits
        WITH m AS (SELECT zone AS checkout, queue_zone FROM zones WHERE is_till),
        q AS (SELECT m.checkout, m.queue_zone, v.shopper_id, v.start_ts, v.end_ts, v.dwell_s
              FROM zone_visits v JOIN m ON v.zone = m.queue_zone WHERE NOT v.is_staff),
        t AS (SELECT v.zone AS checkout, v.shopper_id, v.start_ts FROM zone_visits v JOIN m ON v.zone = m.checkout),
        j AS (SELECT q.checkout, q.queue_zone, q.shopper_id, q.start_ts, q.end_ts, q.dwell_s,
                     min(t.start_ts) AS till_start
              FROM q LEFT JOIN t ON t.checkout = q.checkout AND t.shopper_id = q.shopper_id
                   AND q.queue_zone <> q.checkout AND t.start_ts >= q.start_ts
                   AND t.start_ts <= q.end_ts + to_microseconds(CAST(? * 1e6 AS BIGINT))
              GROUP BY ALL)
        SELECT checkout, queue_zone, shopper_id, start_ts, end_ts,
               CASE WHEN queue_zone = checkout THEN start_ts ELSE till_start END,
               CASE WHEN queue_zone = checkout OR till_start IS NULL THEN dwell_s
                    ELSE (epoch_us(till_start) - epoch_us(start_ts)) / 1e6 END,
               queue_zone = checkout OR till_start IS NOT NULL
        FROM j
        """,
        [till_link_s],
    )
    conn.execute(
        """
        INSERT INTO queue_minute
        WITH m AS (SELECT zone AS checkout, queue_zone FROM zones WHERE is_till),
        q AS (SELECT m.checkout, v.shopper_id, v.start_ts, v.end_ts
              FROM zone_visits v JOIN m ON v.zone = m.queue_zone WHERE NOT v.is_staff),
        qm AS (SELECT checkout, shopper_id, start_ts, end_ts,
                      unnest(generate_series(date_trunc('minute', start_ts),
                                             date_trunc('minute', end_ts - INTERVAL 1 MICROSECOND),
                                             INTERVAL 1 MINUTE)) AS minute
               FROM q),
        agg AS (SELECT checkout, minute, count(DISTINCT shopper_id) AS n,
                       sum(date_diff('microsecond', greatest(start_ts, minute),
                                     least(end_ts, minute + INTERVAL 1 MINUTE))) / 60e6 AS ml
                FROM qm GROUP BY checkout, minute),
        grid AS (SELECT m.checkout, o.minute FROM m CROSS JOIN occupancy_minute o)
        SELECT coalesce(g.checkout, a.checkout), coalesce(g.minute, a.minute), coalesce(a.n, 0), coalesce(a.ml, 0)
        FROM grid g FULL JOIN agg a ON a.checkout = g.checkout AND a.minute = g.minute
        """
    )
    conn.execute(
        """
        INSERT INTO queue_hourly
        WITH w AS (SELECT checkout, date_trunc('hour', queue_start) AS hour, count(*) AS waits,
                          count(*) FILTER (WHERE served) AS served,
                          quantile_cont(wait_s, 0.5) FILTER (WHERE served) AS p50,
                          quantile_cont(wait_s, 0.9) FILTER (WHERE served) AS p90
                   FROM queue_waits GROUP BY ALL),
             -- over the hour's filmed minutes (queue_minute's grid), as mean occupancy: the rest is unknown
             l AS (SELECT checkout, date_trunc('hour', minute) AS hour, avg(mean_length) AS ml,
                          max(shoppers) AS mx FROM queue_minute GROUP BY ALL)
        SELECT coalesce(w.checkout, l.checkout), coalesce(w.hour, l.hour), coalesce(w.waits, 0),
               coalesce(w.served, 0), w.p50, w.p90, coalesce(l.ml, 0), coalesce(l.mx, 0)
        FROM w FULL JOIN l ON l.checkout = w.checkout AND l.hour = w.hour
        """
    )
