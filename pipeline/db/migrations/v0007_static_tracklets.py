"""Static tracklets: tracks that never move over their video (mannequins, posters), not shoppers.

``tracklets.is_static`` is set when a video finishes (:func:`pipeline.db.tracks.mark_static_tracklets`, rule
in :mod:`pipeline.static_objects`). A static tracklet keeps its track points (for review) but gets no
shopper id, no trajectory and so no visits, and cross-camera identity leaves it out.
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    "ALTER TABLE tracklets ADD COLUMN is_static BOOLEAN DEFAULT false",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
