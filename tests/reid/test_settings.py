from __future__ import annotations

import pytest

from pipeline.config import config_to_dict, parse_config
from pipeline.errors import ConfigError
from pipeline.reid.settings import EMBEDDER_THRESHOLDS, FALLBACK_THRESHOLD, ReidConfig, parse_reid

CAMERAS = {"door", "aisle", "till"}


def store(reid):
    return {
        "name": "Shop",
        "cameras": [{"name": c, "start_time": "2026-11-20T09:00:00"} for c in sorted(CAMERAS)],
        "reid": reid,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("fast", "reid must be a mapping"),
        ({"speed": 2}, r"reid: unknown key\(s\) speed; allowed: adjacency, colocation_radius"),
        ({"max_walking_speed": 0}, "reid: max_walking_speed must be positive, but got 0"),
        ({"max_walking_speed": "2 m/s"}, "reid: max_walking_speed must be a number, but got '2 m/s'"),
        ({"match_threshold": float("nan")}, "reid: match_threshold must be a number"),
        ({"position_slack": -1}, "reid: position_slack must be >= 0"),
        ({"max_views": 0}, "reid: max_views must be an integer >= 1"),
        ({"refine": "yes"}, "reid: refine must be true or false"),
        ({"adjacency": ["door"]}, "reid: adjacency must be a mapping camera -> \\[cameras\\]"),
        ({"adjacency": {"door": "aisle"}}, r"reid: adjacency\['door'\] must be a list of camera names"),
        ({"adjacency": {"door": ["roof"]}}, r"reid: adjacency\['door'\]: unknown camera 'roof'"),
        (
            {"adjacency": {"roof": ["door"]}},
            "reid: adjacency: unknown camera 'roof'; cameras: aisle, door, till",
        ),
        (
            {"transit_time": {"door": {"aisle": [5, 1]}}},
            r"transit_time\['door'\]\['aisle'\] must be \[min_s, max_s\]",
        ),
        (
            {"transit_time": {"door": {"aisle": 5}}},
            r"transit_time\['door'\]\['aisle'\] must be \[min_s, max_s\]",
        ),
        ({"transit_time": {"door": [0, 5]}}, r"transit_time\['door'\] must be a mapping"),
    ],
)
def test_reid_config_errors(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_reid(raw, CAMERAS)
    with pytest.raises(ConfigError, match="store config: reid"):
        parse_config(store(raw), base=".", check_files=False)


def test_reid_config_defaults_and_round_trip():
    assert parse_reid(None, CAMERAS) == ReidConfig()
    assert parse_reid({}, CAMERAS) == ReidConfig()
    raw = {
        "max_walking_speed": 1.5,
        "match_threshold": 0.3,
        "refine": False,
        "adjacency": {"door": ["aisle"], "aisle": ["till"]},
        "transit_time": {"door": {"aisle": [0, 20]}},
    }
    config = parse_config(store(raw), base=".", check_files=False)
    reid = config.reid
    assert (
        reid.adjacent("aisle", "door")
        and reid.adjacent("till", "aisle")
        and not reid.adjacent("door", "till")
    )
    assert reid.transit_time[("aisle", "door")] == (0.0, 20.0)  # both ways
    again = parse_config(config_to_dict(config), base=".", check_files=False)
    assert again.reid == reid
    assert "reid" not in config_to_dict(parse_config(store(None), base=".", check_files=False))


@pytest.mark.parametrize(
    ("config", "embedder", "match", "refine"),
    [
        (ReidConfig(), "omz", EMBEDDER_THRESHOLDS["omz"], EMBEDDER_THRESHOLDS["omz"]),
        (ReidConfig(), "siamese", FALLBACK_THRESHOLD, FALLBACK_THRESHOLD),
        (ReidConfig(), None, FALLBACK_THRESHOLD, FALLBACK_THRESHOLD),
        (ReidConfig(match_threshold=0.3), "omz", 0.3, 0.3),
        (ReidConfig(refine_threshold=0.5), "hist", EMBEDDER_THRESHOLDS["hist"], 0.5),
    ],
)
def test_thresholds_per_embedder(config, embedder, match, refine):
    resolved = config.for_embedder(embedder)
    assert (resolved.match_threshold, resolved.refine_threshold) == (match, refine)


def test_reid_config_constructor_checks():
    with pytest.raises(ValueError, match="max_views must be >= 1"):
        ReidConfig(max_views=0)
    with pytest.raises(ValueError, match="colocation_radius must be a positive number"):
        ReidConfig(colocation_radius=-1.0)
