"""Password gates: viewer password on every page, reviewer password for flag evidence and reviews."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import hash_password, verify_password
from tests.dashboard.dashboard_testkit import APP

FAST = 1000  # iterations: enough to test the format, fast in tests


@pytest.mark.parametrize(
    ("password", "stored", "ok"),
    [
        ("s3cret", hash_password("s3cret", FAST), True),
        ("wrong", hash_password("s3cret", FAST), False),
        ("s3cret", "plain-text-is-not-a-hash", False),
        ("s3cret", "md5$1$abc$def", False),
        ("", hash_password("s3cret", FAST), False),
    ],
)
def test_verify_password(password, stored, ok):
    assert verify_password(password, stored) is ok


def test_hash_is_salted_and_refuses_empty():
    assert hash_password("a", FAST) != hash_password("a", FAST)
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_without_password_the_app_says_it_is_unprotected(demo_db):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Running unprotected" in w.value for w in at.sidebar.warning)


def test_viewer_password_gates_every_page(demo_db, monkeypatch):
    monkeypatch.setenv("SHOPPER_PASSWORD_HASH", hash_password("open sesame", FAST))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.title and not at.metric  # nothing but the sign-in form
    at.text_input(key="pw_viewer").input("nope")
    at.button[0].click().run()
    assert any("Wrong password" in e.value for e in at.error) and not at.metric
    at.text_input(key="pw_viewer").input("open sesame")
    at.button[0].click().run()
    assert at.title[0].value == "Overview" and at.metric
    assert not any("unprotected" in w.value for w in at.sidebar.warning)


def test_reviewer_password_gates_evidence_and_reviews(demo_db, monkeypatch):
    monkeypatch.setenv("SHOPPER_REVIEWER_PASSWORD_HASH", hash_password("reviewer", FAST))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("dashboard/pages/flags.py").run()
    assert at.dataframe  # the queue itself is listed
    assert not at.get("plotly_chart") and "review_state" not in [r.key for r in at.radio]
    at.text_input(key="pw_reviewer").input("reviewer")
    at.button[0].click().run()
    assert len(at.get("plotly_chart")) == 2 and at.radio(key="review_state")
