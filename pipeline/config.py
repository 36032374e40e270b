"""Store config (YAML): cameras, their footage and calibration, and zones.

Example::

    name: Corner Shop
    floor_plan: {width: 20.0, height: 12.0}      # metres (optional; used to validate calibration)
    cameras:
      - name: entrance
        video: footage/entrance.mp4              # relative paths are relative to this file
        start_time: 2026-11-20T09:00:00          # ISO 8601; store local time
        fps: 25                                  # optional override of the file's frame rate
        homography: [[0.02, 0, -1], [0, 0.03, 2], [0, 0.0001, 1]]   # optional, image px -> floor m
    zones:
      - name: Electronics
        kind: [section, high_value]              # one kind or a list
        polygon: [[2, 2], [8, 2], [8, 6], [2, 6]]  # floor metres, or image px when `camera` is set
        camera: entrance                         # optional
    reid:                                        # optional; all keys in pipeline/reid/settings.py
      max_walking_speed: 2.0                     # m/s a shopper can walk between cameras

Every section is validated when the file is read (``analytics:`` and ``flags:`` by ``pipeline.store.rules``), so a
config that loads is one ``analyse`` accepts, except image-pixel zones on an uncalibrated camera (checked by
``process`` and ``analyse``, see :func:`_check_sections`). Every mistake raises
:class:`~pipeline.errors.ConfigError` naming the file and the offending entry. YAML aliases (``*name``) are
refused: a store config never needs them, and nested aliases can expand to billions of nodes.

Importing this module, or parsing a config, loads neither DuckDB nor pandas: the geometry and settings
checks live in :mod:`pipeline.store`, below this module and ``zones``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pipeline.errors import ConfigError
from pipeline.reid.settings import ReidConfig, parse_reid, reid_to_dict
from pipeline.store.geometry import validate_homography, validate_polygon
from pipeline.store.rules import ZONE_KINDS, parse_sections

_TOP_KEYS = {"name", "cameras", "zones", "floor_plan", "analytics", "flags", "reid"}
_CAMERA_KEYS = {"name", "video", "start_time", "fps", "homography"}
_ZONE_KEYS = {"name", "kind", "polygon", "camera"}


@dataclass(frozen=True)
class FloorPlan:
    """The floor rectangle [0, width] x [0, height] in metres."""

    width: float
    height: float


@dataclass(frozen=True)
class CameraConfig:
    """One camera and its footage.

    Attributes:
        homography: 3x3 image px -> floor metres, or ``None``.
    """

    name: str
    video: Path | None
    start_time: datetime
    fps: float | None = None
    homography: np.ndarray | None = None


@dataclass(frozen=True)
class ZoneConfig:
    """A zone polygon; ``camera`` set means the points are that camera's image pixels."""

    name: str
    kinds: tuple[str, ...]
    polygon: tuple[tuple[float, float], ...]
    camera: str | None = None


@dataclass(frozen=True)
class StoreConfig:
    name: str
    cameras: tuple[CameraConfig, ...]
    zones: tuple[ZoneConfig, ...] = ()
    floor_plan: FloorPlan | None = None
    analytics: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    reid: ReidConfig = field(default_factory=ReidConfig)

    def camera(self, name: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        raise ConfigError(f"unknown camera {name!r}; cameras: {', '.join(c.name for c in self.cameras)}")


def _parse_time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"{where}: start_time {value!r} is not an ISO 8601 time") from exc
    # Store local wall-clock time: analysts think in opening hours, not UTC.
    return parsed.replace(tzinfo=None)


def _check_keys(entry: Any, allowed: set[str], required: set[str], where: str) -> dict:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping, but got {type(entry).__name__}")
    unknown = set(entry) - allowed
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(allowed))}"
        )
    missing = required - set(entry)
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(sorted(missing))}")
    return entry


def _parse_camera(entry: Any, index: int, base: Path, check_files: bool) -> CameraConfig:
    where = f"cameras[{index}]"
    if isinstance(entry, dict) and entry.get("name"):
        where = f"camera {str(entry['name'])!r}"
    entry = _check_keys(entry, _CAMERA_KEYS, {"name", "start_time"}, where)
    name = str(entry["name"]).strip()
    if not name:
        raise ConfigError(f"{where}: name must not be empty")
    where = f"camera {name!r}"
    video = None
    if entry.get("video") is not None:
        video = Path(str(entry["video"])).expanduser()
        if not video.is_absolute():
            video = base / video
        if check_files and not video.is_file():
            raise ConfigError(f"{where}: video file not found: {video}")
    fps = entry.get("fps")
    if fps is not None:
        if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
            raise ConfigError(f"{where}: fps must be a positive number, but got {fps!r}")
        fps = float(fps)
    homography = None
    if entry.get("homography") is not None:
        homography = validate_homography(entry["homography"], f"{where}: homography")
    return CameraConfig(name, video, _parse_time(entry["start_time"], where), fps, homography)


def _parse_zone(entry: Any, index: int, camera_names: set[str]) -> ZoneConfig:
    where = f"zones[{index}]"
    if isinstance(entry, dict) and entry.get("name"):
        where = f"zone {str(entry['name'])!r}"
    entry = _check_keys(entry, _ZONE_KEYS, {"name", "kind", "polygon"}, where)
    name = str(entry["name"]).strip()
    where = f"zone {name!r}"
    kinds = entry["kind"] if isinstance(entry["kind"], list) else [entry["kind"]]
    bad = [k for k in kinds if k not in ZONE_KINDS]
    if not kinds or bad:
        raise ConfigError(f"{where}: unknown kind {bad or kinds!r}; valid kinds: {', '.join(ZONE_KINDS)}")
    camera = entry.get("camera")
    if camera is not None and camera not in camera_names:
        raise ConfigError(f"{where}: unknown camera {camera!r}")
    points = entry["polygon"]
    try:
        polygon = tuple((float(p[0]), float(p[1])) for p in points if len(p) == 2)
        if len(polygon) != len(points):
            raise ValueError("every point needs exactly two coordinates")
    except (TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"{where}: polygon must be a list of [x, y] points ({exc})") from exc
    zone = ZoneConfig(name, tuple(kinds), polygon, camera)
    validate_polygon(zone.polygon, where)
    return zone


def _check_sections(config: StoreConfig) -> None:
    """The ``analytics:`` and ``flags:`` checks ``analyse`` makes (``pipeline.store.rules``, the one place).

    Placing image-pixel zones on the floor (``zones.geometry.build_zones``) is left to the commands that
    store or analyse a config: the dashboard builds a config step by step and may draw a zone on a camera
    before calibrating it.

    Raises:
        ConfigError: naming the key.
    """
    parse_sections(config.analytics, config.flags, {z.name: z.kinds for z in config.zones})


def parse_config(raw: Any, base: Path, source: Path | None = None, check_files: bool = True) -> StoreConfig:
    """Validate a parsed YAML document and build a :class:`StoreConfig`.

    Args:
        raw: the YAML document (a mapping).
        base: directory that relative video paths are relative to.
        source: the file it came from (for messages).
        check_files: require every camera's video to exist.
    """
    where = str(source) if source else "store config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the top level must be a mapping with name, cameras, zones")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    if not raw.get("name"):
        raise ConfigError(f"{where}: missing key 'name'")
    cameras_raw = raw.get("cameras")
    if not isinstance(cameras_raw, list) or not cameras_raw:
        raise ConfigError(f"{where}: 'cameras' must be a non-empty list")
    try:
        cameras = tuple(_parse_camera(c, i, base, check_files) for i, c in enumerate(cameras_raw))
        names = [c.name for c in cameras]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"duplicate camera name(s): {', '.join(dupes)}")
        zones_raw = raw.get("zones") or []
        if not isinstance(zones_raw, list):
            raise ConfigError("'zones' must be a list")
        zones = tuple(_parse_zone(z, i, set(names)) for i, z in enumerate(zones_raw))
        znames = [z.name for z in zones]
        zdupes = sorted({n for n in znames if znames.count(n) > 1})
        if zdupes:
            raise ConfigError(f"duplicate zone name(s): {', '.join(zdupes)}")
        floor_plan = None
        if raw.get("floor_plan") is not None:
            fp = _check_keys(raw["floor_plan"], {"width", "height"}, {"width", "height"}, "floor_plan")
            try:
                floor_plan = FloorPlan(float(fp["width"]), float(fp["height"]))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"floor_plan: width and height must be numbers ({exc})") from exc
            if floor_plan.width <= 0 or floor_plan.height <= 0:
                raise ConfigError("floor_plan: width and height must be positive")
        for key in ("analytics", "flags"):
            if raw.get(key) is not None and not isinstance(raw[key], dict):
                raise ConfigError(f"'{key}' must be a mapping")
        reid = parse_reid(raw.get("reid"), set(names))
        config = StoreConfig(
            name=str(raw["name"]),
            cameras=cameras,
            zones=zones,
            floor_plan=floor_plan,
            analytics=dict(raw.get("analytics") or {}),
            flags=dict(raw.get("flags") or {}),
            source=source,
            reid=reid,
        )
        _check_sections(config)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return config


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases (``*name``): no "billion laughs" expansion."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(
                f"YAML aliases are not allowed in a store config (*{event.anchor} at line "
                f"{event.start_mark.line + 1}); write the value out"
            )
        return super().compose_node(parent, index)


def read_yaml(text: str) -> Any:
    """Parse YAML text like ``yaml.safe_load``, refusing aliases.

    Raises:
        ConfigError: an alias. ``yaml.YAMLError`` for a syntax error.
    """
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


class _PlainDumper(yaml.SafeDumper):
    """Writes shared objects out in full instead of as anchors and aliases (which :func:`read_yaml` refuses)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_config(config: StoreConfig) -> str:
    """The YAML text of ``config`` (as stored in a database); :func:`read_yaml` reads it back."""
    return yaml.dump(config_to_dict(config), Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


def load_config(path: str | Path, check_files: bool = True) -> StoreConfig:
    """Read and validate a store config YAML file.

    Raises:
        ConfigError: missing file, YAML syntax error, or any invalid entry.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"store config not found: {path}")
    try:
        raw = read_yaml(path.read_text(encoding="utf-8"))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file ({exc})") from exc
    return parse_config(raw, path.parent, path, check_files)


def config_to_dict(config: StoreConfig) -> dict[str, Any]:
    """The YAML-ready mapping of ``config`` (inverse of :func:`parse_config`)."""
    out: dict[str, Any] = {"name": config.name}
    if config.floor_plan:
        out["floor_plan"] = {"width": config.floor_plan.width, "height": config.floor_plan.height}
    out["cameras"] = []
    for cam in config.cameras:
        entry: dict[str, Any] = {"name": cam.name, "start_time": cam.start_time.isoformat()}
        if cam.video is not None:
            entry["video"] = str(cam.video)
        if cam.fps is not None:
            entry["fps"] = cam.fps
        if cam.homography is not None:
            entry["homography"] = cam.homography.tolist()
        out["cameras"].append(entry)
    out["zones"] = []
    for zone in config.zones:
        z: dict[str, Any] = {
            "name": zone.name,
            "kind": zone.kinds[0] if len(zone.kinds) == 1 else list(zone.kinds),
            "polygon": [list(p) for p in zone.polygon],
        }
        if zone.camera:
            z["camera"] = zone.camera
        out["zones"].append(z)
    if config.analytics:
        out["analytics"] = config.analytics
    if config.flags:
        out["flags"] = config.flags
    reid = reid_to_dict(config.reid)
    if reid:
        out["reid"] = reid
    return out
