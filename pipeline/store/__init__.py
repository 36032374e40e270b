"""The store model at the bottom of the house: geometry primitives and the config's settings schema.

Modules here import only numpy, shapely and yaml (and :mod:`pipeline.errors`), so parsing a store config
(:mod:`pipeline.config`) loads neither DuckDB nor pandas, and every layer above can use them:

- :mod:`pipeline.store.geometry`: polygon validation, homography validation and application.
- :mod:`pipeline.store.calibration`: fitting a homography to point pairs (OpenCV; imported only to calibrate).
- :mod:`pipeline.store.rules`: the ``analytics:`` and ``flags:`` sections (defaults, validation).
"""
