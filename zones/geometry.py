"""Zone polygons as shapely 2 geometry, validated at the boundary."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from pipeline.errors import ConfigError


def _collinear(polygon: Polygon) -> bool:
    """All vertices on one line (the polygon encloses nothing)."""
    return shapely.minimum_rotated_rectangle(polygon).area <= 1e-12


def validate_polygon(points: Sequence[Sequence[float]], where: str = "polygon") -> Polygon:
    """Build a valid shapely ``Polygon`` from ``points`` or raise ``ConfigError`` naming ``where``.

    Rejects fewer than 3 points, non-finite coordinates, zero area and self-intersections.
    """
    if len(points) < 3:
        raise ConfigError(f"{where}: a polygon needs at least 3 points, but got {len(points)}")
    try:
        polygon = Polygon([(float(x), float(y)) for x, y in points])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: polygon points must be [x, y] numbers ({exc})") from exc
    if not np.isfinite(shapely.get_coordinates(polygon)).all():
        raise ConfigError(f"{where}: polygon has NaN or infinite coordinates")
    if not polygon.is_valid or polygon.area <= 0:
        reason = explain_validity(polygon)
        if (polygon.area <= 0 and len(set(map(tuple, points))) < 3) or _collinear(polygon):
            raise ConfigError(f"{where}: polygon has zero area (points are collinear or repeated)")
        raise ConfigError(f"{where}: polygon edges cross each other (self-intersection: {reason})")
    return polygon
