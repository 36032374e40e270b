"""Simulated demo store: a deterministic store day written as the real pipeline writes it, plus ground truth.

``build_demo(db_path, shoppers=400, seed=7)`` writes the store config (table ``store_config`` and
``<db stem>_store.yaml`` next to the database), cameras, file-less videos (``simulated://camN``), shoppers,
floor trajectories (1 Hz, metres), track points projected into every camera that sees them (with COCO
keypoints near the high-value area), tracklets, and a sales CSV (imported); then runs ``zones.analyse``.
It returns a :class:`~pipeline.simulate.truth.DemoTruth` for tests.
"""

from __future__ import annotations

from pipeline.simulate.build import build_demo
from pipeline.simulate.truth import DemoTruth

__all__ = ["DemoTruth", "build_demo"]
