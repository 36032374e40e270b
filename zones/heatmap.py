"""Occupancy heatmaps: shopper-seconds per floor cell per hour (staff excluded).

Each point stands for the time to the shopper's next point (``trajectory.step_weights``), so the sum over
cells is the total time shoppers were seen. Per-camera image heatmaps come from ``track_points`` in SQL
(``pipeline.db.analytics.insert_heatmap_camera``); :func:`cells` reads either back with a time filter.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from pipeline.db.analytics import export as export_sql
from zones.metrics import HOUR_US
from zones.trajectory import Points


def floor_cells(
    points: Points,
    weights: npt.NDArray[np.float64],
    keep: npt.NDArray[np.bool_],
    cell_m: float,
    bounds: tuple[float, float, float, float] | None = None,
) -> pd.DataFrame:
    """Shopper-seconds per (hour, floor cell).

    Args:
        points: sorted floor points.
        weights: (N,) seconds each point stands for.
        keep: (N,) points to count (e.g. not staff).
        cell_m: cell size, metres.
        bounds: (x0, y0, x1, y1) grid extent in metres; points outside are dropped. ``None``: the points' extent.

    Returns:
        Columns hour_us, ix, iy, x0_m, y0_m (grid origin), shopper_seconds; non-empty cells only.
    """
    if not keep.any():  # Nothing to count: an empty frame with the right dtypes.
        return pd.DataFrame({"hour_us": np.zeros(0, np.int64), "ix": np.zeros(0, np.int32), "iy": np.zeros(0, np.int32),
                             "x0_m": np.zeros(0), "y0_m": np.zeros(0), "shopper_seconds": np.zeros(0)})  # fmt: skip
    if bounds is None:
        bounds = (float(points.x.min()), float(points.y.min()), float(points.x.max()), float(points.y.max()))
    x0, y0, x1, y1 = bounds
    nx = int(np.floor((x1 - x0) / cell_m)) + 1
    ny = int(np.floor((y1 - y0) / cell_m)) + 1
    inv = 1.0 / cell_m
    fx = (points.x - x0) * inv
    fy = (points.y - y0) * inv
    inside = keep & (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
    hour = (points.ts_us // HOUR_US).astype(np.int32)
    h0 = int(hour.min())
    # dropped points (staff, off the grid) keep a valid key but weigh nothing: cheaper than compressing
    cell = np.where(inside, fy.astype(np.int64) * nx + fx.astype(np.int64), 0)
    key = (hour - h0).astype(np.int64) * (ny * nx) + cell
    w = np.where(inside, weights, 0.0)
    n_keys = (int(hour.max()) - h0 + 1) * ny * nx
    if n_keys <= 50_000_000:
        sums = np.bincount(key, weights=w, minlength=n_keys)
        uniq = np.flatnonzero(sums)
        sums = sums[uniq]
    else:  # many hours x cells: sort instead of a dense array
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=w)
        nonzero = sums > 0
        uniq, sums = uniq[nonzero], sums[nonzero]
    cell = uniq % (ny * nx)
    return pd.DataFrame(
        {
            "hour_us": (uniq // (ny * nx) + h0) * HOUR_US,
            "ix": (cell % nx).astype(np.int32),
            "iy": (cell // nx).astype(np.int32),
            "x0_m": x0,
            "y0_m": y0,
            "shopper_seconds": sums,
        }
    )


def cells(
    conn: duckdb.DuckDBPyConnection,
    camera: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """Materialised heatmap summed over the hours overlapping ``[start, end)``.

    Args:
        camera: ``None`` for the floor heatmap (columns ix, iy, x_m, y_m, cell_m, shopper_seconds), or a
            camera name for its image heatmap (iu, iv, u_px, v_px, cell_px, shopper_seconds).
    """
    return export_sql.heatmap_cells(conn, camera, start, end)
