"""Shopper ReID offline pipeline: footage -> detections -> tracks -> shoppers -> DuckDB."""

__version__ = "0.1.0"
