"""Zones: polygons on the floor plan and the store analytics built on them.

Public API (stable; the dashboard calls these)::

    from pipeline.db import connect
    import zones

    conn = connect("data/demo.duckdb")
    summary = zones.analyse(conn)            # or zones.analyse(conn, load_config("store.yaml"))
    zones.set_flag_review(conn, flag_key, "dismissed", note="staff restocking", reviewer="ana")
    zones.write_reports(conn, "reports/", start=None, end=None, zones=None)   # -> list[Path]
    zones.heatmap_cells(conn, camera=None, start=None, end=None)             # -> DataFrame
    zones.import_sales(conn, "sales.csv")                                     # -> {"imported", "replaced"}

* :func:`analyse` ``(conn, config=None) -> dict``: recomputes every analytics table in one transaction
  (idempotent; ``flag_reviews`` and ``sales`` are kept). ``config=None`` uses the store config saved in the
  database. Returns the ``analysis_summary`` row.
* :func:`set_flag_review` ``(conn, flag_key, state, note=None, reviewer=None)``: state new / confirmed /
  dismissed; stored in ``flag_reviews`` keyed by the stable ``flag_key`` so it survives re-analysis.
* :func:`write_reports` ``(conn, out_dir, start=None, end=None, zones=None) -> list[Path]``: one CSV per
  report in ``zones.export.REPORTS`` (file name ``<report>.csv``, the listed columns).
* :func:`heatmap_cells` ``(conn, camera=None, start=None, end=None)``: floor (or one camera's image)
  heatmap summed over the hours overlapping ``[start, end)``.
* :func:`import_sales` ``(conn, path)``: all-or-nothing sales CSV import; recomputes conversion.

Tables the dashboard reads (columns in ``pipeline/db/migrations/v0002_analytics.py``): ``zones``,
``zone_visits``, ``section_metrics``, ``section_hourly``, ``store_metrics``, ``store_hourly``,
``occupancy_minute``, ``queue_minute``, ``queue_waits``, ``queue_hourly``, ``transitions``,
``zone_sequences``, ``sankey_edges``, ``shopper_paths``, ``heatmap_floor``, ``heatmap_camera``, ``flags``,
``flag_reviews``, the view ``flags_reviewed`` (flags + review state), ``sales``, ``conversion_hourly``,
``conversion_daily``, ``analysis_summary``.

Modules: ``geometry`` (zones on the floor, vectorised point-in-zone), ``trajectory`` (sorted point arrays),
``visits`` (hysteresis), ``metrics`` (occupancy), ``paths``, ``heatmap``, ``pose`` (experimental cue),
``flags``, ``sales``, ``export``, ``analyse`` (the orchestration). Polygons, homographies and the
``analytics:`` / ``flags:`` settings are the store model's (:mod:`pipeline.store`).
"""

from __future__ import annotations

from zones.analyse import analyse
from zones.export import write_reports
from zones.flags import set_flag_review
from zones.heatmap import cells as heatmap_cells
from zones.sales import import_sales

__all__ = ["analyse", "heatmap_cells", "import_sales", "set_flag_review", "write_reports"]
