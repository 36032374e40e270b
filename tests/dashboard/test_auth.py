"""Passwords, roles, throttling and session cookies (the in-page half; the front door is test_server.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth
from dashboard.auth import ADMIN, VIEWER, LoginLimiter, Passwords, hash_password, verify_password
from tests.dashboard.dashboard_testkit import APP

FAST = 1000  # iterations: enough to test the format, fast in tests
VIEWER_HASH = hash_password("look", FAST)
ADMIN_HASH = hash_password("change", FAST)


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


@pytest.mark.parametrize(
    ("viewer", "admin", "password", "role"),
    [
        (None, None, None, ADMIN),  # unprotected, as before
        (VIEWER_HASH, None, None, None),
        (VIEWER_HASH, None, "look", ADMIN),  # no admin password: whoever may view may review
        (None, ADMIN_HASH, None, VIEWER),
        (None, ADMIN_HASH, "change", ADMIN),
        (VIEWER_HASH, ADMIN_HASH, None, None),
        (VIEWER_HASH, ADMIN_HASH, "look", VIEWER),
        (VIEWER_HASH, ADMIN_HASH, "change", ADMIN),
        (VIEWER_HASH, ADMIN_HASH, "", None),
    ],
)
def test_roles_table(viewer, admin, password, role):
    passwords = Passwords(viewer, admin)
    if password is None:
        assert passwords.anonymous_role == role
    else:
        got = LoginLimiter().attempt(password, passwords, "test").role
        assert got == role


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lockout_after_n_failures_grows_and_resets():
    clock = Clock()
    limiter = LoginLimiter(max_failures=3, lockout_s=60, max_lockout_s=150, clock=clock)
    passwords = Passwords(VIEWER_HASH, None)
    assert [limiter.attempt("x", passwords, "a").reason for _ in range(3)] == ["wrong", "wrong", "locked"]
    # Locked: even the right password is refused without being checked.
    assert limiter.attempt("look", passwords, "b") == auth.Attempt(None, "locked", 60.0)
    clock.now += 60
    assert [limiter.attempt("x", passwords, "a").reason for _ in range(3)][-1] == "locked"
    assert limiter.retry_after() == 120  # doubled
    clock.now += 120
    [limiter.attempt("x", passwords, "a") for _ in range(3)]
    assert limiter.retry_after() == 150  # capped
    clock.now += 150
    assert limiter.attempt("look", passwords, "b").role == ADMIN
    assert [limiter.attempt("x", passwords, "a").reason for _ in range(3)][-1] == "locked"
    assert limiter.retry_after() == 60  # a success resets the growth


def test_failures_are_logged_with_the_client(caplog):
    limiter = LoginLimiter(max_failures=2)
    with caplog.at_level("WARNING", logger="shopper.auth"):
        limiter.attempt("x", Passwords(VIEWER_HASH, None), "10.1.2.3:5555")
        limiter.attempt("x", Passwords(VIEWER_HASH, None), "10.1.2.4:5555")
    assert "10.1.2.3:5555" in caplog.text and "locked for 60 s" in caplog.text


def test_concurrent_checks_are_capped():
    limiter = LoginLimiter(max_concurrent=1)
    limiter._slots.acquire()  # one check in progress
    try:
        assert limiter.attempt("look", Passwords(VIEWER_HASH, None), "a").reason == "busy"
    finally:
        limiter._slots.release()
    assert limiter.attempt("look", Passwords(VIEWER_HASH, None), "a").reason == "ok"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"max_failures": 0}, "max_failures"),
        ({"lockout_s": 0}, "lockout_s"),
        ({"lockout_s": 10, "max_lockout_s": 5}, "lockout_s"),
        ({"max_concurrent": 0}, "max_concurrent"),
    ],
)
def test_limiter_validates(args, error):
    with pytest.raises(ValueError, match=error):
        LoginLimiter(**args)


def test_session_cookie_round_trip_and_refusals():
    passwords = Passwords(VIEWER_HASH, ADMIN_HASH)
    cookie = auth.sign_session(VIEWER, passwords, now=0)
    assert auth.read_session(cookie, passwords, now=10) == VIEWER
    _role, expires, fingerprint, mac = cookie.split(".")
    assert auth.read_session(f"{ADMIN}.{expires}.{fingerprint}.{mac}", passwords, now=10) is None  # forged
    assert auth.read_session(cookie, passwords, now=auth.SESSION_TTL_S + 1) is None  # expired
    assert auth.read_session(cookie, Passwords(hash_password("new", FAST), ADMIN_HASH), now=10) is None
    assert auth.read_session("garbage", passwords) is None and auth.read_session(None, passwords) is None
    with pytest.raises(ValueError, match="role"):
        auth.sign_session("root", passwords)


def test_without_password_the_app_says_it_is_unprotected(demo_db):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Running unprotected" in w.value for w in at.sidebar.warning)


def test_viewer_password_without_the_front_door_shows_nothing(demo_db, monkeypatch):
    """Plain `streamlit run` would accept uploads before any in-page password form: refuse instead."""
    monkeypatch.setenv("SHOPPER_PASSWORD_HASH", VIEWER_HASH)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.title and not at.metric and not at.text_input
    assert "make run" in at.error[0].value


def test_admin_password_gates_evidence_and_reviews(demo_db, monkeypatch):
    monkeypatch.setenv("SHOPPER_REVIEWER_PASSWORD_HASH", ADMIN_HASH)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("dashboard/pages/flags.py").run()
    assert at.dataframe  # the queue itself is listed
    assert not at.get("plotly_chart") and not [r for r in at.radio if str(r.key).startswith("review_state")]
    at.text_input(key="pw_admin").input("nope")
    at.button[0].click().run()
    assert any("Wrong password" in e.value for e in at.error)
    at.text_input(key="pw_admin").input("change")
    at.button[0].click().run()
    assert len(at.get("plotly_chart")) == 2 and [r for r in at.radio if str(r.key).startswith("review_state")]


@pytest.mark.parametrize(
    ("page", "admin_widget"),
    [("dashboard/pages/store_setup.py", "reanalyse"), ("dashboard/pages/footage.py", "add_camera")],
)
def test_viewers_cannot_change_the_store_or_process(demo_db, monkeypatch, page, admin_widget):
    monkeypatch.setenv("SHOPPER_REVIEWER_PASSWORD_HASH", ADMIN_HASH)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(page).run()
    keys = " ".join(str(w.key) for w in [*at.button, *at.get("file_uploader")])
    assert admin_widget not in keys and "yaml_upload" not in keys and "remove_camera" not in keys
    assert "admin" in at.info[0].value
    at.text_input(key="pw_admin").input("change")
    at.button[0].click().run()
    assert not at.exception
    assert admin_widget in " ".join(str(w.key) for w in at.button)
