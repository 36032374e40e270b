"""Store-setup edits as pure functions: each returns a new, fully validated :class:`StoreConfig`.

Every edit goes through ``pipeline.config.parse_config`` (the same validation as a YAML file), so a
camera, zone or calibration accepted here is exactly what the pipeline accepts, with its messages.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely.geometry import Polygon, box
from shapely.validation import explain_validity

from pipeline.config import FloorPlan, StoreConfig, config_to_dict, parse_config, validate_homography
from pipeline.errors import ConfigError
from pipeline.store.calibration import fit_homography

MIN_PAIRS = 4
# A new store's first camera starts on this nominal date until the user sets one; the Footage page asks
# for the real date rather than dating footage to it.
PLACEHOLDER_START = datetime(2026, 1, 1, 9)
# Earliest footage date the pages accept (Streamlit's default is ten years before the shown date, which
# refused archive footage such as the 2004 CAVIAR clips).
FOOTAGE_MIN_DAY = date(1990, 1, 1)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _validated(config: StoreConfig, base: Path) -> StoreConfig:
    return parse_config(config_to_dict(config), base, check_files=False)


def new_store(name: str, width: float | None, height: float | None, base: Path) -> StoreConfig:
    """A new store with one placeholder camera (a store needs at least one); edit or rename it next.

    Raises:
        ConfigError: empty name or non-positive floor size.
    """
    if not name.strip():
        raise ConfigError("the store needs a name")
    raw: dict[str, Any] = {
        "name": name.strip(),
        "cameras": [{"name": "camera-1", "start_time": PLACEHOLDER_START.isoformat()}],
    }
    if width or height:
        raw["floor_plan"] = {"width": width, "height": height}
    return parse_config(raw, base, check_files=False)


def is_placeholder_start(start: datetime) -> bool:
    """Whether a camera's start time is still the nominal one :func:`new_store` gave it."""
    return start == PLACEHOLDER_START


def parse_rows(text: str, columns: int, what: str) -> npt.NDArray[np.float64]:
    """Numbers from ``text``, ``columns`` per line (commas, spaces or brackets between them).

    Raises:
        ConfigError: a line with the wrong count of numbers (named by line number).
    """
    rows = []
    for i, line in enumerate(text.strip().splitlines(), start=1):
        if not line.strip():
            continue
        numbers = re.findall(_NUMBER, line)
        if len(numbers) != columns or re.sub(_NUMBER + r"|[\s,;\[\]()]", "", line):
            raise ConfigError(f"{what}, line {i}: expected {columns} numbers, but got {line.strip()!r}")
        rows.append([float(n) for n in numbers])
    return np.asarray(rows, np.float64).reshape(-1, columns)


def parse_matrix(text: str) -> npt.NDArray[np.float64]:
    """A pasted 3x3 homography (3 lines of 3 numbers, or 9 numbers on one line), validated.

    Raises:
        ConfigError: not 9 numbers, non-finite or singular.
    """
    numbers = re.findall(_NUMBER, text)
    if len(numbers) != 9:
        raise ConfigError(f"homography: paste 9 numbers (3 rows of 3), but found {len(numbers)}")
    return validate_homography([float(n) for n in numbers], "homography")


def homography_from_pairs(pairs: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], float]:
    """Image px -> floor m homography from (N, 4) rows ``u, v, x, y``, and its mean reprojection error (m).

    Raises:
        ConfigError: fewer than 4 pairs, points in a degenerate layout (3 on a line), or no solution.
    """
    pairs = np.asarray(pairs, np.float64).reshape(-1, 4)
    h, errors = fit_homography(pairs[:, :2], pairs[:, 2:])
    return h, float(np.mean(errors))


def upsert_camera(
    config: StoreConfig,
    name: str,
    start_time: datetime,
    homography: npt.NDArray[np.float64] | None,
    base: Path,
    previous_name: str | None = None,
) -> StoreConfig:
    """Add camera ``name`` or replace ``previous_name`` (renaming zones that refer to it).

    Raises:
        ConfigError: empty or duplicate name, bad homography.
    """
    name = name.strip()
    if not name:
        raise ConfigError("camera name must not be empty")
    raw = config_to_dict(config)
    entry: dict[str, Any] = {"name": name, "start_time": start_time.isoformat()}
    if homography is not None:
        entry["homography"] = np.asarray(homography).tolist()
    old = previous_name or name
    cams = [c for c in raw["cameras"] if c["name"] != old]
    existing = next((c for c in raw["cameras"] if c["name"] == old), None)
    if existing is not None and existing.get("video"):
        entry["video"] = existing["video"]
    if previous_name is None and existing is not None:
        raise ConfigError(f"camera {name!r} already exists; pick it to edit it")
    if previous_name is not None and name != previous_name and any(c["name"] == name for c in cams):
        raise ConfigError(f"camera {name!r} already exists")
    raw["cameras"] = (
        [*cams, entry] if existing is None else [entry if c["name"] == old else c for c in raw["cameras"]]
    )
    for zone in raw.get("zones", []):
        if zone.get("camera") == old:
            zone["camera"] = name
    return parse_config(raw, base, check_files=False)


def remove_camera(config: StoreConfig, name: str, base: Path) -> StoreConfig:
    """Drop a camera (its image-space zones go too).

    Raises:
        ConfigError: it is the last camera.
    """
    if len(config.cameras) <= 1:
        raise ConfigError("a store needs at least one camera; add another before removing this one")
    return _validated(
        replace(
            config,
            cameras=tuple(c for c in config.cameras if c.name != name),
            zones=tuple(z for z in config.zones if z.camera != name),
        ),
        base,
    )


def upsert_zone(
    config: StoreConfig,
    name: str,
    kinds: list[str],
    points: npt.NDArray[np.float64],
    camera: str | None,
    base: Path,
    previous_name: str | None = None,
) -> StoreConfig:
    """Add zone ``name`` or replace ``previous_name``; the polygon is validated (area, self-crossing).

    Raises:
        ConfigError: empty or duplicate name, no kind, bad polygon, unknown or uncalibrated camera.
    """
    name = name.strip()
    if not name:
        raise ConfigError("zone name must not be empty")
    if not kinds:
        raise ConfigError(f"zone {name!r}: pick at least one kind")
    raw = config_to_dict(config)
    entry: dict[str, Any] = {
        "name": name,
        "kind": kinds[0] if len(kinds) == 1 else list(kinds),
        "polygon": np.asarray(points, float).reshape(-1, 2).tolist(),
    }
    if camera:
        entry["camera"] = camera
        # Analysis places a camera zone on the floor through the camera's homography (zones.geometry); refuse
        # it here rather than let the background re-analysis fail later.
        if camera in {c.name for c in config.cameras} and config.camera(camera).homography is None:
            raise ConfigError(
                f"zone {name!r}: camera {camera!r} is not calibrated yet: calibrate it on the Cameras tab "
                "(image → floor), then draw zones on its frame"
            )
    _check_zone_shape(name, entry["polygon"], None if camera else config.floor_plan)
    old = previous_name or name
    exists = any(z["name"] == old for z in raw["zones"])
    if previous_name is None and exists:
        raise ConfigError(f"zone {name!r} already exists; pick it to edit it")
    if name != old and any(z["name"] == name for z in raw["zones"]):
        raise ConfigError(f"zone {name!r} already exists")
    raw["zones"] = (
        [entry if z["name"] == old else z for z in raw["zones"]] if exists else [*raw["zones"], entry]
    )
    return parse_config(raw, base, check_files=False)


def _check_zone_shape(name: str, points: list[list[float]], plan: FloorPlan | None) -> None:
    """Plain-words checks of a drawn zone before the config's own validation.

    Raises:
        ConfigError: edges that cross each other, or a floor zone entirely outside the floor plan.
    """
    if len(points) < 3:
        return  # the config validation names the problem
    polygon = Polygon(points)
    pts = np.asarray(points, float)
    flat = np.linalg.matrix_rank(pts - pts.mean(axis=0), tol=1e-9) < 2  # zero area: the config says so
    if not polygon.is_valid and not flat:
        where = re.findall(_NUMBER, explain_validity(polygon))
        at = f" near ({float(where[0]):g}, {float(where[1]):g})" if len(where) >= 2 else ""
        raise ConfigError(
            f"zone {name!r}: its edges cross each other{at}. List the corners in order around the zone, "
            "as you would walk its outline."
        )
    if plan is not None and not polygon.intersects(box(0, 0, plan.width, plan.height)):
        raise ConfigError(
            f"zone {name!r} lies entirely outside the floor plan ({plan.width:g} m × {plan.height:g} m, "
            "x from 0 across and y from 0 at the top): check its coordinates are in metres on this floor."
        )


def remove_zone(config: StoreConfig, name: str, base: Path) -> StoreConfig:
    analytics = dict(config.analytics)
    queues = {k: v for k, v in (analytics.get("queues") or {}).items() if name not in (k, v)}
    if "queues" in analytics:
        analytics["queues"] = queues
    return _validated(
        replace(config, zones=tuple(z for z in config.zones if z.name != name), analytics=analytics), base
    )


def set_floor_plan(config: StoreConfig, width: float, height: float, base: Path) -> StoreConfig:
    if width <= 0 or height <= 0:
        raise ConfigError("floor_plan: width and height must be positive")
    return _validated(replace(config, floor_plan=FloorPlan(float(width), float(height))), base)


def points_text(points: npt.ArrayLike) -> str:
    """Points as editable text, one ``x, y`` per line."""
    return "\n".join(
        ", ".join(f"{v:g}" for v in row) for row in np.asarray(points, float).reshape(len(points), -1)
    )
