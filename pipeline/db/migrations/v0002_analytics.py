"""Store analytics: zones, visits, metrics, occupancy, queues, paths, heatmaps, flags (+ reviews) and sales.

Every table here except ``flag_reviews`` and ``sales`` is derived: ``zones.analyse`` deletes and rewrites it in
one transaction. ``flag_reviews`` is keyed by the stable ``flag_key`` so reviews survive re-analysis; ``sales``
is written only by ``import-sales``. Times are naive store-local TIMESTAMPs; durations seconds (``_s``),
distances metres (``_m``), image coordinates pixels (``_px``).
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    """CREATE TABLE zones (
        zone VARCHAR PRIMARY KEY,
        kinds VARCHAR[] NOT NULL,
        is_till BOOLEAN NOT NULL,            -- checkout zone where shoppers pay (not a queue area)
        queue_zone VARCHAR,                  -- tills: the zone its queue forms in (itself if none configured)
        source_camera VARCHAR,               -- polygon given in this camera's pixels; NULL = floor metres
        min_dwell_s DOUBLE NOT NULL,
        area_m2 DOUBLE NOT NULL,
        wkt VARCHAR NOT NULL                 -- polygon in floor metres
    )""",
    """CREATE TABLE zone_visits (
        visit_id BIGINT PRIMARY KEY,
        shopper_id INTEGER NOT NULL,
        zone VARCHAR NOT NULL,
        start_ts TIMESTAMP NOT NULL,         -- first in-zone sample
        end_ts TIMESTAMP NOT NULL,           -- last in-zone sample + one sampling interval
        dwell_s DOUBLE NOT NULL,             -- end_ts - start_ts
        n_segments INTEGER NOT NULL,         -- stretches joined across gaps shorter than the merge window
        is_staff BOOLEAN NOT NULL
    )""",
    """CREATE TABLE section_metrics (
        zone VARCHAR NOT NULL, day DATE NOT NULL,
        visitors INTEGER NOT NULL, visits INTEGER NOT NULL, store_visitors INTEGER NOT NULL,
        entry_rate DOUBLE, dwell_mean_s DOUBLE, dwell_median_s DOUBLE, dwell_p90_s DOUBLE,
        bounce_rate DOUBLE, checkout_after_share DOUBLE
    )""",
    """CREATE TABLE section_hourly (
        zone VARCHAR NOT NULL, hour TIMESTAMP NOT NULL,
        visitors INTEGER NOT NULL, visits INTEGER NOT NULL, store_visitors INTEGER NOT NULL,
        entry_rate DOUBLE, dwell_mean_s DOUBLE, dwell_median_s DOUBLE, dwell_p90_s DOUBLE,
        bounce_rate DOUBLE, checkout_after_share DOUBLE
    )""",
    """CREATE TABLE store_hourly (
        hour TIMESTAMP PRIMARY KEY,
        arrivals INTEGER NOT NULL,           -- shoppers whose first point falls in the hour
        visitors INTEGER NOT NULL,           -- distinct shoppers present during the hour
        occupancy_mean DOUBLE NOT NULL,      -- mean of occupancy_minute.shoppers over the hour's minutes
        occupancy_max INTEGER NOT NULL
    )""",
    """CREATE TABLE store_metrics (
        day DATE PRIMARY KEY,
        visitors INTEGER NOT NULL,
        time_in_store_mean_s DOUBLE, time_in_store_median_s DOUBLE, time_in_store_p90_s DOUBLE,
        busiest_hour TIMESTAMP, busiest_hour_visitors INTEGER,
        peak_occupancy INTEGER, peak_minute TIMESTAMP
    )""",
    """CREATE TABLE occupancy_minute (
        minute TIMESTAMP PRIMARY KEY,
        shoppers INTEGER NOT NULL,           -- non-staff shoppers with a point in the minute
        staff INTEGER NOT NULL
    )""",
    """CREATE TABLE queue_minute (
        checkout VARCHAR NOT NULL, minute TIMESTAMP NOT NULL,
        shoppers INTEGER NOT NULL,           -- shoppers in the queue zone at any time in the minute
        mean_length DOUBLE NOT NULL          -- time-averaged queue length (shopper-seconds / 60)
    )""",
    """CREATE TABLE queue_waits (
        checkout VARCHAR NOT NULL, queue_zone VARCHAR NOT NULL, shopper_id INTEGER NOT NULL,
        queue_start TIMESTAMP NOT NULL, queue_end TIMESTAMP NOT NULL,
        till_start TIMESTAMP,                -- NULL: left the queue without reaching the till
        wait_s DOUBLE NOT NULL, served BOOLEAN NOT NULL
    )""",
    """CREATE TABLE queue_hourly (
        checkout VARCHAR NOT NULL, hour TIMESTAMP NOT NULL,
        waits INTEGER NOT NULL, served INTEGER NOT NULL,
        wait_p50_s DOUBLE, wait_p90_s DOUBLE, mean_length DOUBLE, max_shoppers INTEGER
    )""",
    """CREATE TABLE transitions (
        from_zone VARCHAR NOT NULL, to_zone VARCHAR NOT NULL,
        transitions INTEGER NOT NULL, shoppers INTEGER NOT NULL,
        share DOUBLE NOT NULL                -- of all transitions leaving from_zone
    )""",
    """CREATE TABLE zone_sequences (
        rank INTEGER NOT NULL, sequence VARCHAR NOT NULL, n_zones INTEGER NOT NULL,
        shoppers INTEGER NOT NULL, share DOUBLE NOT NULL
    )""",
    """CREATE TABLE sankey_edges (
        step INTEGER NOT NULL, source VARCHAR NOT NULL, target VARCHAR NOT NULL,
        source_zone VARCHAR NOT NULL, target_zone VARCHAR NOT NULL, value INTEGER NOT NULL
    )""",
    """CREATE TABLE shopper_paths (
        shopper_id INTEGER PRIMARY KEY, is_staff BOOLEAN NOT NULL,
        first_ts TIMESTAMP NOT NULL, last_ts TIMESTAMP NOT NULL, time_in_store_s DOUBLE NOT NULL,
        n_points INTEGER NOT NULL, path_length_m DOUBLE NOT NULL, moving_s DOUBLE NOT NULL,
        walking_speed_mps DOUBLE,           -- mean speed over steps at or above analytics.walking_min_mps
        visits INTEGER NOT NULL, sequence VARCHAR
    )""",
    """CREATE TABLE heatmap_floor (
        hour TIMESTAMP NOT NULL, ix INTEGER NOT NULL, iy INTEGER NOT NULL,
        x_m DOUBLE NOT NULL, y_m DOUBLE NOT NULL, cell_m DOUBLE NOT NULL,   -- cell centre and size
        shopper_seconds DOUBLE NOT NULL
    )""",
    """CREATE TABLE heatmap_camera (
        camera VARCHAR NOT NULL, hour TIMESTAMP NOT NULL, iu INTEGER NOT NULL, iv INTEGER NOT NULL,
        u_px DOUBLE NOT NULL, v_px DOUBLE NOT NULL, cell_px DOUBLE NOT NULL,
        shopper_seconds DOUBLE NOT NULL
    )""",
    """CREATE TABLE flags (
        flag_key VARCHAR PRIMARY KEY,        -- stable across re-analysis: hash of rule, shopper, zone, start
        rule VARCHAR NOT NULL, shopper_id INTEGER NOT NULL, zone VARCHAR,
        score DOUBLE NOT NULL,               -- observed / threshold (1.0 for yes/no rules)
        start_ts TIMESTAMP NOT NULL, end_ts TIMESTAMP NOT NULL,
        experimental BOOLEAN NOT NULL, details VARCHAR NOT NULL,
        evidence JSON NOT NULL               -- {"zones": [...], "cameras": [...]}
    )""",
    """CREATE TABLE flag_reviews (
        flag_key VARCHAR PRIMARY KEY,
        state VARCHAR NOT NULL CHECK (state IN ('new', 'confirmed', 'dismissed')),
        note VARCHAR, reviewer VARCHAR, reviewed_at TIMESTAMP NOT NULL
    )""",
    """CREATE VIEW flags_reviewed AS
        SELECT f.*, coalesce(r.state, 'new') AS review_state, r.note AS review_note,
               r.reviewer, r.reviewed_at
        FROM flags f LEFT JOIN flag_reviews r USING (flag_key)""",
    """CREATE TABLE sales (
        ts TIMESTAMP NOT NULL, transactions INTEGER NOT NULL, amount DOUBLE,
        source VARCHAR NOT NULL, line INTEGER NOT NULL
    )""",
    """CREATE TABLE conversion_hourly (
        hour TIMESTAMP PRIMARY KEY, visitors INTEGER NOT NULL, transactions INTEGER NOT NULL,
        amount DOUBLE, conversion DOUBLE     -- transactions / visitors (arrivals); NULL when no visitors
    )""",
    """CREATE TABLE conversion_daily (
        day DATE PRIMARY KEY, visitors INTEGER NOT NULL, transactions INTEGER NOT NULL,
        amount DOUBLE, conversion DOUBLE
    )""",
    """CREATE TABLE analysis_summary (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        analysed_at TIMESTAMP NOT NULL, settings JSON NOT NULL,
        points BIGINT NOT NULL, shoppers INTEGER NOT NULL, staff INTEGER NOT NULL,
        visits INTEGER NOT NULL, flags INTEGER NOT NULL,
        sample_interval_s DOUBLE, seconds DOUBLE NOT NULL
    )""",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
