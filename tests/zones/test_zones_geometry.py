"""Zones placed on the floor (pixel polygons through their camera) and the vectorised point-in-zone index."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from zones_testkit import make_config

from pipeline.errors import ConfigError
from pipeline.store.geometry import validate_polygon
from zones.geometry import Zone, ZoneIndex, build_zones

SQUARE = [[0, 0], [4, 0], [4, 4], [0, 4]]


@pytest.mark.parametrize(
    ("zone", "error"),
    [
        (
            {"name": "Bowtie", "kind": "section", "polygon": [[0, 0], [4, 4], [4, 0], [0, 4]]},
            "zone 'Bowtie'.*self-int",
        ),
        ({"name": "Line", "kind": "section", "polygon": [[0, 0], [1, 1], [2, 2]]}, "zone 'Line'.*zero area"),
        ({"name": "Two", "kind": "section", "polygon": [[0, 0], [1, 1]]}, "zone 'Two'.*at least 3"),
        (
            {"name": "Ghost", "kind": "section", "polygon": SQUARE, "camera": "nope"},
            "zone 'Ghost'.*unknown camera",
        ),
        ({"name": "Odd", "kind": "aisle", "polygon": SQUARE}, "zone 'Odd'.*unknown kind"),
    ],
)
def test_config_zone_errors_name_the_zone(zone, error):
    with pytest.raises(ConfigError, match=error):
        make_config(zones=[zone])


def test_camera_polygon_goes_through_homography():
    # image px -> floor m: scale by 0.01 and shift by (1, 2)
    h = [[0.01, 0, 1], [0, 0.01, 2], [0, 0, 1]]
    cfg = make_config(zones=[{"name": "Px", "kind": "section", "polygon": [[0, 0], [400, 0], [400, 200], [0, 200]],
                              "camera": "cam1"}])  # fmt: skip
    cfg = cfg.__class__(**{**cfg.__dict__, "cameras": (cfg.cameras[0].__class__(
        **{**cfg.cameras[0].__dict__, "homography": np.array(h, float)}),)})  # fmt: skip
    (zone,) = build_zones(cfg)
    assert zone.camera == "cam1"
    assert zone.polygon.bounds == pytest.approx((1, 2, 5, 4))


def test_camera_without_homography_is_an_error():
    cfg = make_config(zones=[{"name": "Px", "kind": "section", "polygon": SQUARE, "camera": "cam1"}])
    cam = cfg.cameras[0].__class__(**{**cfg.cameras[0].__dict__, "homography": None})
    cfg = cfg.__class__(**{**cfg.__dict__, "cameras": (cam,)})
    with pytest.raises(ConfigError, match="zone 'Px': camera 'cam1' has no homography"):
        build_zones(cfg)


def test_zone_index_matches_shapely_on_random_points():
    rng = np.random.default_rng(0)
    zones = (
        Zone("sq", ("section",), validate_polygon(SQUARE)),
        Zone("tri", ("section",), validate_polygon([[2, 2], [9, 3], [5, 8]])),  # overlaps sq
        Zone("l", ("section",), validate_polygon([[6, 0], [10, 0], [10, 1], [7, 1], [7, 2], [6, 2]])),
    )
    index = ZoneIndex.build(zones)
    x, y = rng.uniform(-1, 11, 200_000), rng.uniform(-1, 11, 200_000)
    masks = index.masks(x, y)
    for bit, zone in enumerate(zones):
        expected = shapely.contains_xy(zone.polygon, x, y)
        got = (masks & np.uint64(1 << bit)) != 0
        assert np.array_equal(got, expected), zone.name


@pytest.mark.parametrize("n", [0, 1])
def test_zone_index_empty_and_single(n):
    index = ZoneIndex.build((Zone("sq", ("section",), validate_polygon(SQUARE)),))
    assert index.masks(np.full(n, 2.0), np.full(n, 2.0)).tolist() == [1] * n
    assert ZoneIndex.build(()).masks(np.ones(3), np.ones(3)).tolist() == [0, 0, 0]
