from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pipeline.config import config_to_dict, load_config, parse_config
from pipeline.errors import ConfigError
from pipeline.store.geometry import validate_homography
from tests.builders import write_video
from tests.conftest import REPO

GOOD = """
name: Shop
floor_plan: {width: 20, height: 10}
cameras:
  - name: door
    video: door.mp4
    start_time: 2026-11-20T09:00:00+01:00
    fps: 12.5
    homography: [[0.05, 0, 0], [0, 0.05, 0], [0, 0, 1]]
zones:
  - name: Tills
    kind: [checkout, section]
    polygon: [[1, 1], [4, 1], [4, 3], [1, 3]]
  - name: Door area
    kind: entrance
    camera: door
    polygon: [[0, 0], [100, 0], [100, 50]]
"""


def write(tmp_path, text, video=True):
    if video:
        write_video(tmp_path / "door.mp4")
    path = tmp_path / "store.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_good_config_round_trips(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    cam = config.camera("door")
    assert cam.video == tmp_path / "door.mp4" and cam.fps == 12.5
    assert cam.start_time.isoformat() == "2026-11-20T09:00:00"  # local wall-clock time, zone dropped
    assert config.zones[0].kinds == ("checkout", "section")
    assert config.zones[1].camera == "door"
    again = parse_config(config_to_dict(config), tmp_path)
    assert again.zones == config.zones and np.allclose(again.cameras[0].homography, cam.homography)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("name: Shop\n", ""), "missing key 'name'"),
        (("floor_plan", "floorplan"), "unknown key\\(s\\) floorplan"),
        (("    fps: 12.5\n", "    fps: 12.5\n    colour: red\n"), "camera 'door'.*unknown key\\(s\\) colour"),
        (("video: door.mp4", "video: nowhere.mp4"), "video file not found: .*nowhere.mp4"),
        (("2026-11-20T09:00:00+01:00", "yesterday"), "start_time 'yesterday' is not an ISO 8601 time"),
        (("fps: 12.5", "fps: -3"), "fps must be a positive number"),
        (("[[0.05, 0, 0], [0, 0.05, 0], [0, 0, 1]]", "[[1, 2], [3, 4]]"), "homography must be a 3x3 matrix"),
        (("[[0.05, 0, 0], [0, 0.05, 0], [0, 0, 1]]", "[[1, 2, 3], [2, 4, 6], [0, 0, 1]]"), "singular"),
        (
            ("[[0.05, 0, 0], [0, 0.05, 0], [0, 0, 1]]", "[[.nan, 0, 0], [0, 1, 0], [0, 0, 1]]"),
            "NaN or infinite",
        ),
        (("kind: entrance", "kind: lobby"), "zone 'Door area': unknown kind"),
        (("camera: door\n", "camera: roof\n"), "zone 'Door area': unknown camera 'roof'"),
        (
            ("[[0, 0], [100, 0], [100, 50]]", "[[0, 0], [100, 0]]"),
            "zone 'Door area': a polygon needs at least 3 points",
        ),
        (
            ("[[0, 0], [100, 0], [100, 50]]", "[[0, 0], [50, 0], [100, 0]]"),
            "zone 'Door area': polygon has zero area",
        ),
        (
            ("[[1, 1], [4, 1], [4, 3], [1, 3]]", "[[1, 1], [4, 3], [4, 1], [1, 3]]"),
            "zone 'Tills': polygon edges cross",
        ),
        (("name: Door area", "name: Tills"), "duplicate zone name"),
    ],
)
def test_bad_configs_name_the_problem(tmp_path, replace, message):
    old, new = replace
    assert old in GOOD
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, GOOD.replace(old, new, 1)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "top level must be a mapping"),
        ("name: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("name: x\ncameras: []\n", "'cameras' must be a non-empty list"),
    ],
)
def test_malformed_yaml(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text, video=False))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="store config not found"):
        load_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("matrix", "ok"),
    [
        (np.eye(3), True),
        (np.eye(3).ravel().tolist(), True),
        (np.zeros((3, 3)), False),
        ([["a"] * 3] * 3, False),
        ([], False),
    ],
)
def test_validate_homography(matrix, ok):
    if ok:
        assert validate_homography(matrix).shape == (3, 3)
    else:
        with pytest.raises(ConfigError):
            validate_homography(matrix)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("analytics: {bogus_s: 1}\n", "analytics: unknown key\\(s\\) bogus_s"),
        ("analytics: {min_dwell_s: -1}\n", "analytics.min_dwell_s must be a number >= 0"),
        ("analytics: {queues: {Tills: Nowhere}}\n", "analytics.queues: unknown zone 'Nowhere'"),
        ("flags: {shoplifting: {}}\n", "flags: unknown key\\(s\\) shoplifting"),
        ("flags: {loitering: {treshold_s: 5}}\n", "flags.loitering: unknown key\\(s\\) treshold_s"),
        ("flags: {loitering: {enabled: maybe}}\n", "flags.loitering.enabled must be true or false"),
        ("analytics: []\n", "'analytics' must be a mapping"),
        ("", None),  # empty sections: defaults
    ],
)
def test_analytics_and_flags_validated_at_load(tmp_path, extra, message):
    path = write(tmp_path, GOOD + extra)
    if message is None:
        assert load_config(path).analytics == {}
        return
    with pytest.raises(ConfigError, match=f"store.yaml: {message}"):
        load_config(path)


@pytest.mark.parametrize(
    "text",
    [
        "name: &n Shop\ncameras: [{name: *n, start_time: 2026-11-20T09:00:00}]\n",
        # "billion laughs": each level doubles; refused at the first alias, before any expansion
        "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nname: Shop\ncameras: [{name: c, start_time: 2026-11-20T09:00:00}]\n",
    ],
)
def test_yaml_aliases_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="YAML aliases are not allowed"):
        load_config(write(tmp_path, text, video=False))


def test_dumped_config_reads_back_without_aliases(tmp_path):
    from pipeline.config import dump_config, read_yaml

    config = load_config(write(tmp_path, GOOD + "flags: {loitering: {threshold_s: 60}}\n"))
    shared = {"threshold_s": 60}
    config = parse_config(
        {**config_to_dict(config), "flags": {"loitering": shared, "long_dwell": shared}}, tmp_path
    )
    text = dump_config(config)
    assert "&" not in text and "*" not in text
    assert parse_config(read_yaml(text), tmp_path).flags == config.flags


def test_import_loads_neither_duckdb_nor_pandas():
    code = "import pipeline.config, sys; assert 'duckdb' not in sys.modules and 'pandas' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
