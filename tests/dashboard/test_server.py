"""The front door (``python -m dashboard.server``), started for real on a free localhost port.

Drives what a stranger can send — page loads, file uploads, metrics, a websocket speaking Streamlit's
protocol — and checks each is refused before Streamlit sees it; then signs in as viewer and admin.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dashboard.auth import COOKIE_NAME, hash_password
from tests.dashboard.dashboard_testkit import REPO

FAST = 1000
VIEWER_PW, ADMIN_PW = "look", "change"
UPLOAD = "/_stcore/upload_file/some-session/some-file"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gated:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "server.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.server", "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        pytest.fail("gated server did not start: " + self.log_path.read_text())

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self._log.close()

    def sign_in(self, password: str) -> httpx.Response:
        return httpx.post(f"{self.url}/signin", data={"password": password, "next": "/flags"}, timeout=30)

    def websocket(self, cookie: str | None = None):
        headers = {"Origin": self.url}
        if cookie:
            headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
        url = f"ws://127.0.0.1:{self.port}/_stcore/stream"
        return connect(url, additional_headers=headers, subprotocols=["streamlit"], open_timeout=10)


def start(tmp_path: Path, template: Path) -> Gated:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(template, data_dir / "demo.duckdb")
    env = dict(
        os.environ,
        SHOPPER_DATA_DIR=str(data_dir),
        SHOPPER_DB=str(data_dir / "demo.duckdb"),
        SHOPPER_PASSWORD_HASH=hash_password(VIEWER_PW, FAST),
        SHOPPER_REVIEWER_PASSWORD_HASH=hash_password(ADMIN_PW, FAST),
    )
    return Gated(tmp_path, env)


@pytest.fixture(scope="module")
def gated(demo_template, tmp_path_factory):
    """One server for the tests that never fail a sign-in (a lockout would spill into the next test)."""
    server = start(tmp_path_factory.mktemp("gated"), demo_template)
    yield server
    server.stop()


@pytest.fixture
def fresh_gated(demo_template, tmp_path):
    server = start(tmp_path, demo_template)
    yield server
    server.stop()


def test_strangers_are_refused_before_streamlit(gated):
    page = httpx.get(f"{gated.url}/heatmap", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=/heatmap"
    upload = httpx.put(f"{gated.url}{UPLOAD}", files={"file": ("a.mp4", b"x" * 100_000)}, timeout=10)
    assert upload.status_code == 401
    for path in (
        "/_stcore/metrics",
        "/_stcore/host-config",
        "/media/x.png",
        "/static/js/x.js",
        "/auth/login",
    ):
        assert httpx.get(f"{gated.url}{path}", timeout=10).status_code in (401, 404), path
    forged = {COOKIE_NAME: "admin.9999999999.0000000000000000.00"}
    assert httpx.put(f"{gated.url}{UPLOAD}", content=b"x", cookies=forged, timeout=10).status_code == 401

    with pytest.raises(InvalidStatus) as refused:
        gated.websocket()
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        gated.websocket(cookie=forged[COOKIE_NAME])
    assert "websocket refused (not signed in)" in gated.log()


def test_every_response_carries_security_headers(gated):
    for response in (
        httpx.get(f"{gated.url}/", timeout=10),
        httpx.get(f"{gated.url}/signin", timeout=10),
        httpx.get(f"{gated.url}/_stcore/health", timeout=10),
    ):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_viewer_may_connect_but_not_upload_or_clear_caches(gated):
    signed_in = gated.sign_in(VIEWER_PW)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/flags"
    cookie = signed_in.cookies[COOKIE_NAME]
    assert "httponly" in signed_in.headers["set-cookie"].lower()
    assert httpx.get(f"{gated.url}/", cookies={COOKIE_NAME: cookie}, timeout=10).status_code == 200
    upload = httpx.put(f"{gated.url}{UPLOAD}", content=b"x", cookies={COOKIE_NAME: cookie}, timeout=10)
    assert upload.status_code == 403 and "admin" in upload.text
    with gated.websocket(cookie) as ws:  # signed in: the handshake succeeds
        ws.send(BackMsg(clear_cache=True).SerializeToString())
        ws.send(BackMsg(app_heartbeat=True).SerializeToString())
        deadline = time.monotonic() + 10
        while "dropped websocket message clear_cache" not in gated.log() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert "dropped websocket message clear_cache" in gated.log()
    assert "dropped websocket message app_heartbeat" not in gated.log()


def test_admin_uploads_reach_streamlit(gated):
    cookie = gated.sign_in(ADMIN_PW).cookies[COOKIE_NAME]
    upload = httpx.put(f"{gated.url}{UPLOAD}", content=b"x", cookies={COOKIE_NAME: cookie}, timeout=10)
    # Streamlit itself answers now (no such session / no XSRF token): not the front door's refusal.
    assert upload.status_code != 401 and "admin password" not in upload.text and "Sign in" not in upload.text
    metrics = httpx.get(f"{gated.url}/_stcore/metrics", cookies={COOKIE_NAME: cookie}, timeout=10)
    assert metrics.status_code == 200


def test_lockout_after_five_wrong_passwords(fresh_gated):
    gated = fresh_gated
    statuses = [gated.sign_in("guess").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = gated.sign_in(ADMIN_PW)  # even the right password, while locked
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 59
    assert COOKIE_NAME not in locked.cookies
    log = gated.log()
    assert log.count("wrong password from 127.0.0.1") == 5 and "sign-in locked for 60 s" in log


def test_bound_to_localhost_by_default(gated):
    import psutil

    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == gated.port
    }
    assert listening == {"127.0.0.1"}
