"""Occupancy from trajectory points: shoppers present per minute and per hour (staff counted apart).

A shopper is *present* in a minute (hour) when one of their points falls in it. The section, store, queue and
conversion metrics are SQL over the materialised tables (``pipeline.db.analytics``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from zones.trajectory import Points

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000


def presence(points: Points, is_staff: npt.NDArray[np.bool_], period_us: int) -> pd.DataFrame:
    """Distinct shoppers and staff present per period.

    Args:
        points: sorted floor points.
        is_staff: (N,) True for points of staff.
        period_us: period length in microseconds (e.g. :data:`MINUTE_US`).

    Returns:
        Columns ``period_us`` (period start, microseconds), ``shoppers``, ``staff``; periods with anyone only.
    """
    if len(points) == 0:
        zeros = np.zeros(0, np.int64)
        return pd.DataFrame({"period_us": zeros, "shoppers": zeros, "staff": zeros})  # Nobody present.
    period = points.ts_us // period_us
    new = np.ones(len(points), bool)
    new[1:] = ~points.same_shopper_steps() | (period[1:] != period[:-1])
    lo = int(period.min())
    idx = period[new] - lo
    size = int(idx.max()) + 1
    shoppers = np.bincount(idx[~is_staff[new]], minlength=size)
    staff = np.bincount(idx[is_staff[new]], minlength=size)
    keep = np.flatnonzero((shoppers + staff) > 0)
    return pd.DataFrame(
        {"period_us": (keep + lo) * period_us, "shoppers": shoppers[keep], "staff": staff[keep]}
    )
