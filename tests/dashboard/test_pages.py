"""Every page through the router (``AppTest``) on the simulated demo store: real content, not just "no error"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from dashboard import data
from tests.dashboard.dashboard_testkit import APP, query

PAGES = ["overview", "heatmap", "sections", "paths", "queues", "flags", "footage", "store_setup", "reports"]


def open_page(page: str | None = None, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(f"dashboard/pages/{page}.py").run()
        assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list:
    return at.get("plotly_chart")


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_errors(demo_db, page):
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value


def test_overview_kpis_equal_the_analytics_tables(demo_db):
    at = open_page()
    ((day, visitors, median_s, busiest, busiest_n),) = query(
        demo_db,
        "SELECT day, visitors, time_in_store_median_s, busiest_hour, busiest_hour_visitors FROM store_metrics",
    )
    (open_flags,) = query(demo_db, "SELECT count(*) FROM flags_reviewed WHERE review_state = 'new'")[0]
    (conversion,) = query(demo_db, "SELECT conversion FROM conversion_daily WHERE day = ?", [day])[0]
    (tills,) = query(
        demo_db,
        "SELECT count(DISTINCT p.shopper_id) FILTER (WHERE v.shopper_id IS NOT NULL) / count(DISTINCT p.shopper_id) "
        "FROM shopper_paths p LEFT JOIN (SELECT shopper_id FROM zone_visits JOIN zones USING (zone) WHERE is_till) v "
        "USING (shopper_id) WHERE NOT p.is_staff",
    )[0]
    assert metric(at, "Visitors") == f"{visitors:,}"
    assert metric(at, "Median time in store") == f"{median_s / 60:.1f} min"
    assert metric(at, "Busiest hour") == f"{busiest:%H:00}"
    assert next(m.delta for m in at.metric if m.label == "Busiest hour") == f"{busiest_n} visitors"
    assert metric(at, "Open flags") == str(open_flags)
    assert metric(at, "Conversion") == f"{conversion * 100:.1f}%"
    assert metric(at, "Reached checkout") == f"{tills * 100:.0f}%"
    assert len(charts(at)) == 2


def test_overview_previous_period_comparison(demo_db):
    """Two days sum their visitors; the day after is compared with the demo day."""
    at = open_page()
    (day,) = query(demo_db, "SELECT min(day) FROM store_metrics")[0]
    picker = at.sidebar.date_input[0]
    picker.set_value((day, day + timedelta(days=1))).run()
    assert not at.exception
    (visitors,) = query(demo_db, "SELECT sum(visitors) FROM store_metrics")[0]
    assert metric(at, "Visitors") == f"{visitors:,}"
    picker.set_value((day + timedelta(days=1), day + timedelta(days=1))).run()
    assert metric(at, "Visitors") == "0"
    visitors_delta = next(m.delta for m in at.metric if m.label == "Visitors")
    assert visitors_delta == f"{-visitors:+,}"


def test_heatmap_shows_floor_cells_and_filters_by_time(demo_db):
    at = open_page("heatmap")
    (cells,) = query(demo_db, "SELECT count(DISTINCT (ix, iy)) FROM heatmap_floor")[0]
    assert any(f"{cells:,} cells" in c.value for c in at.caption)
    assert len(charts(at)) == 2  # floor and camera tabs
    slider = at.slider(key="heatmap_window")
    start, _ = slider.value
    slider.set_value((start, start + timedelta(hours=1))).run()  # midnight to 1 am: the store is closed
    assert not at.exception
    assert any(c.value.startswith("0 cells") for c in at.caption)


def test_sections_table_equals_section_metrics(demo_db):
    at = open_page("sections")
    table = at.dataframe[0].value
    rows = query(
        demo_db,
        "SELECT zone, visitors, visits, dwell_median_s FROM section_metrics ORDER BY visitors DESC, zone",
    )
    assert list(table["zone"]) == [r[0] for r in rows]
    assert list(table["visitors"]) == [r[1] for r in rows]
    assert list(table["dwell_median_s"].round(6)) == [round(r[3], 6) for r in rows]
    assert len(charts(at)) == 4
    at.radio(key="matrix_value").set_value("visits").run()
    assert not at.exception


def test_paths_match_the_materialised_tables(demo_db):
    at = open_page("paths")
    sequences = at.dataframe[0].value
    expected = query(demo_db, "SELECT sequence, shoppers FROM zone_sequences ORDER BY rank")
    assert list(zip(sequences["sequence"], sequences["shoppers"])) == expected
    assert len(charts(at)) == 2
    at.slider(key="sankey_steps").set_value(3).run()
    assert not at.exception


def test_queues_table_equals_queue_hourly(demo_db):
    at = open_page("queues")
    table = at.dataframe[0].value
    (n, waits) = query(demo_db, "SELECT count(*), sum(waits) FROM queue_hourly")[0]
    assert len(table) == n and table["waits"].sum() == waits
    assert len(charts(at)) == 2


def test_flags_listed_by_score_with_lead_wording(demo_db):
    at = open_page("flags")
    table = at.dataframe[0].value
    rows = query(
        demo_db, "SELECT flag_key, score FROM flags_reviewed WHERE review_state = 'new' ORDER BY score DESC"
    )
    assert len(table) == len(rows) > 0
    assert list(table["score"]) == [r[1] for r in rows]
    assert "leads for review" in at.caption[0].value
    assert at.selectbox(key="flag_pick").value == rows[0][0]
    assert len(charts(at)) == 2  # timeline and path on the floor plan


def test_confirm_a_flag_persists_the_review(demo_db):
    at = open_page("flags")
    key = at.selectbox(key="flag_pick").value
    at.radio(key=f"review_state::{key}").set_value("confirmed")
    at.text_area(key=f"review_note::{key}").input("seen on camera, passed to the manager")
    at.text_input(key=f"reviewer_name::{key}").input("ana")
    next(b for b in at.button if b.label == "Save review").click().run()
    assert not at.exception
    assert query(demo_db, "SELECT state, note, reviewer FROM flag_reviews WHERE flag_key = ?", [key]) == [
        ("confirmed", "seen on camera, passed to the manager", "ana")
    ]
    assert any("confirmed" in s.value for s in at.success)
    assert key not in at.selectbox(key="flag_pick").options  # the 'new' queue no longer lists it
    at.multiselect(key="flag_states").set_value(["confirmed"]).run()
    assert at.selectbox(key="flag_pick").value == key


def test_review_form_follows_the_selected_flag(demo_db):
    """After a review the next flag's form starts from that flag's own stored review (it kept the previous
    flag's outcome, note and reviewer: one click reviewed the wrong flag); a saved review is shown again."""
    at = open_page("flags")
    first = at.selectbox(key="flag_pick").value
    at.radio(key=f"review_state::{first}").set_value("dismissed")
    at.text_area(key=f"review_note::{first}").input("a member of the public waiting for a friend")
    at.text_input(key=f"reviewer_name::{first}").input("ana")
    next(b for b in at.button if b.label == "Save review").click().run()
    assert not at.exception
    second = at.selectbox(key="flag_pick").value
    assert second != first
    assert at.radio(key=f"review_state::{second}").value == "new"
    assert at.text_area(key=f"review_note::{second}").value == ""
    assert at.text_input(key=f"reviewer_name::{second}").value == ""

    at.multiselect(key="flag_states").set_value(["dismissed"]).run()
    assert at.selectbox(key="flag_pick").value == first
    assert at.radio(key=f"review_state::{first}").value == "dismissed"
    assert at.text_area(key=f"review_note::{first}").value == "a member of the public waiting for a friend"
    assert at.text_input(key=f"reviewer_name::{first}").value == "ana"
    assert any("by ana" in i.value and "waiting for a friend" in i.value for i in at.info)


def test_flags_speak_a_store_managers_words(demo_db):
    """Rule names on screen are words (the technical name stays in the tooltip and the CSV)."""
    at = open_page("flags")
    rules = set(at.dataframe[0].value["rule"])
    assert rules and not rules & {"long_dwell", "repeated_returns", "checkout_bypass", "pose_concealment"}
    assert "long_dwell" not in at.selectbox(key="flag_pick").format_func(at.selectbox(key="flag_pick").value)


def test_mark_a_flagged_shopper_as_staff(demo_db):
    at = open_page("flags")
    key = at.selectbox(key="flag_pick").value
    (shopper,) = query(demo_db, "SELECT shopper_id FROM flags WHERE flag_key = ?", [key])[0]
    (visitors_before,) = query(demo_db, "SELECT sum(visitors) FROM store_metrics")[0]
    at.button(key="mark_staff").click().run()
    assert not at.exception
    assert query(demo_db, "SELECT is_staff, staff_source FROM shoppers WHERE shopper_id = ?", [shopper]) == [
        (True, "manual")
    ]
    # Re-analysed: staff are out of the shopper metrics and their flags are gone.
    assert query(demo_db, "SELECT sum(visitors) FROM store_metrics")[0][0] == visitors_before - 1
    assert query(demo_db, "SELECT count(*) FROM flags WHERE shopper_id = ?", [shopper]) == [(0,)]
    assert any("marked as staff" in s.value for s in at.success)


def test_reports_offer_every_csv_and_a_zip(demo_db):
    import zones.export

    at = open_page("reports")
    labels = [b.label for b in at.get("download_button")]
    assert len(labels) == len(zones.export.REPORTS) + 1
    assert labels[0].startswith(f"Download all ({len(zones.export.REPORTS)} CSV files")
    (visits,) = query(demo_db, "SELECT count(*) FROM zone_visits")[0]
    assert any(f"visits.csv** — every zone visit ({visits:,} rows)" in m.value for m in at.markdown)


def test_sidebar_switches_database(demo_db, campus_db):
    at = open_page()
    assert "Demo Store" not in at.sidebar.caption[-1].value  # SHOPPER_DB is the campus store now
    at.sidebar.selectbox(key="db").set_value(demo_db).run()
    assert "Store: Demo Store" in at.sidebar.caption[-1].value
    assert metric(at, "Visitors") != "0"


def test_empty_database_explains_what_to_do(campus_db):
    at = open_page()
    assert "No analytics in this database yet" in at.info[0].value
    at.switch_page("dashboard/pages/footage.py").run()
    assert "2,048 MB" in at.get("file_uploader")[0].proto.label


def test_a_change_that_rounds_to_zero_has_no_arrow(demo_db):
    """The day after the demo day, with the same figures, reads "no change" (it showed a green "↑ +0.0 min")."""
    query(demo_db, "INSERT INTO store_metrics SELECT * REPLACE (day + 1 AS day) FROM store_metrics")
    data.bump(demo_db)
    at = open_page()
    (day,) = query(demo_db, "SELECT max(day) FROM store_metrics")[0]
    at.sidebar.date_input[0].set_value((day, day)).run()
    for label in ("Visitors", "Median time in store"):
        m = next(m for m in at.metric if m.label == label)
        assert m.delta == "no change", (label, m.delta)
        assert m.proto.direction == MetricProto.MetricDirection.NONE
        assert m.proto.color == MetricProto.MetricColor.GRAY


def test_checkout_share_says_when_the_store_has_no_checkout(demo_db):
    query(demo_db, "UPDATE zones SET is_till = false")
    data.bump(demo_db)
    at = open_page()
    tile = next(m for m in at.metric if m.label == "Reached checkout")
    assert (tile.value, tile.delta) == ("–", "no checkout zone")


def test_period_follows_new_data(demo_db):
    """When newly analysed footage extends the data, the sidebar period moves to its last day (it stayed on
    the old period)."""
    at = open_page()
    (day,) = query(demo_db, "SELECT max(hour)::DATE FROM store_hourly")[0]
    assert at.sidebar.date_input[0].value == (day, day)
    query(
        demo_db, "INSERT INTO store_hourly SELECT * REPLACE (hour + INTERVAL 2 DAY AS hour) FROM store_hourly"
    )
    data.bump(demo_db)  # what a finished processing job does
    at.run()
    assert at.sidebar.date_input[0].value == (day + timedelta(days=2), day + timedelta(days=2))


def test_heatmap_survives_a_camera_without_image_size(demo_db, data_dir):
    """A camera with no footage yet has no image size (NULL): the heatmap drew it with a TypeError."""
    from datetime import datetime

    from dashboard import setup

    config = setup.upsert_camera(
        data.store_config(demo_db), "aaa-new", datetime(2026, 3, 1, 9), None, data_dir
    )
    data.save_store_config(demo_db, config)
    assert query(demo_db, "SELECT width, height FROM cameras WHERE name = 'aaa-new'") == [(None, None)]
    at = open_page("heatmap")
    camera = at.selectbox(key="heatmap_camera")
    assert camera.value != "aaa-new"  # cameras with footage come first
    camera.set_value("aaa-new").run()
    assert not at.exception, at.exception
    assert any("No footage processed for this camera yet" in c.value for c in at.caption)


def test_paths_flow_leaves_staff_areas_out_and_colours_zones_alike(demo_db):
    import json

    at = open_page("paths")
    sankey = json.loads(charts(at)[0].proto.spec)["data"][0]
    labels = sankey["node"]["label"]
    assert labels and not {"Staff room", "Stockroom"} & set(labels)
    colour = dict(zip(labels, sankey["node"]["color"]))
    at.switch_page("dashboard/pages/sections.py").run()
    bars = json.loads(charts(at)[0].proto.spec)["data"][0]
    for zone, bar_colour in zip(bars["x"], bars["marker"]["color"]):
        if zone in colour:
            assert colour[zone] == bar_colour, zone


def test_footage_on_the_demo_store_adds_a_real_camera(demo_db):
    at = open_page("footage")
    assert any("simulated demo store" in i.value for i in at.info)
    assert not at.get("file_uploader")  # the simulated cameras take no footage
    at.text_input(key="new_camera_name").input("front door")
    at.date_input(key="new_camera_day").set_value(date(2026, 11, 20))
    next(b for b in at.button if b.label == "Add camera").click().run()
    assert not at.exception, at.exception
    assert any("Camera 'front door' added" in s.value for s in at.success)
    assert at.get("file_uploader")
    (text,) = query(demo_db, "SELECT yaml FROM store_config")[0]
    assert "front door" in text and "2026-11-20T09:00:00" in text


@pytest.mark.parametrize(
    ("page", "jargon"), [("sections", "p90"), ("queues", "p90"), ("heatmap", "shopper-min")]
)
def test_no_jargon_on_screen(demo_db, page, jargon):
    """Column and axis titles use a store manager's words; the technical name is only in tooltips."""
    import json

    at = open_page(page)
    labels = [
        col.get("label", "") for df in at.dataframe for col in json.loads(df.proto.columns or "{}").values()
    ]
    layouts = [json.loads(c.proto.spec)["layout"] for c in charts(at)]
    titles = json.dumps([[lay.get("title"), lay.get("xaxis", {}).get("title"), lay.get("yaxis", {}).get("title")]
                         for lay in layouts])  # fmt: skip
    traces = json.dumps([
        [t.get("name"), t.get("colorbar")] for c in charts(at) for t in json.loads(c.proto.spec)["data"]
    ])  # fmt: skip
    for text in [*labels, titles, traces]:
        assert jargon not in str(text).lower()
    assert "u (px)" not in json.dumps(layouts)
