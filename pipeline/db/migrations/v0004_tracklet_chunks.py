"""Identity-switch splitting: per-track appearance chunks and the parts cross-camera identity cut tracks into.

``tracklet_chunks`` holds the mean appearance of each ~1 s stretch of a track (written with the
video's tracklets); cross-camera assignment splits a track where consecutive chunks look like two
different people and records the resulting frame ranges with their shopper ids in ``tracklet_parts``
(rewritten by every assignment). A point's shopper id is its part's, else its tracklet's.
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    """CREATE TABLE tracklet_chunks (
        video_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        chunk INTEGER NOT NULL,              -- 0..K-1 in time order
        t_start DOUBLE NOT NULL,             -- seconds since the start of the video
        t_end DOUBLE NOT NULL,
        first_frame INTEGER NOT NULL,
        last_frame INTEGER NOT NULL,
        n_embedded INTEGER NOT NULL,         -- boxes averaged into the embedding
        embedding REAL[],                    -- L2-normalised mean, NULL when no box was embedded
        PRIMARY KEY (video_id, track_id, chunk)
    )""",
    """CREATE TABLE tracklet_parts (
        video_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        part INTEGER NOT NULL,               -- 0..P-1 in time order
        first_frame INTEGER NOT NULL,        -- inclusive frame range of the track's points
        last_frame INTEGER NOT NULL,
        shopper_id INTEGER NOT NULL,
        PRIMARY KEY (video_id, track_id, part)
    )""",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
