"""A still of each camera with every face blurred, kept when the uploaded footage is deleted.

The dashboard deletes an upload once it is processed (privacy and disk, ``dashboard.uploads``); zones are
still drawn on a camera frame after that, so one frame per camera is kept: the busiest processed frame,
every person's head blurred first (``dashboard.privacy``), JPEG-encoded. No other image is stored.
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    "ALTER TABLE cameras ADD COLUMN still_jpeg BLOB",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
