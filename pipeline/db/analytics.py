"""All SQL of the store analytics (``zones`` package): every query takes DuckDB ``?`` parameters.

Python-side arrays reach SQL as registered pandas DataFrames (fixed names starting with ``_``), never as
formatted text. Tables are created by ``migrations/v0002_analytics.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.db.tracks import POINT_PART_JOIN, POINT_SHOPPER

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


# --- inputs ---------------------------------------------------------------------------------------------------


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


# --- visits and staff ----------------------------------------------------------------------------------------


def insert_visits(conn: duckdb.DuckDBPyConnection, segments: pd.DataFrame, merge_gap_us: int) -> int:
    """Join segments into visits (gap < merge window), keep those reaching their zone's minimum dwell.

    Args:
        segments: columns ``shopper_id``, ``zone``, ``start_us``, ``end_us`` (microseconds).
        merge_gap_us: gaps shorter than this join one visit.

    Returns:
        The number of visits written.
    """
    with registered(conn, "_segments", segments):
        conn.execute(
            """
            INSERT INTO zone_visits
            WITH s AS (
                SELECT shopper_id, zone, start_us, end_us,
                       start_us - max(end_us) OVER (
                           PARTITION BY shopper_id, zone ORDER BY start_us
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gap_us
                FROM _segments),
            n AS (
                SELECT *, sum(CASE WHEN gap_us IS NULL OR gap_us >= ? THEN 1 ELSE 0 END) OVER (
                           PARTITION BY shopper_id, zone ORDER BY start_us
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS visit_no
                FROM s),
            v AS (
                SELECT shopper_id, zone, min(start_us) AS start_us, max(end_us) AS end_us, count(*) AS n_segments
                FROM n GROUP BY shopper_id, zone, visit_no)
            SELECT row_number() OVER (ORDER BY v.shopper_id, v.start_us, v.zone), v.shopper_id, v.zone,
                   make_timestamp(v.start_us), make_timestamp(v.end_us), (v.end_us - v.start_us) / 1e6,
                   v.n_segments, coalesce(sh.is_staff, false)
            FROM v JOIN zones z USING (zone) LEFT JOIN shoppers sh USING (shopper_id)
            WHERE (v.end_us - v.start_us) / 1e6 >= z.min_dwell_s
            """,
            [merge_gap_us],
        )
    return conn.execute("SELECT count(*) FROM zone_visits").fetchone()[0]


def apply_staff_zone_rule(conn: duckdb.DuckDBPyConnection, staff_zone_s: float) -> int:
    """Mark shoppers staff (``staff_source='zone_rule'``) who spent more than ``staff_zone_s`` in staff_only
    zones; undo earlier zone-rule marks first; never touch other staff marks (``manual``). Updates
    ``zone_visits.is_staff``. Returns the number of shoppers the rule marks."""
    conn.execute("UPDATE shoppers SET is_staff = false, staff_source = NULL WHERE staff_source = 'zone_rule'")
    conn.execute(
        """
        UPDATE shoppers SET is_staff = true, staff_source = 'zone_rule'
        WHERE NOT is_staff AND shopper_id IN (
            SELECT v.shopper_id FROM zone_visits v JOIN zones z USING (zone)
            WHERE list_contains(z.kinds, 'staff_only')
            GROUP BY v.shopper_id HAVING sum(v.dwell_s) > ?)
        """,
        [staff_zone_s],
    )
    conn.execute(
        "UPDATE zone_visits SET is_staff = coalesce(s.is_staff, false) "
        "FROM shoppers s WHERE s.shopper_id = zone_visits.shopper_id"
    )
    return conn.execute("SELECT count(*) FROM shoppers WHERE staff_source = 'zone_rule'").fetchone()[0]


def staff_ids(conn: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Sorted int32 ids of shoppers marked staff."""
    ids = conn.execute("SELECT shopper_id FROM shoppers WHERE is_staff ORDER BY 1").fetchnumpy()["shopper_id"]
    return np.asarray(ids, np.int32)


# --- per-point aggregates computed in numpy -------------------------------------------------------------------


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


_SEQUENCE_TABLE = """
    CREATE OR REPLACE TEMP TABLE _seq AS
    WITH v AS (
        SELECT shopper_id, zone, start_ts, is_staff,
               lag(zone) OVER (PARTITION BY shopper_id ORDER BY start_ts, zone) AS prev
        FROM zone_visits)
    SELECT shopper_id, zone, start_ts, is_staff, prev,
           row_number() OVER (PARTITION BY shopper_id ORDER BY start_ts, zone) AS step
    FROM v WHERE prev IS NULL OR prev <> zone
"""


def insert_shopper_paths(conn: duckdb.DuckDBPyConnection, paths: pd.DataFrame) -> None:
    """``paths``: shopper_id, first_us, last_us, time_in_store_s, n_points, path_length_m, moving_s,
    walking_speed_mps. Adds staff status, visit count and the collapsed zone sequence."""
    conn.execute(_SEQUENCE_TABLE)
    with registered(conn, "_paths", paths):
        conn.execute(
            """
            INSERT INTO shopper_paths
            WITH seq AS (SELECT shopper_id, string_agg(zone, ' > ' ORDER BY step) AS sequence
                         FROM _seq GROUP BY shopper_id),
                 nv AS (SELECT shopper_id, count(*) AS visits FROM zone_visits GROUP BY shopper_id)
            SELECT p.shopper_id, coalesce(s.is_staff, false), make_timestamp(p.first_us),
                   make_timestamp(p.last_us), p.time_in_store_s, p.n_points, p.path_length_m, p.moving_s,
                   p.walking_speed_mps, coalesce(nv.visits, 0), seq.sequence
            FROM _paths p LEFT JOIN shoppers s USING (shopper_id) LEFT JOIN nv USING (shopper_id)
                 LEFT JOIN seq USING (shopper_id)
            """
        )


def insert_heatmap_floor(conn: duckdb.DuckDBPyConnection, cells: pd.DataFrame, cell_m: float) -> None:
    """``cells``: hour_us, ix, iy, x0_m, y0_m (grid origin), shopper_seconds."""
    with registered(conn, "_cells", cells):
        conn.execute(
            "INSERT INTO heatmap_floor SELECT make_timestamp(hour_us), ix, iy, x0_m + (ix + 0.5) * ?, "
            "y0_m + (iy + 0.5) * ?, ?, shopper_seconds FROM _cells",
            [cell_m, cell_m, cell_m],
        )


def insert_heatmap_camera(
    conn: duckdb.DuckDBPyConnection, cell_px: float, max_step_s: float, fallback_s: float
) -> None:
    """Shopper-seconds per image cell per camera and hour from ``track_points`` (staff and static
    tracklets, e.g. mannequins, excluded).

    Each point stands for the time to the track's next point (or from its previous one, for the last),
    capped: a step longer than ``max_step_s`` counts as ``fallback_s``.
    """
    conn.execute(
        """
        INSERT INTO heatmap_camera
        WITH tp AS (
            SELECT tp.camera, tp.ts, tp.foot_u, tp.foot_v, coalesce(s.is_staff, false) AS is_staff,
                   coalesce(t.is_static, false) AS is_static,
                   lead(tp.t_sec) OVER w - tp.t_sec AS next_step, tp.t_sec - lag(tp.t_sec) OVER w AS prev_step
            FROM track_points tp
                 LEFT JOIN tracklets t ON t.video_id = tp.video_id AND t.track_id = tp.track_id
                 LEFT JOIN shoppers s ON s.shopper_id = t.shopper_id
            WINDOW w AS (PARTITION BY tp.video_id, tp.track_id ORDER BY tp.frame)),
        c AS (
            SELECT camera, date_trunc('hour', ts) AS hour,
                   CAST(floor(foot_u / ?) AS INTEGER) AS iu, CAST(floor(foot_v / ?) AS INTEGER) AS iv,
                   CASE WHEN next_step <= ? THEN next_step WHEN prev_step <= ? THEN prev_step ELSE ? END AS w
            FROM tp WHERE NOT is_staff AND NOT is_static)
        SELECT camera, hour, iu, iv, (iu + 0.5) * ?, (iv + 0.5) * ?, ?, sum(w)
        FROM c GROUP BY camera, hour, iu, iv
        """,
        [cell_px, cell_px, max_step_s, max_step_s, fallback_s, cell_px, cell_px, cell_px],
    )


# --- metrics -------------------------------------------------------------------------------------------------


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
             l AS (SELECT checkout, date_trunc('hour', minute) AS hour, sum(mean_length) / 60 AS ml,
                          max(shoppers) AS mx FROM queue_minute GROUP BY ALL)
        SELECT coalesce(w.checkout, l.checkout), coalesce(w.hour, l.hour), coalesce(w.waits, 0),
               coalesce(w.served, 0), w.p50, w.p90, coalesce(l.ml, 0), coalesce(l.mx, 0)
        FROM w FULL JOIN l ON l.checkout = w.checkout AND l.hour = w.hour
        """
    )


# --- paths ----------------------------------------------------------------------------------------------------

# Filters shared by the path queries: (start, end, zones), each NULL for "all".
_FILTERED_SEQ = """
    WITH f AS (SELECT CAST(? AS TIMESTAMP) AS t0, CAST(? AS TIMESTAMP) AS t1, CAST(? AS VARCHAR[]) AS zs),
    fv AS (SELECT v.shopper_id, v.zone, v.start_ts,
                  lag(v.zone) OVER (PARTITION BY v.shopper_id ORDER BY v.start_ts, v.zone) AS prev
           FROM zone_visits v, f
           WHERE NOT v.is_staff AND (f.t0 IS NULL OR v.start_ts >= f.t0) AND (f.t1 IS NULL OR v.start_ts < f.t1)
                 AND (f.zs IS NULL OR list_contains(f.zs, v.zone))),
    seq AS (SELECT shopper_id, zone, prev,
                   row_number() OVER (PARTITION BY shopper_id ORDER BY start_ts, zone) AS step
            FROM fv WHERE prev IS NULL OR prev <> zone)
"""
TRANSITIONS_SQL = (
    _FILTERED_SEQ
    + """
    SELECT prev AS from_zone, zone AS to_zone, count(*) AS transitions, count(DISTINCT shopper_id) AS shoppers,
           count(*) / sum(count(*)) OVER (PARTITION BY prev) AS share
    FROM seq WHERE prev IS NOT NULL GROUP BY prev, zone ORDER BY from_zone, transitions DESC, to_zone
"""
)
SEQUENCES_SQL = (
    _FILTERED_SEQ
    + """,
    s AS (SELECT shopper_id, string_agg(zone, ' > ' ORDER BY step) AS sequence, count(*) AS n_zones
          FROM seq GROUP BY shopper_id),
    g AS (SELECT sequence, any_value(n_zones) AS n_zones, count(*) AS shoppers FROM s GROUP BY sequence)
    SELECT CAST(row_number() OVER (ORDER BY shoppers DESC, sequence) AS INTEGER) AS rank, sequence, n_zones,
           shoppers, shoppers / sum(shoppers) OVER () AS share
    FROM g ORDER BY rank LIMIT ?
"""
)
SANKEY_SQL = (
    _FILTERED_SEQ
    + """
    SELECT CAST(a.step AS INTEGER) AS step, a.step || '. ' || a.zone AS source, b.step || '. ' || b.zone AS target,
           a.zone AS source_zone, b.zone AS target_zone, count(*) AS value
    FROM seq a JOIN seq b ON b.shopper_id = a.shopper_id AND b.step = a.step + 1
    WHERE a.step < ? GROUP BY ALL ORDER BY step, value DESC, source, target
"""
)


def insert_paths(conn: duckdb.DuckDBPyConnection, top_sequences: int, sankey_steps: int) -> None:
    """Transition matrix, most common zone sequences and Sankey edges (staff excluded)."""
    conn.execute("INSERT INTO transitions " + TRANSITIONS_SQL, [None, None, None])
    conn.execute("INSERT INTO zone_sequences " + SEQUENCES_SQL, [None, None, None, top_sequences])
    conn.execute("INSERT INTO sankey_edges " + SANKEY_SQL, [None, None, None, sankey_steps])


# --- sales and conversion -------------------------------------------------------------------------------------


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


# --- flags ---------------------------------------------------------------------------------------------------

_CANDIDATES = """
    CREATE OR REPLACE TEMP TABLE _flag_candidates (
        rule VARCHAR, shopper_id INTEGER, zone VARCHAR, score DOUBLE, start_ts TIMESTAMP, end_ts TIMESTAMP,
        experimental BOOLEAN, details VARCHAR)
"""
_HV = """
    WITH hv AS (SELECT v.* FROM zone_visits v JOIN zones z USING (zone)
                WHERE list_contains(z.kinds, 'high_value') AND NOT v.is_staff)
"""
FLAG_RULE_SQL = {
    "long_dwell": _HV
    + """,
        p AS (SELECT zone, quantile_cont(dwell_s, 0.95) AS p95, count(*) AS n FROM hv GROUP BY zone),
        l AS (SELECT hv.*, p.p95,
                     CASE WHEN $use_p95 AND p.n >= $p95_min_visits THEN least($threshold_s, greatest(p.p95, $p95_min_s))
                          ELSE $threshold_s END AS limit_s
              FROM hv JOIN p USING (zone))
        SELECT 'long_dwell', shopper_id, zone, dwell_s / limit_s, start_ts, end_ts, false,
               printf('dwell %.0f s in %s (limit %.0f s; zone p95 %.0f s)', dwell_s, zone, limit_s, p95)
        FROM l WHERE dwell_s > limit_s
    """,
    "repeated_returns": _HV
    + """
        SELECT 'repeated_returns', shopper_id, zone, count(*) / CAST($min_visits AS DOUBLE), min(start_ts),
               max(end_ts), false, printf('%d separate visits to %s', count(*), zone)
        FROM hv GROUP BY shopper_id, zone HAVING count(*) >= $min_visits
    """,
    "checkout_bypass": _HV
    + """,
        ex AS (SELECT v.shopper_id, v.zone, v.start_ts, v.end_ts FROM zone_visits v JOIN zones z USING (zone)
               WHERE list_contains(z.kinds, 'exit')),
        till AS (SELECT v.shopper_id, v.start_ts FROM zone_visits v JOIN zones z USING (zone) WHERE z.is_till),
        c AS (SELECT h.shopper_id, h.zone, h.start_ts AS hv_start, h.end_ts AS hv_end,
                     min(e.start_ts) AS exit_start, arg_min(e.end_ts, e.start_ts) AS exit_end,
                     arg_min(e.zone, e.start_ts) AS exit_zone
              FROM hv h JOIN ex e ON e.shopper_id = h.shopper_id AND e.start_ts >= h.end_ts
              GROUP BY h.shopper_id, h.zone, h.start_ts, h.end_ts),
        nb AS (SELECT c.* FROM c WHERE NOT EXISTS (
                   SELECT 1 FROM till t WHERE t.shopper_id = c.shopper_id
                   AND t.start_ts >= c.hv_end AND t.start_ts <= c.exit_start))
        SELECT 'checkout_bypass', shopper_id, arg_max(zone, hv_end), 1.0, min(hv_start), max(exit_end), false,
               printf('left %s via %s at %s without a checkout visit', arg_max(zone, hv_end),
                      any_value(exit_zone), strftime(exit_start, '%H:%M:%S'))
        FROM nb GROUP BY shopper_id, exit_start
    """,
    "restricted_entry": """
        SELECT 'restricted_entry', v.shopper_id, v.zone, 1.0, v.start_ts, v.end_ts, false,
               printf('%.0f s in %s zone %s', v.dwell_s,
                      CASE WHEN list_contains(z.kinds, 'restricted') THEN 'restricted' ELSE 'staff-only' END, v.zone)
        FROM zone_visits v JOIN zones z USING (zone)
        WHERE (list_contains(z.kinds, 'restricted') OR list_contains(z.kinds, 'staff_only'))
              AND NOT v.is_staff AND v.dwell_s >= $min_s
    """,
    "loitering": """
        SELECT 'loitering', v.shopper_id, v.zone, v.dwell_s / greatest($threshold_s, 1e-9), v.start_ts, v.end_ts,
               false,
               printf('%.0f s at %s', v.dwell_s, v.zone)
        FROM zone_visits v JOIN zones z USING (zone)
        WHERE (list_contains(z.kinds, 'entrance') OR list_contains(z.kinds, 'exit'))
              AND NOT v.is_staff AND v.dwell_s >= $threshold_s
    """,
}  # each rule's named parameters are its flags: settings (zones.flags.rule_params)


def pose_points(conn: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """Track points with 17-keypoint poses and a floor position, of non-staff shoppers, ordered by track
    and frame: shopper_id, video_id, track_id, t_sec, ts_us, floor_x, floor_y, box_h, box_cx, keypoints
    (list of 51 floats)."""
    return conn.execute(
        f"""
        SELECT {POINT_SHOPPER} AS shopper_id, p.video_id, p.track_id, p.t_sec, epoch_us(p.ts) AS ts_us,
               p.floor_x, p.floor_y, p.y2 - p.y1 AS box_h, (p.x1 + p.x2) / 2 AS box_cx, p.keypoints
        FROM track_points p
             JOIN tracklets t ON t.video_id = p.video_id AND t.track_id = p.track_id
             {POINT_PART_JOIN}
             LEFT JOIN shoppers s ON s.shopper_id = {POINT_SHOPPER}
        WHERE p.keypoints IS NOT NULL AND len(p.keypoints) = 51 AND p.floor_x IS NOT NULL
              AND t.shopper_id IS NOT NULL AND NOT coalesce(s.is_staff, false)
        ORDER BY p.video_id, p.track_id, p.frame
        """
    ).fetchnumpy()


def insert_flags(
    conn: duckdb.DuckDBPyConnection, rules: dict[str, dict[str, Any]], pose: pd.DataFrame | None
) -> int:
    """Evaluate the enabled rules and write ``flags`` with evidence; ``flag_reviews`` is left untouched.

    Args:
        rules: rule name -> its named query parameters (see :data:`FLAG_RULE_SQL`), enabled rules only.
        pose: pose-cue candidates (shopper_id, zone, score, start_us, end_us, details) or ``None``.

    Returns:
        The number of flags written.
    """
    conn.execute(_CANDIDATES)
    for name, params in rules.items():
        conn.execute("INSERT INTO _flag_candidates " + FLAG_RULE_SQL[name], params or None)
    if pose is not None and not pose.empty:
        with registered(conn, "_pose", pose):
            conn.execute(
                "INSERT INTO _flag_candidates SELECT 'pose_concealment', shopper_id, zone, score, "
                "make_timestamp(start_us), make_timestamp(end_us), true, details FROM _pose"
            )
    conn.execute(
        """
        INSERT INTO flags
        WITH c AS (
            SELECT *, left(md5(rule || '|' || shopper_id || '|' || coalesce(zone, '') || '|'
                               || strftime(start_ts, '%Y-%m-%dT%H:%M:%S.%f')), 16) AS flag_key
            FROM _flag_candidates
            QUALIFY row_number() OVER (PARTITION BY rule, shopper_id, zone, start_ts ORDER BY end_ts DESC) = 1),
        zs AS (
            SELECT c.flag_key, list({'zone': v.zone, 'start': strftime(v.start_ts, $iso_ms),
                                     'end': strftime(v.end_ts, $iso_ms),
                                     'dwell_s': round(v.dwell_s, 1)} ORDER BY v.start_ts, v.zone) AS zones
            FROM c JOIN zone_visits v ON v.shopper_id = c.shopper_id
                 AND v.end_ts > c.start_ts AND v.start_ts < c.end_ts
            GROUP BY c.flag_key),
        cf AS (
            SELECT c.flag_key, t.camera, t.video_id, min(t.frame) AS f0, max(t.frame) AS f1,
                   min(t.ts) AS t0, max(t.ts) AS t1
            FROM c JOIN trajectory t ON t.shopper_id = c.shopper_id AND t.ts >= c.start_ts AND t.ts <= c.end_ts
            GROUP BY c.flag_key, t.camera, t.video_id),
        cs AS (
            SELECT flag_key, list({'camera': camera, 'video_id': video_id, 'first_frame': f0, 'last_frame': f1,
                                   'start': strftime(t0, $iso_ms), 'end': strftime(t1, $iso_ms)}
                                  ORDER BY camera, video_id) AS cameras
            FROM cf GROUP BY flag_key)
        SELECT c.flag_key, c.rule, c.shopper_id, c.zone, c.score, c.start_ts, c.end_ts, c.experimental, c.details,
               json_object('zones', coalesce(to_json(zs.zones), '[]'::JSON),
                           'cameras', coalesce(to_json(cs.cameras), '[]'::JSON))
        FROM c LEFT JOIN zs USING (flag_key) LEFT JOIN cs USING (flag_key)
        """,
        {"iso_ms": ISO_MS},
    )
    conn.execute("DROP TABLE _flag_candidates")
    return conn.execute("SELECT count(*) FROM flags").fetchone()[0]


def flag_exists(conn: duckdb.DuckDBPyConnection, flag_key: str) -> bool:
    return conn.execute("SELECT count(*) FROM flags WHERE flag_key = ?", [flag_key]).fetchone()[0] > 0


def upsert_flag_review(
    conn: duckdb.DuckDBPyConnection, flag_key: str, state: str, note: str | None, reviewer: str | None
) -> None:
    conn.execute(
        """
        INSERT INTO flag_reviews VALUES (?, ?, ?, ?, now())
        ON CONFLICT (flag_key) DO UPDATE SET state = excluded.state, note = excluded.note,
            reviewer = excluded.reviewer, reviewed_at = excluded.reviewed_at
        """,
        [flag_key, state, note, reviewer],
    )


# --- summary --------------------------------------------------------------------------------------------------


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


# --- queries for the API, dashboard and CSV exports -----------------------------------------------------------

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
        SELECT strftime(hour, '{ISO}') AS hour_start, visitors, transactions, amount,
               conversion AS conversion_per_visitor
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


# --- simulated demo store (pipeline.simulate) -----------------------------------------------------------------


def write_simulated_store(
    conn: duckdb.DuckDBPyConnection,
    store_name: str,
    settings_json: str,
    cameras: pd.DataFrame,
    shoppers: pd.DataFrame,
    trajectory: pd.DataFrame,
    track_points: pd.DataFrame,
) -> dict[str, int]:
    """Write what the video pipeline would: a run, cameras, one finished (file-less) video per camera,
    shoppers, floor trajectory, track points and the tracklets they form. Returns camera -> video_id.

    Frames: ``cameras`` (name, homography list[9], width, height, path, fps, n_frames, start_time);
    ``shoppers`` (shopper_id, first_ts, last_ts, is_staff, staff_source); ``trajectory`` (shopper_id,
    camera, frame, ts, x, y); ``track_points`` (camera, frame, t_sec, ts, track_id, shopper_id, x1, y1, x2,
    y2, score, foot_u, foot_v, floor_x, floor_y, keypoints list[51] or None).
    """
    run_id = conn.execute(
        "INSERT INTO runs (store_name, config_path, settings, finished_at) VALUES (?, 'simulated', ?, now()) "
        "RETURNING run_id",
        [store_name, settings_json],
    ).fetchone()[0]
    with registered(conn, "_cameras", cameras):
        conn.execute(
            "INSERT INTO cameras (name, homography, width, height) "
            "SELECT name, CAST(homography AS DOUBLE[9]), width, height FROM _cameras"
        )
        conn.execute(
            "INSERT INTO videos (camera, path, fps, n_frames, start_time, status, frames_done, run_id) "
            "SELECT name, path, fps, n_frames, CAST(start_time AS TIMESTAMP), 'done', n_frames, ? FROM _cameras",
            [run_id],
        )
    video_ids = dict(conn.execute("SELECT camera, video_id FROM videos").fetchall())
    with registered(conn, "_shoppers", shoppers):
        conn.execute(
            "INSERT INTO shoppers SELECT shopper_id, CAST(first_ts AS TIMESTAMP), CAST(last_ts AS TIMESTAMP), "
            "is_staff, staff_source FROM _shoppers"
        )
    with registered(conn, "_trajectory", trajectory):
        conn.execute(
            "INSERT INTO trajectory SELECT t.shopper_id, t.camera, v.video_id, t.frame, CAST(t.ts AS TIMESTAMP), "
            "t.x, t.y, 'floor' FROM _trajectory t JOIN videos v ON v.camera = t.camera"
        )
    with registered(conn, "_track_points", track_points):
        conn.execute(
            """
            INSERT INTO track_points
            SELECT v.video_id, p.camera, p.frame, p.t_sec, CAST(p.ts AS TIMESTAMP), p.track_id, p.x1, p.y1, p.x2,
                   p.y2, p.score, p.foot_u, p.foot_v, p.floor_x, p.floor_y, CAST(p.keypoints AS REAL[])
            FROM _track_points p JOIN videos v ON v.camera = p.camera
            """
        )
        conn.execute(
            """
            INSERT INTO tracklets
            SELECT v.video_id, p.camera, p.track_id, any_value(p.shopper_id), min(p.frame), max(p.frame),
                   min(CAST(p.ts AS TIMESTAMP)), max(CAST(p.ts AS TIMESTAMP)), count(*), avg(p.score), NULL, NULL,
                   false
            FROM _track_points p JOIN videos v ON v.camera = p.camera
            GROUP BY v.video_id, p.camera, p.track_id
            """
        )
    return video_ids
