"""Store setup through the page (add a zone, reject bad input) and the pure edit functions behind it."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard import setup
from pipeline.errors import ConfigError
from tests.dashboard.dashboard_testkit import APP, CAMPUS_CONFIG, query


def setup_page(tab: str = "Cameras") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.session_state["setup_tab"] = tab  # what a click on the tab does
    at.switch_page("dashboard/pages/store_setup.py").run()
    assert not at.exception, at.exception
    return at


def saved_config(db: str) -> dict:
    return yaml.safe_load(query(db, "SELECT yaml FROM store_config")[0][0])


def test_add_a_zone_on_the_floor_plan(campus_db):
    at = setup_page("Zones")
    at.text_input(key="zone_name::+ New zone").input("Promo")
    at.multiselect(key="zone_kinds::+ New zone").set_value(["section", "high_value"])
    at.text_area(key="zone_points::+ New zone").input("1, 1\n4, 1\n4, 3\n1, 3")
    at.button(key="save_zone").click().run()
    assert not at.exception
    assert any("Zone 'Promo' saved" in s.value for s in at.success)
    zone = next(z for z in saved_config(campus_db)["zones"] if z["name"] == "Promo")
    assert zone["kind"] == ["section", "high_value"] and zone["polygon"] == [[1, 1], [4, 1], [4, 3], [1, 3]]
    assert "Promo" in at.selectbox(key="zone_pick").options


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ("0, 0\n4, 4\n4, 0\n0, 4", "its edges cross each other near (2, 2)"),  # a bow tie
        ("30, 30\n34, 30\n34, 33", "entirely outside the floor plan (16 m × 12 m"),
        ("0, 0\n1, 1\n2, 2", "zero area"),
        ("0, 0\n4, 0", "at least 3 points"),
        ("0, 0\n4, zero\n4, 4", "line 2: expected 2 numbers"),
        ("", "at least 3 points"),
    ],
)
def test_bad_polygon_is_rejected_with_a_clear_message(campus_db, points, message):
    at = setup_page("Zones")
    at.text_input(key="zone_name::+ New zone").input("Broken")
    at.text_area(key="zone_points::+ New zone").input(points)
    at.button(key="save_zone").click().run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert [z["name"] for z in saved_config(campus_db)["zones"]] == [
        z["name"] for z in CAMPUS_CONFIG["zones"]
    ]


def test_edit_camera_with_pasted_matrix_and_reject_singular(campus_db):
    at = setup_page()
    at.selectbox(key="camera_pick").set_value("campus").run()
    at.text_area(key="matrix::campus").input("1 2 3\n2 4 6\n0 0 1").run()
    assert any("singular" in e.value for e in at.error)
    assert at.button(key="save_camera").disabled
    at.text_area(key="matrix::campus").input("[[0.02, 0, 0], [0, 0.02, 0], [0, 0, 1]]").run()
    at.button(key="save_camera").click().run()
    assert saved_config(campus_db)["cameras"][0]["homography"] == [[0.02, 0, 0], [0, 0.02, 0], [0, 0, 1]]


def test_calibrate_from_point_pairs(campus_db):
    at = setup_page()
    at.selectbox(key="camera_pick").set_value("campus").run()
    at.radio(key="cal_method::campus").set_value("Click point pairs").run()
    at.text_area(key="pairs::campus").input(
        "0, 0, 0, 0\n640, 0, 16, 0\n640, 480, 16, 12\n0, 480, 0, 12"
    ).run()
    assert not at.exception
    assert any("Calibrated from 4 pairs" in s.value for s in at.success)
    at.button(key="save_camera").click().run()
    h = np.asarray(saved_config(campus_db)["cameras"][0]["homography"])
    np.testing.assert_allclose(h, [[0.025, 0, 0], [0, 0.025, 0], [0, 0, 1]], atol=1e-9)


def test_yaml_import_rejects_bad_config_and_accepts_good(campus_db):
    at = setup_page("Import / export YAML")
    at.text_area(key="yaml_text").input("name: x\ncameras: []\n")
    at.button(key="yaml_import").click().run()
    assert any("Not imported" in e.value and "cameras" in e.value for e in at.error)
    good = dict(CAMPUS_CONFIG, name="Renamed store")
    at.text_area(key="yaml_text").input(yaml.safe_dump(good))
    at.button(key="yaml_import").click().run()
    assert saved_config(campus_db)["name"] == "Renamed store"


def test_create_a_store_in_an_empty_database(data_dir, monkeypatch):
    monkeypatch.setenv("SHOPPER_DB", str(data_dir / "new.duckdb"))
    at = setup_page()
    at.text_input(key="store_name").input("Corner shop")
    next(b for b in at.button if b.label == "Create store").click().run()
    assert not at.exception
    assert at.sidebar.caption[-1].value == "Store: Corner shop"


@pytest.mark.parametrize(
    ("pairs", "error"),
    [
        ([[0, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]], "at least 4"),
        ([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]], "on one line"),
        ([], "at least 4"),
    ],
)
def test_homography_from_pairs_rejects_degenerate_input(pairs, error):
    with pytest.raises(ConfigError, match=error):
        setup.homography_from_pairs(np.asarray(pairs, float).reshape(-1, 4))


def test_remove_last_camera_is_refused(tmp_path):
    config = setup.new_store("S", 10, 10, tmp_path)
    with pytest.raises(ConfigError, match="at least one camera"):
        setup.remove_camera(config, "camera-1", tmp_path)


def test_new_store_database_from_the_dashboard(demo_db, data_dir):
    """Store setup creates data/<name>.duckdb with the new store and switches the sidebar to it; renaming
    its placeholder camera leaves no ghost camera row; Footage asks for the real filming date."""
    at = setup_page()
    at.text_input(key="new_db_name").input("Corner Shop")
    next(b for b in at.button if b.label == "Create store database").click().run()
    assert not at.exception, at.exception
    new_db = str((data_dir / "corner-shop.duckdb").resolve())
    assert at.sidebar.selectbox(key="db").value == new_db
    assert at.sidebar.caption[-1].value == "Store: Corner Shop"
    assert any("Corner Shop" in s.value and "created" in s.value for s in at.success)
    assert query(demo_db, "SELECT count(*) FROM videos")[0][0] > 0  # the demo is untouched

    at.selectbox(key="camera_pick").set_value("camera-1").run()
    at.text_input(key="cam_name::camera-1").input("front").run()
    at.button(key="save_camera").click().run()
    assert not at.exception, at.exception
    assert query(new_db, "SELECT name FROM cameras") == [("front",)]

    next(b for b in at.button if b.label == "Create store database").click().run()  # same name again
    assert any("already exists" in e.value for e in at.error)


def test_the_tab_stays_open_after_a_save(campus_db):
    """Only the open tab runs (the page is faster), and a save keeps the user on it (it jumped to Cameras)."""
    at = setup_page("Zones")
    at.text_input(key="zone_name::+ New zone").input("Promo")
    at.text_area(key="zone_points::+ New zone").input("1, 1\n4, 1\n4, 3")
    at.button(key="save_zone").click().run()
    assert any("Zone 'Promo' saved" in s.value for s in at.success)
    keys = {w.key for w in at.selectbox}
    assert "zone_pick" in keys and "camera_pick" not in keys


def test_zones_are_drawn_with_their_names_in_distinct_colours(campus_db):
    import json

    at = setup_page("Zones")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t["text"][0] for t in spec["data"] if t.get("mode") == "text"]
    assert sorted(names) == ["Left", "Right", "Till"]
    colours = {
        t["name"]: t["line"]["color"] for t in spec["data"] if t.get("mode") == "lines" and "name" in t
    }
    assert len(set(colours.values())) == len(colours) == 3


def test_a_new_stores_camera_has_no_real_start_date_yet(tmp_path):
    """The Footage page asks for the filming date instead of silently using the placeholder camera's 1 Jan
    2026 (AppTest cannot upload a file, so the page's date field is covered by the browser test)."""
    from datetime import datetime

    config = setup.new_store("S", 10, 10, tmp_path)
    assert setup.is_placeholder_start(config.cameras[0].start_time)
    dated = setup.upsert_camera(
        config, "front", datetime(2026, 11, 20, 9), None, tmp_path, previous_name="camera-1"
    )
    assert not setup.is_placeholder_start(dated.camera("front").start_time)


def test_a_zone_on_an_uncalibrated_cameras_frame_is_refused_with_the_fix(tmp_path):
    """Analysis needs the camera's homography to place an image zone on the floor: the page says so when the
    zone is saved (it used to accept it, and the background re-analysis failed; found on CAVIAR footage)."""
    from datetime import datetime

    config = setup.upsert_camera(
        setup.new_store("S", 20, 16, tmp_path),
        "front",
        datetime(2004, 1, 20, 10),
        None,
        tmp_path,
        previous_name="camera-1",
    )
    square = np.array([[10, 10], [50, 10], [50, 50], [10, 50]], float)
    with pytest.raises(
        ConfigError, match="camera 'front' is not calibrated yet: calibrate it on the Cameras tab"
    ):
        setup.upsert_zone(config, "Door", ["entrance"], square, "front", tmp_path)
    calibrated = setup.upsert_camera(
        config,
        "front",
        datetime(2004, 1, 20, 10),
        np.diag([0.05, 0.05, 1.0]),
        tmp_path,
        previous_name="front",
    )
    assert (
        setup.upsert_zone(calibrated, "Door", ["entrance"], square, "front", tmp_path).zones[0].camera
        == "front"
    )
