"""Geometry primitives of the store model: polygons and homographies (numpy and shapely only).

The one implementation of each: :func:`validate_polygon` (zones), :func:`validate_homography` (camera
calibration in a config) and :func:`apply_homography` (image pixels -> floor metres, and back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
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
        coords = [(float(x), float(y)) for x, y in points]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: polygon points must be [x, y] numbers ({exc})") from exc
    if not np.isfinite(np.asarray(coords)).all():
        raise ConfigError(f"{where}: polygon has NaN or infinite coordinates")
    polygon = Polygon(coords)
    if not polygon.is_valid or polygon.area <= 0:
        reason = explain_validity(polygon)
        if (polygon.area <= 0 and len(set(map(tuple, points))) < 3) or _collinear(polygon):
            raise ConfigError(f"{where}: polygon has zero area (points are collinear or repeated)")
        raise ConfigError(f"{where}: polygon edges cross each other (self-intersection: {reason})")
    return polygon


def validate_homography(matrix: Any, where: str = "homography") -> npt.NDArray[np.float64]:
    """Return ``matrix`` as a finite, invertible 3x3 float64 array.

    Raises:
        ConfigError: wrong shape, non-numeric, non-finite, or singular.
    """
    try:
        h = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where} must be a 3x3 matrix of numbers ({exc})") from exc
    if h.shape == (9,):
        h = h.reshape(3, 3)
    if h.shape != (3, 3):
        raise ConfigError(f"{where} must be a 3x3 matrix, but got shape {h.shape}")
    if not np.isfinite(h).all():
        raise ConfigError(f"{where} contains NaN or infinite values")
    if abs(np.linalg.det(h)) < 1e-12 or np.linalg.cond(h) > 1e12:
        raise ConfigError(f"{where} is singular (not invertible): it cannot map image to floor")
    return h


def apply_homography(homography: npt.ArrayLike, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Map (N, 2) points through a 3x3 projective ``homography``.

    Returns:
        (N, 2) float64 mapped points; NaN where a point maps to infinity (on the horizon line).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    hom = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ np.asarray(homography, np.float64).T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = hom[:, :2] / hom[:, 2:3]
    out[np.abs(hom[:, 2]) < 1e-12] = np.nan
    return out
