"""Footage-adaptive settings: the detector input size chosen per video, and on-site re-ID calibration.

``videos.imgsz`` is the detector input size a video was actually processed at (``--imgsz auto`` picks it
from the people seen in the first seconds, see :mod:`pipeline.autosize`); ``imgsz_note`` says why.
``reid_calibration`` holds the cross-camera match threshold fitted on the store's own footage without
labels (see :mod:`pipeline.reid.calibrate`), one row per embedder, with the evidence it rests on.
"""

from __future__ import annotations

import duckdb

STATEMENTS = [
    "ALTER TABLE videos ADD COLUMN imgsz INTEGER",
    "ALTER TABLE videos ADD COLUMN imgsz_note VARCHAR",
    """CREATE TABLE reid_calibration (
        embedder VARCHAR PRIMARY KEY,
        threshold DOUBLE,                    -- chosen cosine-distance threshold, NULL = too little data
        source VARCHAR NOT NULL,             -- 'site' (fitted here) | 'fixed' (built-in table: too little data)
        target_false_join DOUBLE NOT NULL,   -- false-join rate the threshold was chosen for
        n_same INTEGER NOT NULL,             -- same-person pairs (chunks of one tracklet, far apart in time)
        n_diff INTEGER NOT NULL,             -- different-person pairs (tracklets seen together on one camera)
        est_false_join DOUBLE,               -- estimated share of different-person pairs accepted
        est_join DOUBLE,                     -- estimated share of same-person pairs accepted
        note VARCHAR,
        computed_at TIMESTAMP NOT NULL
    )""",
]


def migrate(conn: duckdb.DuckDBPyConnection) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
