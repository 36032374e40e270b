"""End to end in headless Chromium: upload real footage, watch it process, see results, download a CSV.

Uses Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) through Python Playwright, which
never downloads a browser here. Skips without Chromium, fails in CI. Screenshots of every page go to
``artifacts/screenshots/``.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import require_shared
from tests.dashboard.dashboard_testkit import SCREENSHOTS, dashboard_server, make_campus_db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = ["", "heatmap", "sections", "paths", "queues", "flags", "footage", "store_setup", "reports"]
PROCESSING_TIMEOUT_S = 240
PASSWORD = "browser test"

pytestmark = pytest.mark.browser


def require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    reason = f"{CHROMIUM} not found: apt-get install -y chromium (Debian's package) to run the browser test"
    if os.environ.get("CI"):
        pytest.fail(reason + " — required in CI")
    pytest.skip(reason)


@dataclass
class Server:
    url: str
    db: Path
    proc: subprocess.Popen

    def stop(self) -> None:
        """Stop the server (it then releases the database file)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path):
    """``python -m dashboard.server`` (what ``make run`` starts) on a fresh campus store database."""
    require_chromium()
    data_dir = tmp_path / "data"
    db = make_campus_db(data_dir / "campus.duckdb")
    with dashboard_server(tmp_path, data_dir, db, PASSWORD) as (url, proc):
        yield Server(url, db, proc)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox ``label`` (type to filter, Enter to pick)."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(option)
    box.press("Enter")
    expect_value = page.get_by_role("combobox", name=label)
    assert expect_value.input_value() == option, expect_value.input_value()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)  # let plotly finish drawing
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_upload_process_view_and_download(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    import zones.export

    url = server.url
    video = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
        page.set_default_timeout(60_000)

        csp_errors: list[str] = []
        page.on(
            "console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None
        )
        page.goto(f"{url}/footage")  # the front door asks for the password, then goes on to the page
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Upload videos (up to 2,048 MB each")).to_be_visible(timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(str(video))
        expect(page.get_by_text("640×480, 25.0 fps")).to_be_visible()  # the server has stored and probed it
        expect(page.get_by_text("_TUD-Campus.mp4")).to_have_count(0)  # names without the upload hash prefix
        page.get_by_text("Processing settings").click()
        choose(page, "Detector image size", "320")
        stride = page.get_by_role("spinbutton", name="Process every n-th frame")
        stride.fill("2")
        stride.press("Enter")
        choose(page, "Appearance embedder", "hist")
        page.get_by_role("button", name="Process 1 video(s)").click()
        expect(
            page.get_by_text("Job 1 — processing").or_(page.get_by_text("Job 1 — done")).first
        ).to_be_visible()
        # The rest of the dashboard stays usable while it runs.
        # .first: while Streamlit reruns the page, the old status line can stand beside the new one for a moment.
        expect(page.get_by_text("Job 1 — done").first).to_be_visible(timeout=PROCESSING_TIMEOUT_S * 1000)
        shot(page, "footage")

        page.goto(f"{url}/")
        visitors = (
            page.locator('[data-testid="stMetric"]')
            .filter(has=page.get_by_text("Visitors", exact=True))
            .locator('[data-testid="stMetricValue"]')
        )
        expect(visitors).to_be_visible()
        assert int(visitors.inner_text().replace(",", "")) > 0
        shot(page, "overview")
        for name in PAGES[1:]:
            page.goto(f"{url}/{name}")
            expect(page.locator("h1").first).to_be_visible()
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            shot(page, name)

        page.goto(f"{url}/reports")
        button = page.locator(".st-key-download_visits button")
        with page.expect_download() as info:
            button.click()
        target = tmp_path / "visits.csv"
        info.value.save_as(target)
        browser.close()
    assert csp_errors == []  # the app works under the front door's Content-Security-Policy

    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == zones.export.REPORTS["visits"]
    assert len(rows) > 1
    server.stop()
    conn = duckdb.connect(str(server.db), read_only=True)
    try:
        expected = conn.execute(
            "SELECT visit_id, shopper_id, zone FROM zone_visits ORDER BY visit_id"
        ).fetchall()
    finally:
        conn.close()
    assert [(int(r[0]), int(r[1]), r[2]) for r in rows[1:]] == expected
