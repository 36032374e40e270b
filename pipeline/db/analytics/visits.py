"""Zone visits from in-zone segments (merge window, minimum dwell) and the staff zone rule."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.db.analytics.tables import registered


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
    zones; undo earlier zone-rule marks first; never touch a manual mark, "staff" or "not staff". Updates
    ``zone_visits.is_staff``. Returns the number of shoppers the rule marks."""
    conn.execute("UPDATE shoppers SET is_staff = false, staff_source = NULL WHERE staff_source = 'zone_rule'")
    conn.execute(
        """
        UPDATE shoppers SET is_staff = true, staff_source = 'zone_rule'
        WHERE NOT is_staff AND staff_source IS DISTINCT FROM 'manual' AND shopper_id IN (
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
