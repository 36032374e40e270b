"""Streamlit dashboard: pages in ``pages/``, data access in ``data.py``."""
