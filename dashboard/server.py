"""The dashboard's front door: ``make run`` / ``python -m dashboard.server [--address A] [--port P]``.

Streamlit 1.67 serves apps with Starlette; ``st.App`` takes ASGI middleware that runs before any of
Streamlit's routes. :class:`Gate` is that middleware. It

- serves a sign-in page (``/signin``) and hands out a signed, HttpOnly session cookie
  (:mod:`dashboard.auth`), with the global lockout and a cap on concurrent password checks;
- refuses everything else without a valid cookie *before Streamlit sees it*: pages redirect to the
  sign-in page, other HTTP requests (uploads, ``/_stcore/metrics``, media) get 401, the websocket
  handshake gets 403;
- lets only admins upload files (``/_stcore/upload_file``) and read ``/_stcore/metrics``;
- drops websocket messages no browser of this product needs (``clear_cache``, ``set_run_on_save``,
  the ``debug_*`` ones), from everyone;
- adds security headers (a CSP the app works under, X-Frame-Options, nosniff, same-origin referrer) to
  every response.

Without any password configured the gate lets everyone in as admin (the sidebar says so). It binds
127.0.0.1 unless ``--address`` (or ``server.address`` / ``STREAMLIT_SERVER_ADDRESS``) says otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import logging
import re
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
import streamlit as st
from starlette.middleware import Middleware

from dashboard import auth

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "streamlit_app.py"
DEFAULT_ADDRESS = "127.0.0.1"
MAX_FORM_BYTES = 4096
OPEN_PATHS = frozenset({"/_stcore/health", "/favicon.png"})
ADMIN_PREFIXES = ("/_stcore/upload_file", "/_stcore/metrics")
# Streamlit's own OIDC routes (st.login) are not used here.
CLOSED_PATHS = frozenset({"/auth/login", "/auth/logout", "/oauth2callback"})
DROPPED_MESSAGES = frozenset(
    {"clear_cache", "set_run_on_save", "debug_disconnect_websocket", "debug_shutdown_runtime"}
)

log = logging.getLogger("shopper.server")


def _inline_script_hashes() -> str:
    """CSP hashes of the inline scripts in Streamlit's index.html (one sets ``prerenderReady``)."""
    index = Path(st.__file__).parent / "static" / "index.html"
    try:
        text = index.read_text(encoding="utf-8")
    except OSError:
        return ""
    scripts = re.findall(r"<script>(.*?)</script>", text, flags=re.S)
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts
    )


# Streamlit styles with emotion (inline styles) and Plotly sets inline styles too; fonts and images
# come as data:/blob: URLs; the websocket is same-origin.
CSP = (
    "default-src 'self'; "
    f"script-src 'self' {_inline_script_hashes()}; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "media-src 'self' blob:; "
    "connect-src 'self' ws: wss:; "
    "worker-src 'self' blob:; "
    "frame-src 'self'; "
    "frame-ancestors 'none'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Not "no-referrer": with it browsers send `Origin: null` on the sign-in form post, which looks cross-site.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

SIGNIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shopper ReID — sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: sans-serif; background: #f6f7f9; display: flex; justify-content: center; }}
form {{ background: #fff; margin-top: 12vh; padding: 2em; border-radius: 8px; min-width: 18em;
       box-shadow: 0 1px 4px #0002; }}
input {{ width: 100%; padding: .5em; margin: .5em 0 1em; box-sizing: border-box; }}
button {{ padding: .5em 1.5em; }} .msg {{ color: #b00020; }}
</style></head><body>
<form method="post" action="{action}">
<h2>Shopper ReID</h2><p>{hint}</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
<input type="hidden" name="next" value="{next}">
<p class="msg">{message}</p>
<button type="submit">Sign in</button>
</form></body></html>
"""


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(headers: dict[str, str]) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no cookie
        return None
    morsel = jar.get(auth.COOKIE_NAME)
    return morsel.value if morsel else None


def _client(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"


def _safe_next(value: str | None) -> str:
    """A same-site path to go to after signing in (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return quote(parts.path, safe="/") + (f"?{parts.query}" if parts.query else "")


def _cross_origin(headers: dict[str, str]) -> bool:
    """A browser request whose Origin is not this server (cross-site form post or websocket)."""
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def _back_msg_type(data: bytes) -> str | None:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    try:
        msg.ParseFromString(data)
    except Exception:  # not ours to judge: Streamlit rejects it itself
        return None
    return msg.WhichOneof("type")


class Gate:
    """ASGI middleware: sign-in, roles and security headers in front of Streamlit (see module doc)."""

    def __init__(self, app: Any, limiter: auth.LoginLimiter | None = None) -> None:
        self.app = app
        self.limiter = limiter or auth.LIMITER

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        passwords = auth.configured()
        role = auth.read_session(_cookie(headers), passwords) or passwords.anonymous_role
        path = scope.get("path", "/")
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, headers, role)
            return
        send = self._with_headers(send)
        if path == auth.SIGNIN_PATH:
            await self._signin(scope, receive, send, headers, passwords, role)
        elif path == auth.SIGNOUT_PATH:
            await self._redirect(send, auth.SIGNIN_PATH, cookie=self._clear_cookie())
        elif path in CLOSED_PATHS:
            await self._text(send, 404, "Not found")
        elif path in OPEN_PATHS:
            await self.app(scope, receive, send)
        elif role is None:
            if scope.get("method") == "GET" and "text/html" in headers.get("accept", ""):  # a page load
                await self._redirect(send, f"{auth.SIGNIN_PATH}?next={quote(path, safe='/')}")
            else:
                await self._text(send, 401, "Sign in first")
        elif role != auth.ADMIN and path.startswith(ADMIN_PREFIXES):
            await self._text(send, 403, "Needs the admin password")
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope, receive, send, headers: dict[str, str], role: str | None) -> None:
        if role is None or _cross_origin(headers):
            # Closing before accepting makes the server answer the handshake with 403.
            log.warning(
                "websocket refused (%s) from %s", "cross-origin" if role else "not signed in", _client(scope)
            )
            await send({"type": "websocket.close", "code": 1008})
            return

        async def filtered_receive() -> dict[str, Any]:
            while True:
                message = await receive()
                data = message.get("bytes") if message["type"] == "websocket.receive" else None
                kind = _back_msg_type(data) if data else None
                if kind not in DROPPED_MESSAGES:
                    return message
                log.warning("dropped websocket message %s from %s", kind, _client(scope))

        await self.app(scope, filtered_receive, send)

    def _with_headers(self, send: Any) -> Any:
        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped

    async def _signin(self, scope, receive, send, headers, passwords: auth.Passwords, role) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        next_path = _safe_next((query.get("next") or ["/"])[0])
        if scope.get("method") == "GET":
            await self._page(send, 200, next_path, passwords, role)
            return
        if scope.get("method") != "POST":
            await self._text(send, 405, "Method not allowed")
            return
        if _cross_origin(headers):
            await self._text(send, 403, "Cross-site sign-in refused")
            return
        body = await self._read_body(receive)
        if body is None:
            await self._text(send, 413, "Too large")
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        password = (form.get("password") or [""])[0]
        next_path = _safe_next((form.get("next") or [next_path])[0])
        if not passwords.roles():
            await self._redirect(send, next_path)
            return
        attempt = await anyio.to_thread.run_sync(self.limiter.attempt, password, passwords, _client(scope))
        if attempt.role is None:
            status = {"locked": 429, "busy": 429}.get(attempt.reason, 401)
            extra = [(b"retry-after", str(int(attempt.retry_after_s) + 1).encode())] if status == 429 else []
            await self._page(send, status, next_path, passwords, role, auth._refusal(attempt), extra)
            return
        await self._redirect(send, next_path, cookie=self._session_cookie(attempt.role, passwords, scope))

    async def _read_body(self, receive) -> bytes | None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                return None
            if not message.get("more_body"):
                return body

    def _session_cookie(self, role: str, passwords: auth.Passwords, scope) -> str:
        secure = "; Secure" if scope.get("scheme") in ("https", "wss") else ""
        value = auth.sign_session(role, passwords)
        return (
            f"{auth.COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; "
            f"Max-Age={auth.SESSION_TTL_S}{secure}"
        )

    @staticmethod
    def _clear_cookie() -> str:
        return f"{auth.COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    async def _page(self, send, status, next_path, passwords, role, message: str = "", extra=()) -> None:
        if role is not None and passwords.reviewer:
            hint = f"Signed in as {role}. Sign in with the admin password to review, upload or edit."
        else:
            hint = "Sign in with the dashboard or admin password."
        body = SIGNIN_PAGE.format(
            action=html.escape(f"{auth.SIGNIN_PATH}?next={quote(next_path, safe='/')}"),
            hint=html.escape(hint),
            next=html.escape(next_path),
            message=html.escape(message),
        ).encode()
        await self._respond(send, status, body, b"text/html; charset=utf-8", [*extra])

    async def _redirect(self, send, location: str, cookie: str | None = None) -> None:
        extra = [(b"location", location.encode("latin-1"))]
        if cookie:
            extra.append((b"set-cookie", cookie.encode("latin-1")))
        await self._respond(send, 303, b"", b"text/plain", extra)

    async def _text(self, send, status: int, text: str) -> None:
        await self._respond(send, status, text.encode(), b"text/plain; charset=utf-8", [])

    @staticmethod
    async def _respond(send, status: int, body: bytes, content_type: bytes, extra: list) -> None:
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def build_app() -> Any:
    """The Streamlit app (``streamlit_app.py``) behind the :class:`Gate`."""
    auth.mark_gated()
    return st.App(str(SCRIPT), middleware=[Middleware(Gate)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.server", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--address",
        help=f"address to bind (default: server.address, else {DEFAULT_ADDRESS}); "
        "0.0.0.0 serves every network interface",
    )
    parser.add_argument("--port", type=int, help="port (default: server.port, else 8501)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    overrides: dict[str, Any] = {}
    if args.address:
        overrides["server.address"] = args.address
    if args.port:
        overrides["server.port"] = args.port
    app = build_app()
    # App.run() treats sys.argv[0] as the app's script: make it streamlit_app.py so config, secrets and
    # sys.path resolve exactly as for `streamlit run streamlit_app.py`.
    sys.argv = [str(SCRIPT)]
    app.run(config=overrides)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
