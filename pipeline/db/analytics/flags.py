"""Flag rules as SQL (named parameters: each rule's ``flags:`` settings), evidence, reviews."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.db.analytics.tables import ISO_MS, registered
from pipeline.db.tracks import POINT_PART_JOIN, POINT_SHOPPER

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
        SELECT 'long_dwell', shopper_id, zone, dwell_s / greatest(limit_s, 1e-9), start_ts, end_ts, false,
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
