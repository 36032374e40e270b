"""SQL for merging per-camera databases (processed on several machines) into one store database."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.db.tracks import delete_video_rows, transaction


def merge_part(conn: duckdb.DuckDBPyConnection, part: Path) -> int:
    """Copy every finished video of the store database ``part`` into ``conn``; returns videos copied.

    A video already in ``conn`` (same camera and path) is replaced, so merging twice adds nothing; its
    tracks keep the shopper ids they had (by track id and first frame), so ``run_reid`` keeps those ids and
    with them staff marks and flag reviews. Video ids are renumbered; other tracks' shopper ids are left for
    ``run_reid`` to assign. One transaction.
    """
    conn.execute("ATTACH ? AS part (READ_ONLY)", [str(part)])
    try:
        with transaction(conn):
            stale = conn.execute(
                "SELECT v.video_id FROM videos v JOIN part.videos p ON p.camera = v.camera AND p.path = v.path "
                "WHERE p.status = 'done'"
            ).fetchall()
            conn.execute(
                "CREATE TEMP TABLE kept_ids AS SELECT v.camera, v.path, t.track_id, t.first_frame, t.shopper_id "
                "FROM tracklets t JOIN videos v ON v.video_id = t.video_id "
                "WHERE t.shopper_id IS NOT NULL AND t.video_id IN (SELECT unnest(?::INTEGER[]))",
                [[video_id for (video_id,) in stale]],
            )
            for (video_id,) in stale:
                delete_video_rows(conn, video_id)
                conn.execute("DELETE FROM replaced_tracklets WHERE video_id = ?", [video_id])
                conn.execute("DELETE FROM videos WHERE video_id = ?", [video_id])
            # The part's camera rows, keeping what the part lacks (the still a store keeps to draw zones on).
            conn.execute(
                "INSERT INTO cameras SELECT * FROM part.cameras ON CONFLICT (name) DO UPDATE SET "
                "homography = coalesce(excluded.homography, homography), width = excluded.width, "
                "height = excluded.height, still_jpeg = coalesce(excluded.still_jpeg, still_jpeg)"
            )
            conn.execute(
                "INSERT INTO store_config SELECT * FROM part.store_config "
                "WHERE NOT EXISTS (SELECT 1 FROM store_config)"
            )
            conn.execute(
                "CREATE TEMP TABLE id_map AS SELECT video_id AS old_id, nextval('video_id_seq') AS new_id "
                "FROM part.videos WHERE status = 'done' ORDER BY video_id"
            )
            conn.execute(
                "INSERT INTO videos SELECT m.new_id, v.* EXCLUDE (video_id) REPLACE (NULL::INTEGER AS run_id) "
                "FROM part.videos v JOIN id_map m ON m.old_id = v.video_id"
            )
            conn.execute(
                "INSERT INTO track_points SELECT m.new_id, p.* EXCLUDE (video_id) "
                "FROM part.track_points p JOIN id_map m ON m.old_id = p.video_id"
            )
            conn.execute(
                "INSERT INTO tracklets (video_id, camera, track_id, shopper_id, first_frame, last_frame, first_ts, "
                "last_ts, n_points, mean_score, embedder, embedding, is_static) "
                "SELECT m.new_id, t.camera, t.track_id, k.shopper_id, t.first_frame, t.last_frame, t.first_ts, "
                "t.last_ts, t.n_points, t.mean_score, t.embedder, t.embedding, t.is_static "
                "FROM part.tracklets t JOIN id_map m ON m.old_id = t.video_id "
                "JOIN part.videos pv ON pv.video_id = t.video_id "
                "LEFT JOIN kept_ids k ON k.camera = pv.camera AND k.path = pv.path AND k.track_id = t.track_id "
                "AND k.first_frame = t.first_frame"
            )
            conn.execute("DROP TABLE kept_ids")
            has_chunks = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'part' AND table_name = 'tracklet_chunks'"
            ).fetchone()[0]
            if has_chunks:  # parts processed before schema v4 have none: their tracks are never split
                conn.execute(
                    "INSERT INTO tracklet_chunks SELECT m.new_id, c.* EXCLUDE (video_id) "
                    "FROM part.tracklet_chunks c JOIN id_map m ON m.old_id = c.video_id"
                )
            copied = conn.execute("SELECT count(*) FROM id_map").fetchone()[0]
            conn.execute("DROP TABLE id_map")
    finally:
        conn.execute("DETACH part")
    return copied
