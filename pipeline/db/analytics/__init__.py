"""All SQL of the store analytics, one module per concept, mirroring the ``zones`` package.

``zones/<concept>.py`` holds a concept's maths (numpy, shapely) and ``pipeline/db/analytics/<concept>.py``
its SQL: :mod:`.tables` (the derived tables, clearing them, the analysis inputs), :mod:`.visits` (visits and
the staff rule), :mod:`.metrics` (store and section metrics, occupancy), :mod:`.queues`, :mod:`.paths`,
:mod:`.heatmap`, :mod:`.sales` (sales and conversion), :mod:`.flags`, :mod:`.summary` and :mod:`.export`
(the report queries of the API, dashboard and CSV files). Queries take DuckDB parameters (named ``$name``
where a query has several); Python-side arrays reach SQL as registered pandas DataFrames (fixed names
starting with ``_``), never as formatted text. Tables are created by ``migrations/v0002_analytics.py``.
"""
