"""Camera calibration: the image px -> floor metres homography from point pairs.

    >>> h = compute_homography(
    ...     image_pts=[[102, 410], [538, 402], [470, 215], [160, 220]],   # pixels, e.g. floor-tile corners
    ...     floor_pts=[[0, 0], [4, 0], [4, 6], [0, 6]],                   # the same corners in metres
    ...     floor_plan=FloorPlan(20, 12), image_size=(640, 480),
    ... )
    >>> apply_homography(h, np.array([[320.0, 300.0]]))

Paste ``h.tolist()`` into the camera's ``homography:`` in the store config. Every problem raises
:class:`~pipeline.errors.ConfigError` saying what is wrong and how to fix it. This module imports OpenCV, so
only calibration imports it (parsing a config uses :mod:`pipeline.store.geometry` alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.errors import ConfigError
from pipeline.store.geometry import apply_homography, validate_homography

if TYPE_CHECKING:
    from pipeline.config import FloorPlan

MIN_POINTS = 4


def _points(pts: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(pts, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a list of [x, y] points ({exc})") from exc
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ConfigError(f"{name} must have shape (N, 2), but got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ConfigError(f"{name} contains NaN or infinite values")
    return arr


def fit_homography(
    image_pts: npt.ArrayLike, floor_pts: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fit image px -> floor metres to 4+ corresponding points (OpenCV, least squares), and its errors.

    Args:
        image_pts: (N, 2) pixel positions of floor landmarks, N >= 4.
        floor_pts: (N, 2) the same landmarks on the floor plan, metres.

    Returns:
        The validated 3x3 float64 homography and (N,) reprojection error of each pair, metres (``inf``
        for a point mapped onto the horizon).

    Raises:
        ConfigError: too few points, points that do not pair up, a degenerate layout (all on one line),
            or no solution.
    """
    image = _points(image_pts, "image_pts")
    floor = _points(floor_pts, "floor_pts")
    if len(image) != len(floor):
        raise ConfigError(
            f"image_pts and floor_pts must pair up, but got {len(image)} and {len(floor)} points"
        )
    if len(image) < MIN_POINTS:
        raise ConfigError(f"a homography needs at least {MIN_POINTS} point pairs, but got {len(image)}")
    for name, arr in (("image_pts", image), ("floor_pts", floor)):
        # Fewer than 4 points in general position (e.g. all on one line) cannot fix a plane mapping.
        centred = arr - arr.mean(axis=0)
        if np.linalg.matrix_rank(centred, tol=1e-6 * max(1.0, float(np.abs(arr).max()))) < 2:
            raise ConfigError(
                f"{name} are collinear (they lie on one line): pick 4+ points spread over the floor, "
                "no 3 on one line"
            )
    h, _ = cv2.findHomography(image, floor, method=0)
    if h is None:
        raise ConfigError(
            "OpenCV could not fit a homography to these points: check that the pairs correspond"
        )
    h = validate_homography(h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h, "computed homography")
    errors = np.linalg.norm(apply_homography(h, image) - floor, axis=1)
    return h, np.where(np.isfinite(errors), errors, np.inf)


def compute_homography(
    image_pts: npt.ArrayLike,
    floor_pts: npt.ArrayLike,
    floor_plan: FloorPlan | None = None,
    image_size: tuple[int, int] | None = None,
    max_error_m: float = 0.25,
) -> npt.NDArray[np.float64]:
    """Fit image px -> floor metres (:func:`fit_homography`) and check the fit and the floor plan.

    Args:
        image_pts: (N, 2) pixel positions of floor landmarks, N >= 4.
        floor_pts: (N, 2) the same landmarks on the floor plan, metres.
        floor_plan: when given, every floor point and the mapped image points must lie on it.
        image_size: (width, height); with ``floor_plan``, the image's floor-visible pixels are checked.
        max_error_m: largest allowed reprojection error of a point pair, metres.

    Returns:
        A validated 3x3 float64 homography.

    Raises:
        ConfigError: as :func:`fit_homography`; a fit with large errors, or points that land outside the
            floor plan.
    """
    h, errors = fit_homography(image_pts, floor_pts)
    worst = int(np.argmax(errors))
    if errors[worst] > max_error_m:
        raise ConfigError(
            f"point pair {worst} is {errors[worst]:.2f} m off the fitted homography (max {max_error_m} m): "
            "a point is probably mistyped or the points are not on one floor plane"
        )
    validate_floor_bounds(h, floor_plan, image_size, floor_pts)
    return h


def validate_floor_bounds(
    homography: npt.NDArray[np.float64],
    floor_plan: FloorPlan | None,
    image_size: tuple[int, int] | None = None,
    floor_pts: npt.ArrayLike | None = None,
    tolerance_m: float = 0.5,
) -> None:
    """Check that calibration lands on the floor plan ``[0, width] x [0, height]`` (no-op without one).

    The bottom row of the image (where people's feet are nearest the camera) must map in front of the
    camera (no sign flip of the projective scale) and inside the plan, within ``tolerance_m``.

    Raises:
        ConfigError: a floor point or a mapped image point is outside the plan (or on the horizon), or the
            image's bottom edge maps behind the camera's horizon.
    """
    if floor_plan is None:
        return
    checks: list[tuple[str, np.ndarray]] = []
    if floor_pts is not None:
        checks.append(("floor point", _points(floor_pts, "floor_pts")))
    if image_size is not None:
        w, h = image_size
        bottom = np.array([[0, h - 1], [(w - 1) / 2, h - 1], [w - 1, h - 1]], np.float64)
        scale = np.hstack([bottom, np.ones((3, 1))]) @ np.asarray(homography, np.float64)[2]
        if np.any(scale <= 0) and not np.all(scale <= 0):
            raise ConfigError(
                "the image's bottom edge crosses the horizon of this homography: the points do not describe "
                "the floor as this camera sees it"
            )
        checks.append(("image bottom edge maps to", apply_homography(homography, bottom)))
    for what, pts in checks:
        # Written as "not inside" so a point on the horizon (NaN) counts as outside.
        inside = (
            (pts[:, 0] >= -tolerance_m)
            & (pts[:, 0] <= floor_plan.width + tolerance_m)
            & (pts[:, 1] >= -tolerance_m)
            & (pts[:, 1] <= floor_plan.height + tolerance_m)
        )
        if not inside.all():
            x, y = pts[int(np.argmin(inside))]
            raise ConfigError(
                f"{what} ({x:.2f}, {y:.2f}) m is outside the floor plan "
                f"[0, {floor_plan.width}] x [0, {floor_plan.height}] m"
            )
