"""The demo store's floor plan: rectangular zones around one aisle, four cameras with homographies.

Floor 30 x 20 m. An aisle runs along y = 8.5..11.5 (walking line y = 10); zones sit above and below it, so
walking between zones never crosses a third zone. A corridor at x = 23..24.5 leads up to the stockroom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from pipeline.store.calibration import fit_homography
from pipeline.store.geometry import apply_homography

FLOOR_W, FLOOR_H = 30.0, 20.0
AISLE_Y = 10.0
IMAGE_W, IMAGE_H = 1280, 720
FPS = 25.0
DAY_START = datetime(2026, 11, 20, 9, 0, 0)
OPEN_HOURS = 12


@dataclass(frozen=True)
class RectZone:
    """An axis-aligned zone rectangle (floor metres)."""

    name: str
    kinds: tuple[str, ...]
    x0: float
    y0: float
    x1: float
    y1: float
    camera: str | None = None  # config gives the polygon in this camera's pixels

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    @property
    def corners(self) -> np.ndarray:
        return np.array([[self.x0, self.y0], [self.x1, self.y0], [self.x1, self.y1], [self.x0, self.y1]])

    def random_point(self, rng: np.random.Generator, margin: float = 0.6) -> tuple[float, float]:
        return (float(rng.uniform(self.x0 + margin, self.x1 - margin)),
                float(rng.uniform(self.y0 + margin, self.y1 - margin)))  # fmt: skip


ZONES = (
    RectZone("Entrance", ("entrance",), 0.0, 0.0, 4.0, 3.0),
    RectZone("Household", ("section",), 5.0, 1.0, 11.0, 8.0),
    RectZone("Checkout", ("checkout",), 13.0, 1.0, 19.0, 3.0),
    RectZone("Checkout queue", ("checkout",), 13.0, 3.5, 19.0, 7.5),
    RectZone("Promo", ("section",), 21.0, 4.5, 25.0, 8.0, camera="cam2"),
    RectZone("Exit", ("exit",), 26.0, 0.0, 30.0, 3.0),
    RectZone("Produce", ("section",), 1.0, 12.0, 9.0, 19.0),
    RectZone("Bakery", ("section",), 10.0, 12.0, 16.0, 19.0),
    RectZone("Electronics", ("section", "high_value"), 17.0, 12.0, 23.0, 19.0),
    RectZone("Staff room", ("staff_only",), 24.5, 12.0, 29.5, 15.5),
    RectZone("Stockroom", ("restricted",), 24.5, 16.0, 29.5, 19.5),
)
ZONE = {z.name: z for z in ZONES}
SECTIONS = ("Produce", "Bakery", "Household", "Promo", "Electronics")

# Floor rectangle each camera sees (x0, y0, x1, y1); neighbours overlap by 2 m.
CAMERA_VIEWS = {
    "cam1": (0.0, 0.0, 16.0, 10.5),
    "cam2": (14.0, 0.0, 30.0, 10.5),
    "cam3": (0.0, 9.5, 16.0, 20.0),
    "cam4": (14.0, 9.5, 30.0, 20.0),
}


def floor_to_image(camera: str) -> np.ndarray:
    """3x3 floor metres -> image pixels of ``camera``: its view's far edge is narrower (perspective)."""
    x0, y0, x1, y1 = CAMERA_VIEWS[camera]
    src = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    near_low = camera in ("cam1", "cam2")  # these look "up" the floor plan, the others "down"
    if not near_low:
        src = src[[2, 3, 0, 1]]
    dst = np.array([[0, IMAGE_H - 1], [IMAGE_W - 1, IMAGE_H - 1], [IMAGE_W - 200, 90], [200, 90]], np.float64)
    return fit_homography(src, dst)[0]


def image_to_floor(camera: str) -> np.ndarray:
    h = np.linalg.inv(floor_to_image(camera))
    return h / h[2, 2]


def store_config_dict() -> dict[str, Any]:
    """The demo store config as a YAML-ready mapping (cameras without video files)."""
    cameras = [
        {"name": cam, "start_time": DAY_START.isoformat(), "fps": FPS,
         "homography": np.round(image_to_floor(cam), 12).tolist()}
        for cam in CAMERA_VIEWS
    ]  # fmt: skip
    zones = []
    for z in ZONES:
        entry: dict[str, Any] = {"name": z.name, "kind": z.kinds[0] if len(z.kinds) == 1 else list(z.kinds)}
        if z.camera:
            px = apply_homography(floor_to_image(z.camera), z.corners)
            entry["polygon"] = np.round(px, 3).tolist()
            entry["camera"] = z.camera
        else:
            entry["polygon"] = z.corners.tolist()
        zones.append(entry)
    return {
        "name": "Demo Store (simulated)",
        "floor_plan": {"width": FLOOR_W, "height": FLOOR_H},
        "cameras": cameras,
        "zones": zones,
        "analytics": {"queues": {"Checkout": "Checkout queue"}},
        "flags": {},
    }
