"""Cross-camera identity: the multi-view shopper gallery and the last assignment's settings.

``shopper_embeddings`` keeps several appearance views per global shopper (the gallery that later
tracklets are compared with); ``reid_state`` records how the current ``tracklets.shopper_id`` values
were computed (mode, settings, counts). Both are rewritten by every assignment.
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    """CREATE TABLE shopper_embeddings (
        shopper_id INTEGER NOT NULL,
        view INTEGER NOT NULL,               -- 0..K-1
        weight DOUBLE NOT NULL,              -- tracklets averaged into this view
        embedding REAL[] NOT NULL,           -- L2-normalised
        PRIMARY KEY (shopper_id, view)
    )""",
    """CREATE TABLE reid_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        mode VARCHAR NOT NULL,               -- independent | appearance | full
        refine BOOLEAN NOT NULL,
        settings JSON,                       -- the reid config used
        n_tracklets INTEGER NOT NULL,
        n_shoppers INTEGER NOT NULL,
        updated_at TIMESTAMP NOT NULL DEFAULT now()
    )""",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
