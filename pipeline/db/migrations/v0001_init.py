"""Initial schema: runs, cameras, videos, track points, tracklets, shoppers and trajectories.

Conventions: ``frame`` is the 0-based frame index of the source video (MOT export adds 1); ``ts`` is
the wall-clock time of the frame (camera start time + frame time, store local time, no zone);
``t_sec`` is seconds since the video's start. Image coordinates are pixels; floor coordinates metres.
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    """CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)""",
    """CREATE SEQUENCE run_id_seq START 1""",
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY DEFAULT nextval('run_id_seq'),
        store_name VARCHAR NOT NULL,
        config_path VARCHAR,
        settings JSON,
        started_at TIMESTAMP NOT NULL DEFAULT now(),
        finished_at TIMESTAMP
    )""",
    """CREATE TABLE cameras (
        name VARCHAR PRIMARY KEY,
        homography DOUBLE[9],          -- row-major 3x3, image px -> floor metres; NULL = none
        width INTEGER,
        height INTEGER
    )""",
    """CREATE SEQUENCE video_id_seq START 1""",
    """CREATE TABLE videos (
        video_id INTEGER PRIMARY KEY DEFAULT nextval('video_id_seq'),
        camera VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        sha256 VARCHAR,
        fps DOUBLE NOT NULL,
        n_frames INTEGER,
        start_time TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL DEFAULT 'pending',   -- pending | processing | done | failed
        frames_done INTEGER NOT NULL DEFAULT 0,      -- frames committed so far (progress)
        run_id INTEGER,
        settings JSON,
        error VARCHAR,
        UNIQUE (camera, path)
    )""",
    """CREATE TABLE track_points (
        video_id INTEGER NOT NULL,
        camera VARCHAR NOT NULL,
        frame INTEGER NOT NULL,
        t_sec DOUBLE NOT NULL,
        ts TIMESTAMP NOT NULL,
        track_id INTEGER NOT NULL,            -- camera-local track id
        x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
        score REAL NOT NULL,
        foot_u REAL NOT NULL, foot_v REAL NOT NULL,   -- bottom-centre of the box, pixels
        floor_x DOUBLE, floor_y DOUBLE,               -- foot point on the floor, metres (homography)
        keypoints REAL[]                               -- 17 x (x, y, visibility), flattened; NULL if none
    )""",
    """CREATE TABLE tracklets (
        video_id INTEGER NOT NULL,
        camera VARCHAR NOT NULL,
        track_id INTEGER NOT NULL,
        shopper_id INTEGER,
        first_frame INTEGER NOT NULL,
        last_frame INTEGER NOT NULL,
        first_ts TIMESTAMP NOT NULL,
        last_ts TIMESTAMP NOT NULL,
        n_points INTEGER NOT NULL,
        mean_score REAL NOT NULL,
        embedder VARCHAR,
        embedding REAL[],                    -- mean appearance feature, L2-normalised
        PRIMARY KEY (video_id, track_id)
    )""",
    """CREATE SEQUENCE shopper_id_seq START 1""",
    """CREATE TABLE shoppers (
        shopper_id INTEGER PRIMARY KEY,
        first_ts TIMESTAMP NOT NULL,
        last_ts TIMESTAMP NOT NULL,
        is_staff BOOLEAN NOT NULL DEFAULT false,
        staff_source VARCHAR                 -- NULL | 'zone_rule' | 'manual'
    )""",
    """CREATE TABLE trajectory (
        shopper_id INTEGER NOT NULL,
        camera VARCHAR NOT NULL,
        video_id INTEGER NOT NULL,
        frame INTEGER NOT NULL,
        ts TIMESTAMP NOT NULL,
        x DOUBLE NOT NULL,                   -- floor metres, or image px when space = 'image'
        y DOUBLE NOT NULL,
        space VARCHAR NOT NULL               -- 'floor' | 'image'
    )""",
    """CREATE TABLE store_config (
        id INTEGER PRIMARY KEY CHECK (id = 1),   -- one row: the store this database describes
        yaml VARCHAR NOT NULL,                   -- the validated store config (YAML text)
        updated_at TIMESTAMP NOT NULL DEFAULT now()
    )""",
    """CREATE INDEX track_points_video ON track_points (video_id, frame)""",
    """CREATE INDEX trajectory_shopper ON trajectory (shopper_id, ts)""",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
