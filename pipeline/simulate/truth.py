"""Ground truth of a simulated day, derived from the scripts' exact geometry (not from the samples)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from pipeline.simulate.layout import DAY_START, ZONE
from pipeline.simulate.scripts import Script, visits_from_intervals, zone_intervals
from pipeline.store.rules import AnalyticsSettings


@dataclass(frozen=True)
class DemoTruth:
    """What the simulator scripted.

    Attributes:
        sample_interval_s: trajectory sampling interval.
        visits: shopper_id, zone, start_ts, end_ts, dwell_s, is_staff, from exact in-zone intervals and the
            visit definition of ``zones.visits``.
        labels: shopper_id, kind (normal / staff_manual / staff_rule / suspicious / near_miss), rule.
        queue_waits: shopper_id, wait_s (queue-zone entry to till entry), exact.
        n_points: trajectory rows written.
    """

    sample_interval_s: float
    visits: pd.DataFrame
    labels: pd.DataFrame
    queue_waits: pd.DataFrame
    n_points: int = 0
    files: dict[str, str] = field(default_factory=dict)

    def shoppers(self, kind: str, rule: str | None = None) -> set[int]:
        sel = self.labels["kind"] == kind
        if rule is not None:
            sel &= self.labels["rule"] == rule
        return set(self.labels.loc[sel, "shopper_id"].astype(int))


def compute_truth(scripts: list[Script], settings: AnalyticsSettings, dt_s: float) -> DemoTruth:
    rows, waits = [], []
    for s in scripts:
        intervals = zone_intervals(np.asarray(s.knots, np.float64))
        for zone, spans in intervals.items():
            for a, b in visits_from_intervals(
                spans, settings.merge_gap_s, settings.min_dwell_for(ZONE[zone].kinds)
            ):
                rows.append((s.shopper_id, zone, a, b, s.is_staff))
        queue, till = intervals.get("Checkout queue", []), intervals.get("Checkout", [])
        for t_till, _ in till:
            before = [a for a, b in queue if a <= t_till and t_till - b < settings.till_link_s]
            if before and not s.is_staff:
                waits.append((s.shopper_id, t_till - before[-1]))
    visits = pd.DataFrame(rows, columns=["shopper_id", "zone", "start_s", "end_s", "is_staff"])
    visits["dwell_s"] = visits["end_s"] - visits["start_s"]
    visits["start_ts"] = [DAY_START + timedelta(seconds=float(t)) for t in visits["start_s"]]
    labels = pd.DataFrame(
        {"shopper_id": [s.shopper_id for s in scripts], "kind": [s.kind for s in scripts],
         "rule": [s.rule for s in scripts]}
    )  # fmt: skip
    return DemoTruth(dt_s, visits, labels, pd.DataFrame(waits, columns=["shopper_id", "wait_s"]))
