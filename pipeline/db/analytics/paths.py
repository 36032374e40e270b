"""Shopper paths: per-shopper path rows, zone transitions, common sequences and Sankey edges."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.db.analytics.tables import registered

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
