"""Every page through the router (``AppTest``) on the simulated demo store: real content, not just "no error"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

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
    at.radio(key="review_state").set_value("confirmed")
    at.text_area(key="review_note").input("seen on camera, passed to the manager")
    at.text_input(key="reviewer_name").input("ana")
    next(b for b in at.button if b.label == "Save review").click().run()
    assert not at.exception
    assert query(demo_db, "SELECT state, note, reviewer FROM flag_reviews WHERE flag_key = ?", [key]) == [
        ("confirmed", "seen on camera, passed to the manager", "ana")
    ]
    assert any("confirmed" in s.value for s in at.success)
    assert key not in at.selectbox(key="flag_pick").options  # the 'new' queue no longer lists it
    at.multiselect(key="flag_states").set_value(["confirmed"]).run()
    assert at.selectbox(key="flag_pick").value == key


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
