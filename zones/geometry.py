"""The zone index: a store config's zones on the floor plan and vectorised point-in-zone.

Polygon and homography primitives live in :mod:`pipeline.store.geometry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from pipeline.errors import ConfigError
from pipeline.store.geometry import apply_homography, validate_polygon

if TYPE_CHECKING:
    from pipeline.config import StoreConfig


# ---------------------------------------------------------------------------------------------------------------
# Zones on the floor plan and vectorised point-in-zone.

MAX_ZONES = 64  # one bit per zone in a uint64 membership mask


@dataclass(frozen=True)
class Zone:
    """A validated zone polygon in floor metres.

    Attributes:
        name: unique zone name from the store config.
        kinds: zone kinds (``section``, ``entrance``, ``exit``, ``checkout``, ``high_value``, ``restricted``,
            ``staff_only``); a zone may carry several.
        polygon: shapely polygon in floor metres (converted from image pixels when ``camera`` is set).
        camera: the camera whose image pixels the config gave, or ``None`` for floor metres.
    """

    name: str
    kinds: tuple[str, ...]
    polygon: Polygon
    camera: str | None = None

    def has(self, kind: str) -> bool:
        return kind in self.kinds


def build_zones(config: StoreConfig) -> tuple[Zone, ...]:
    """Validated floor-metre zones of ``config``; image-pixel polygons go through their camera's homography.

    Raises:
        ConfigError: naming the zone, for an unknown camera, a camera without homography, a polygon that is
            invalid (fewer than 3 points, zero area, self-intersecting) before or after conversion, or more
            than :data:`MAX_ZONES` zones.
    """
    if len(config.zones) > MAX_ZONES:
        raise ConfigError(f"at most {MAX_ZONES} zones are supported, but the config has {len(config.zones)}")
    cameras = {cam.name: cam for cam in config.cameras}
    out = []
    for zc in config.zones:
        where = f"zone {zc.name!r}"
        if zc.camera is None:
            polygon = validate_polygon(zc.polygon, where)
        else:
            cam = cameras.get(zc.camera)
            if cam is None:
                raise ConfigError(f"{where}: unknown camera {zc.camera!r}; cameras: {', '.join(cameras)}")
            if cam.homography is None:
                raise ConfigError(
                    f"{where}: camera {zc.camera!r} has no homography, so its pixel polygon "
                    "cannot be placed on the floor"
                )
            validate_polygon(zc.polygon, f"{where} (image pixels of camera {zc.camera!r})")
            floor = apply_homography(cam.homography, zc.polygon)
            if not np.isfinite(floor).all():
                raise ConfigError(f"{where}: a polygon point lies on camera {zc.camera!r}'s horizon")
            polygon = validate_polygon(floor.tolist(), f"{where} (on the floor via camera {zc.camera!r})")
        out.append(Zone(zc.name, tuple(zc.kinds), polygon, zc.camera))
    return tuple(out)


@dataclass(frozen=True)
class ZoneIndex:
    """Grid index answering "which zones contain each point" for millions of points at once.

    Each grid cell stores two bit masks: zones that contain the whole cell (no test needed) and zones
    whose boundary crosses it (tested exactly with ``shapely.contains_xy``, for those points only).

    Attributes:
        zones: the indexed zones; bit ``i`` of a mask is ``zones[i]``.
        origin: (2,) floor metres of the grid's lower-left corner.
        cell_m: grid cell size in metres.
        inside: (H, W) uint64 masks of zones containing the whole cell.
        edge: (H, W) uint64 masks of zones whose boundary crosses the cell.
    """

    zones: tuple[Zone, ...]
    origin: npt.NDArray[np.float64]
    cell_m: float
    inside: npt.NDArray[np.uint64]
    edge: npt.NDArray[np.uint64]

    @classmethod
    def build(cls, zones: Sequence[Zone], max_cells: int = 1024) -> ZoneIndex:
        """Index ``zones`` on a grid of at most ``max_cells`` cells per side (cells no smaller than 0.1 m)."""
        zones = tuple(zones)
        if len(zones) > MAX_ZONES:
            raise ValueError(f"at most {MAX_ZONES} zones can be indexed, but got {len(zones)}")
        if not zones:
            return cls(zones, np.zeros(2), 1.0, np.zeros((1, 1), np.uint64), np.zeros((1, 1), np.uint64))
        bounds = np.array([z.polygon.bounds for z in zones])
        lo = bounds[:, :2].min(axis=0)
        hi = bounds[:, 2:].max(axis=0)
        cell = max(0.1, float((hi - lo).max()) / max_cells)
        width, height = (np.floor((hi - lo) / cell).astype(int) + 1).tolist()
        inside = np.zeros((height, width), np.uint64)
        edge = np.zeros((height, width), np.uint64)
        for bit, zone in enumerate(zones):
            x0, y0, x1, y1 = zone.polygon.bounds
            i0, j0 = np.floor((np.array([x0, y0]) - lo) / cell).astype(int)
            i1, j1 = np.floor((np.array([x1, y1]) - lo) / cell).astype(int)
            jj, ii = np.mgrid[j0 : j1 + 1, i0 : i1 + 1]
            boxes = shapely.box(
                lo[0] + ii * cell, lo[1] + jj * cell, lo[0] + (ii + 1) * cell, lo[1] + (jj + 1) * cell
            )
            shapely.prepare(zone.polygon)
            full = shapely.contains_properly(zone.polygon, boxes)
            touch = shapely.intersects(zone.polygon, boxes) & ~full
            value = np.uint64(1) << np.uint64(bit)
            inside[jj[full], ii[full]] |= value
            edge[jj[touch], ii[touch]] |= value
        return cls(zones, lo.astype(np.float64), cell, inside, edge)

    def masks(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.uint64]:
        """(N,) uint64 bit masks: bit ``i`` set when point ``(x, y)`` (floor metres) lies inside ``zones[i]``.

        Points on a zone's boundary count as outside (``shapely.contains_xy``).
        """
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        out = np.zeros(len(x), np.uint64)
        if not self.zones or len(x) == 0:
            return out
        height, width = self.inside.shape
        # cell index of every point; points off the grid use an extra all-zero cell at the end
        inv = 1.0 / self.cell_m
        fx = (x - self.origin[0]) * inv
        fy = (y - self.origin[1]) * inv
        off = ~((fx >= 0) & (fx < width) & (fy >= 0) & (fy < height))
        flat = fy.astype(np.int32) * np.int32(width) + fx.astype(np.int32)
        del fx, fy
        if off.any():
            flat[off] = height * width
        inside = np.append(self.inside.ravel(), np.uint64(0))
        edge_table = np.append(self.edge.ravel(), np.uint64(0))
        out = inside[flat]
        edge = edge_table[flat]
        todo = np.flatnonzero(edge)
        if len(todo) == 0:
            return out
        edge_todo = edge[todo]
        for bit, zone in enumerate(self.zones):
            value = np.uint64(1) << np.uint64(bit)
            sub = todo[(edge_todo & value) != 0]
            if len(sub):
                hit = shapely.contains_xy(zone.polygon, x[sub], y[sub])
                out[sub[hit]] |= value
        return out
