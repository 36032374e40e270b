"""Simulated demo store entry point: ``build_demo(db_path, shoppers=400, seed=7)`` (see ``pipeline.simulate``)."""

from __future__ import annotations

from pipeline.simulate import DemoTruth, build_demo

__all__ = ["DemoTruth", "build_demo"]
