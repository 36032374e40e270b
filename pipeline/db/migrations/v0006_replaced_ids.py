"""Shopper ids kept across re-processing: the shopper ids of a video's tracks while it is re-processed.

When a processed video is processed again, its old rows are replaced in the first batch's transaction.
The old tracks' (and their split parts') frame ranges, shopper ids and staff flags are saved here in that
same transaction, and the video's new tracks take them back when it finishes (same track id, overlapping
frames), so re-running the same footage keeps every shopper id and reviews stay attached. A row stays
until its video finishes again (an interrupted re-run keeps the ids for the next one).
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    """CREATE TABLE replaced_tracklets (
        video_id INTEGER NOT NULL,
        track_id INTEGER NOT NULL,
        first_frame INTEGER NOT NULL,        -- inclusive frame range of the track (or of its part)
        last_frame INTEGER NOT NULL,
        shopper_id INTEGER NOT NULL,
        is_staff BOOLEAN NOT NULL,
        staff_source VARCHAR,
        PRIMARY KEY (video_id, track_id, first_frame)
    )""",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
