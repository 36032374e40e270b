"""All SQL of the Streamlit dashboard (``dashboard/data.py``) and of its processing queue (``pipeline/jobs.py``).

Module-level query texts only: every value reaches DuckDB as a ``?`` parameter, in the order given in
each constant's comment where it is not obvious. Caching, connections and pandas post-processing stay
in ``dashboard/data.py``. Periods are half-open ``[start, end)`` naive store-local timestamps, passed as
``[start, end]``. The path queries the dashboard shares with the analytics (``SANKEY_SQL``,
``SEQUENCES_SQL``, ``TRANSITIONS_SQL``) live in ``pipeline/db/analytics/paths.py``.

Triple-quoted texts keep the indentation they had inline so the SQL sent is unchanged.
"""

from __future__ import annotations

from pipeline.db.tracks import POINT_PART_JOIN, POINT_SHOPPER

# -- schema and status -----------------------------------------------------------------------------

# 1 when a table of this name exists, else 0. Params: [name].
TABLE_COUNT_BY_NAME = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"

# Image size of one camera. Params: [camera name].
CAMERA_SIZE = "SELECT width, height FROM cameras WHERE name = ?"

# Drop camera rows the store config no longer names and no video refers to (e.g. a renamed placeholder
# camera): they would show as ghost cameras without an image size. Params: [camera names (list)].
DELETE_UNUSED_CAMERAS = (
    "DELETE FROM cameras WHERE NOT list_contains(?, name) AND name NOT IN (SELECT camera FROM videos)"
)

# Cameras whose footage is simulated (the demo store). No params.
SIMULATED_CAMERAS = "SELECT DISTINCT camera FROM videos WHERE path LIKE 'simulated://%' ORDER BY camera"

ANALYSIS_SUMMARY_ROW = "SELECT * FROM analysis_summary WHERE id = 1"

TRAJECTORY_POINT_COUNT = "SELECT count(*) FROM trajectory"

DONE_VIDEO_COUNT = "SELECT count(*) FROM videos WHERE status = 'done'"

# First and last day of analysed traffic.
STORE_HOURLY_DAY_RANGE = "SELECT min(hour)::DATE, max(hour)::DATE FROM store_hourly"

# First and last day with trajectory points (fallback when nothing is analysed).
TRAJECTORY_DAY_RANGE = "SELECT min(ts)::DATE, max(ts)::DATE FROM trajectory"

# -- overview KPIs (params: [start, end]) ----------------------------------------------------------

STORE_METRICS_DAYS = (
    "SELECT day, visitors, time_in_store_median_s FROM store_metrics WHERE day >= ?::DATE AND day < ?::DATE"
)

# Median time in store of non-staff shoppers arriving in the period.
MEDIAN_TIME_IN_STORE = (
    "SELECT median(time_in_store_s) FROM shopper_paths WHERE NOT is_staff AND first_ts >= ? AND first_ts < ?"
)

# Share of the period's non-staff shoppers who visited a checkout (till) zone; NULL when none.
CHECKOUT_SHARE = """
        WITH shoppers AS (
            SELECT shopper_id FROM shopper_paths WHERE NOT is_staff AND first_ts >= ? AND first_ts < ?),
        tills AS (SELECT zone FROM zones WHERE is_till)
        SELECT CASE WHEN count(*) = 0 THEN NULL ELSE
               count(*) FILTER (WHERE shopper_id IN (
                   SELECT shopper_id FROM zone_visits WHERE zone IN (SELECT zone FROM tills))) / count(*) END
        FROM shoppers
        """

# Number of checkout (till) zones in the analysed store.
TILL_ZONE_COUNT = "SELECT count(*) FROM zones WHERE is_till"

# Summed sales transactions and visitors of the period's days.
SALES_TRANSACTIONS_AND_VISITORS = (
    "SELECT sum(transactions), sum(visitors) FROM conversion_daily WHERE day >= ?::DATE AND day < ?::DATE"
)

SALES_COUNT = "SELECT count(*) FROM sales WHERE ts >= ? AND ts < ?"

# The hour with most visitors and its visitor count.
BUSIEST_HOUR = "SELECT hour, visitors FROM store_hourly WHERE hour >= ? AND hour < ? ORDER BY visitors DESC, hour LIMIT 1"

# Flags starting in the period not yet reviewed.
OPEN_FLAG_COUNT = (
    "SELECT count(*) FROM flags_reviewed WHERE review_state = 'new' AND start_ts >= ? AND start_ts < ?"
)

# -- overview charts (params: [start, end]) --------------------------------------------------------

# store_hourly rows with sales transactions and conversion when imported.
HOURLY_WITH_CONVERSION = """
        SELECT h.hour, h.arrivals, h.visitors, h.occupancy_mean, h.occupancy_max,
               c.transactions, c.conversion
        FROM store_hourly h LEFT JOIN conversion_hourly c USING (hour)
        WHERE h.hour >= ? AND h.hour < ? ORDER BY h.hour
        """

OCCUPANCY_MINUTES = (
    "SELECT minute, shoppers, staff FROM occupancy_minute WHERE minute >= ? AND minute < ? ORDER BY minute"
)

# -- zones, cameras and frames ---------------------------------------------------------------------

# Analysed zones with their floor polygon as WKT.
ZONES = "SELECT zone, kinds, is_till, queue_zone, source_camera, area_m2, wkt FROM zones ORDER BY zone"

# Cameras with image size, calibration state and processed-video count.
CAMERAS_WITH_VIDEO_COUNTS = """
        SELECT c.name, c.width, c.height, c.homography IS NOT NULL AS calibrated,
               count(v.video_id) FILTER (WHERE v.status = 'done') AS videos
        FROM cameras c LEFT JOIN videos v ON v.camera = c.name GROUP BY ALL ORDER BY c.name
        """

# (video_id, path, frame) of the frame with most tracked people among a camera's processed videos.
# Params: [camera].
BUSIEST_FRAME_OF_CAMERA = """
        SELECT v.video_id, v.path, p.frame FROM videos v
        JOIN track_points p ON p.video_id = v.video_id
        WHERE v.camera = ? AND v.status = 'done'
        GROUP BY ALL ORDER BY count(*) DESC, v.video_id, p.frame LIMIT 1
        """

# The frame with most tracked people of one video (``None`` rows: nobody tracked). Params: [video_id].
BUSIEST_FRAME_OF_VIDEO = """
        SELECT frame FROM track_points WHERE video_id = ?
        GROUP BY frame ORDER BY count(*) DESC, frame LIMIT 1
        """

# The kept still of a camera (JPEG, faces blurred) or NULL. Params: [camera].
CAMERA_STILL = "SELECT still_jpeg FROM cameras WHERE name = ?"

# Keep a camera's still. Params: [jpeg bytes, camera].
SET_CAMERA_STILL = "UPDATE cameras SET still_jpeg = ? WHERE name = ?"

# Path of any processed video of a camera. Params: [camera].
DONE_VIDEO_PATH_OF_CAMERA = "SELECT path FROM videos WHERE camera = ? AND status = 'done' LIMIT 1"

# Every tracked person's box and keypoints in one frame. Params: [video_id, frame].
FRAME_PEOPLE = "SELECT x1, y1, x2, y2, keypoints, t_sec FROM track_points WHERE video_id = ? AND frame = ?"

# -- sections (params: [start, end]) ---------------------------------------------------------------

# Per zone over the period: counts summed, visit-weighted means; medians/p90 only for one day.
SECTIONS_OVER_PERIOD = """
        SELECT zone, count(*) AS days, sum(visitors) AS visitors, sum(visits) AS visits,
               sum(store_visitors) AS store_visitors,
               sum(visitors) / nullif(sum(store_visitors), 0) AS entry_rate,
               CASE WHEN count(*) = 1 THEN any_value(dwell_mean_s)
                    ELSE sum(dwell_mean_s * visits) / nullif(sum(visits), 0) END AS dwell_mean_s,
               CASE WHEN count(*) = 1 THEN any_value(dwell_median_s) END AS dwell_median_s,
               CASE WHEN count(*) = 1 THEN any_value(dwell_p90_s) END AS dwell_p90_s,
               sum(bounce_rate * visits) / nullif(sum(visits), 0) AS bounce_rate
        FROM section_metrics WHERE day >= ?::DATE AND day < ?::DATE
        GROUP BY zone ORDER BY visitors DESC, zone
        """

# Dwell of every non-staff visit to a section zone starting in the period.
SECTION_DWELL_SAMPLES = """
        SELECT v.zone, v.dwell_s FROM zone_visits v JOIN zones z USING (zone)
        WHERE list_contains(z.kinds, 'section') AND NOT v.is_staff AND v.start_ts >= ? AND v.start_ts < ?
        ORDER BY v.zone
        """

SECTION_HOURLY_ROWS = "SELECT zone, hour, visitors, visits, dwell_mean_s FROM section_hourly WHERE hour >= ? AND hour < ? ORDER BY hour, zone"

# -- queues (params: [start, end]) -----------------------------------------------------------------

QUEUE_MINUTES = "SELECT checkout, minute, shoppers, mean_length FROM queue_minute WHERE minute >= ? AND minute < ? ORDER BY minute"

QUEUE_HOURLY = (
    "SELECT checkout, hour, waits, served, wait_p50_s, wait_p90_s, mean_length, max_shoppers "
    "FROM queue_hourly WHERE hour >= ? AND hour < ? ORDER BY checkout, hour"
)

QUEUE_WAITS = "SELECT checkout, queue_start, wait_s, served FROM queue_waits WHERE queue_start >= ? AND queue_start < ? ORDER BY queue_start"

# -- flags and evidence ----------------------------------------------------------------------------

# Flags of the period with their review, highest score first. Params: [start, end, states (list)].
FLAGS_WITH_REVIEWS = """
        SELECT flag_key, rule, shopper_id, zone, score, start_ts, end_ts, experimental, details, evidence,
               review_state, review_note, reviewer, reviewed_at
        FROM flags_reviewed
        WHERE start_ts >= ? AND start_ts < ? AND list_contains(?, review_state)
        ORDER BY score DESC, start_ts, flag_key
        """

# A shopper's floor trajectory, each bound optional (NULL: open).
# Params: [shopper_id, start, start, end, end].
SHOPPER_FLOOR_PATH = """
        SELECT ts, x, y, camera FROM trajectory
        WHERE shopper_id = ? AND space = 'floor' AND (? IS NULL OR ts >= ?) AND (? IS NULL OR ts <= ?)
        ORDER BY ts
        """

# A shopper's zone visits in time order. Params: [shopper_id].
SHOPPER_ZONE_VISITS = (
    "SELECT zone, start_ts, end_ts, dwell_s FROM zone_visits WHERE shopper_id = ? ORDER BY start_ts"
)

# Every sighting (video, frame, box) of a shopper in [start, end]. Params: [shopper_id, start, end].
SHOPPER_SIGHTINGS = f"""
        SELECT p.video_id, v.path, p.camera, p.frame, p.ts, p.x1, p.y1, p.x2, p.y2
        FROM track_points p
        JOIN tracklets t ON t.video_id = p.video_id AND t.track_id = p.track_id
        JOIN videos v ON v.video_id = p.video_id
        {POINT_PART_JOIN}
        WHERE {POINT_SHOPPER} = ? AND p.ts >= ? AND p.ts <= ?
        ORDER BY p.ts
        """

# -- footage ---------------------------------------------------------------------------------------

# Every video with its file name (without the upload's hash prefix) and processing status, newest first.
VIDEOS_WITH_STATUS = """
        SELECT video_id, camera,
               regexp_replace(regexp_extract(path, '[^/\\\\]+$'), '^[0-9a-f]{12}_', '') AS file,
               start_time, status, frames_done, n_frames, round(n_frames / fps, 1) AS duration_s, sha256,
               coalesce(error, '') AS error,
               CASE WHEN imgsz IS NULL THEN '' ELSE imgsz::VARCHAR || coalesce(' — ' || imgsz_note, '') END AS imgsz
        FROM videos ORDER BY video_id DESC
        """

# (video_id, camera, path, status) of a processed video with these bytes. Params: [sha256].
DONE_VIDEO_BY_HASH = (
    "SELECT video_id, camera, path, status FROM videos WHERE sha256 = ? AND status = 'done' LIMIT 1"
)

# Number of processed videos with these bytes. Params: [sha256].
DONE_VIDEO_COUNT_BY_HASH = "SELECT count(*) FROM videos WHERE sha256 = ? AND status = 'done'"

# The on-site cross-camera calibration per embedder (see pipeline.reid.calibrate).
REID_CALIBRATION = """
        SELECT embedder, threshold, source, n_same, n_diff, est_false_join, est_join, note, computed_at
        FROM reid_calibration ORDER BY embedder
        """
