"""Zones: polygons on the floor plan and the store analytics built on them."""
