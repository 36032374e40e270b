"""``analyse(conn, config)``: recompute every analytics table from the trajectories, in one transaction."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import StoreConfig
from pipeline.db import analytics as sql
from pipeline.db import transaction
from pipeline.db.store_config import stored_config
from pipeline.errors import ConfigError
from pipeline.store.rules import settings_from_config
from zones import flags, heatmap, metrics, paths, pose, visits
from zones.geometry import ZoneIndex, build_zones
from zones.trajectory import US, Points, sample_interval_us, step_weights


def _zone_frame(zones, analytics) -> pd.DataFrame:
    till_queue = {}
    queue_zones = set(analytics.queues.values())
    for z in zones:
        if z.has("checkout") and (z.name in analytics.queues or z.name not in queue_zones):
            till_queue[z.name] = analytics.queues.get(z.name, z.name)
    return pd.DataFrame(
        {
            "zone": [z.name for z in zones],
            "kinds": [list(z.kinds) for z in zones],
            "is_till": [z.name in till_queue for z in zones],
            "queue_zone": [till_queue.get(z.name) for z in zones],
            "source_camera": [z.camera for z in zones],
            "min_dwell_s": [analytics.min_dwell_for(z.kinds) for z in zones],
            "area_m2": [z.polygon.area for z in zones],
            "wkt": [z.polygon.wkt for z in zones],
        }
    )


def analyse(conn: duckdb.DuckDBPyConnection, config: StoreConfig | None = None) -> dict[str, Any]:
    """Recompute zones, visits, staff zone rule, metrics, occupancy, queues, paths, heatmaps, conversion and
    flags from ``trajectory`` / ``track_points``. Idempotent; one transaction (readers never see a
    half-written state); ``flag_reviews`` and ``sales`` are kept.

    Args:
        conn: an open store database (``pipeline.db.connect``).
        config: the store config; ``None`` reads the one saved in the database.

    Returns:
        The ``analysis_summary`` row as a dict (points, shoppers, staff, visits, flags, seconds, ...).

    Raises:
        ConfigError: invalid zones, ``analytics:`` or ``flags:`` settings.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    clock = [t_start]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        timings[stage] = round(now - clock[0], 4)
        clock[0] = now

    if config is None:
        config = stored_config(conn)
        if config is None:
            raise ConfigError("the database has no store config; pass one with --config")
    analytics, rules = settings_from_config(config)
    zones = build_zones(config)
    index = ZoneIndex.build(zones)
    with transaction(conn):
        sql.clear_derived(conn)
        sql.insert_zones(conn, _zone_frame(zones, analytics))

        raw = sql.floor_points(conn)
        pts = Points.from_arrays(raw["shopper_id"], raw["ts_us"], raw["x"], raw["y"])
        del raw
        dt_us = (
            int(analytics.sample_interval_s * US) if analytics.sample_interval_s else sample_interval_us(pts)
        )
        max_step_us = int(analytics.max_step_s * US) if analytics.max_step_s else 3 * dt_us
        lap("load")

        masks = index.masks(pts.x, pts.y)
        seg = visits.zone_segments(pts, masks, len(zones), dt_us, max_step_us)
        del masks
        lap("point_in_zone")
        names = np.array([z.name for z in zones], dtype=object)
        segments = pd.DataFrame(
            {"shopper_id": seg["shopper_id"], "zone": names[seg["zone_index"]] if len(zones) else [],
             "start_us": seg["start_us"], "end_us": seg["end_us"]}
        )  # fmt: skip
        sql.insert_visits(conn, segments, int(analytics.merge_gap_s * US))
        sql.apply_staff_zone_rule(conn, analytics.staff_zone_s)
        lap("visits")

        staff_set = sql.staff_ids(conn)
        starts = pts.shopper_starts()
        counts = np.diff(np.r_[starts, len(pts)])
        is_staff = np.repeat(np.isin(pts.shopper_id[starts], staff_set), counts)

        sql.insert_shopper_paths(
            conn, paths.shopper_paths(pts, dt_us, max_step_us, analytics.walking_min_mps)
        )
        minutes = metrics.presence(pts, is_staff, metrics.MINUTE_US)
        hours = metrics.presence(pts, is_staff, metrics.HOUR_US)
        sql.insert_occupancy(
            conn,
            minutes.rename(columns={"period_us": "minute_us"}),
            hours.rename(columns={"period_us": "hour_us", "shoppers": "visitors"})[["hour_us", "visitors"]],
        )
        sql.insert_store_metrics(conn)
        sql.insert_section_metrics(conn, analytics.bounce_s)
        sql.insert_queues(conn, analytics.till_link_s)
        lap("metrics")
        sql.insert_paths(conn, analytics.top_sequences, analytics.sankey_steps)
        lap("paths")

        weights = step_weights(pts, dt_us, max_step_us)
        fp = config.floor_plan
        bounds = (0.0, 0.0, fp.width, fp.height) if fp else None
        sql.insert_heatmap_floor(
            conn,
            heatmap.floor_cells(pts, weights, ~is_staff, analytics.heatmap_cell_m, bounds),
            analytics.heatmap_cell_m,
        )
        sql.insert_heatmap_camera(conn, analytics.heatmap_cell_px, max_step_us / US, dt_us / US)
        sql.refresh_conversion(conn)
        lap("heatmaps")

        leads = None
        if rules.enabled("pose_concealment"):
            leads = pose.pose_leads(sql.pose_points(conn), index, rules["pose_concealment"], max_step_us / US)
        sql.insert_flags(conn, flags.rule_params(rules), leads)
        lap("flags")

        settings = {"analytics": asdict(analytics), "flags": rules.rules, "zones": [z.name for z in zones]}
        summary = sql.write_summary(
            conn,
            json.dumps(settings),
            len(pts),
            dt_us / US if len(pts) else None,
            time.perf_counter() - t_start,
        )
    summary["timings"] = {**timings, "total": round(time.perf_counter() - t_start, 4)}
    return summary
