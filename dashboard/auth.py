"""Passwords, roles, sign-in throttling and signed session cookies for the dashboard.

Passwords are configured as *hashes* only, never in plain text, in Streamlit secrets
(``.streamlit/secrets.toml``)::

    [auth]
    password_hash = "pbkdf2_sha256$600000$...$..."
    reviewer_password_hash = "pbkdf2_sha256$600000$...$..."

or in the environment (``SHOPPER_PASSWORD_HASH``, ``SHOPPER_REVIEWER_PASSWORD_HASH``), which wins over
secrets. Make a hash with ``python -m dashboard.auth`` (prompts twice, prints the hash).

Two roles: ``viewer`` (every analytics page) and ``admin`` (review flags and see evidence, upload and
process footage, edit the store). The reviewer password is the admin password. Who gets which role:

- no password at all: everyone is admin (the sidebar says the dashboard is unprotected);
- viewer password only: nobody without it; with it, admin (reviewing open to all who may view, as before);
- admin password only: everyone is a viewer; admin with it;
- both: nobody without one; viewer or admin by the password given.

Sign-in happens in front of Streamlit, in :mod:`dashboard.server` (``make run``), which checks the
password before Streamlit sees an upload or a websocket message and hands out a signed cookie that the
pages read back here (same process). A dashboard with a viewer password started *without* that front
door (plain ``streamlit run``) refuses to show anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
ENV_VIEWER = "SHOPPER_PASSWORD_HASH"
ENV_REVIEWER = "SHOPPER_REVIEWER_PASSWORD_HASH"
VIEWER = "viewer"
ADMIN = "admin"
ROLES = (VIEWER, ADMIN)
COOKIE_NAME = "shopper_session"
SESSION_TTL_S = 12 * 3600
SIGNIN_PATH = "/signin"
SIGNOUT_PATH = "/signout"

log = logging.getLogger("shopper.auth")

# Signs session cookies. Per process: a restart signs everybody out, and nothing secret is stored.
_COOKIE_KEY = secrets.token_bytes(32)
# Set by dashboard.server when it builds the gated app in this process.
_gated = False


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (base64) for ``password``.

    Raises:
        ValueError: empty password or iterations < 1.
    """
    if not password:
        raise ValueError("password must not be empty")
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, but got {iterations}")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    b64 = base64.b64encode
    return f"{ALGORITHM}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password` (constant-time compare).

    A malformed ``stored`` value never matches.
    """
    try:
        algorithm, iterations, salt_b64, digest_b64 = stored.strip().split("$")
        if algorithm != ALGORITHM:
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True)
class Passwords:
    """Configured hashes (``None``: not configured). ``reviewer`` is the admin password."""

    viewer: str | None
    reviewer: str | None

    @property
    def anonymous_role(self) -> str | None:
        """The role of someone who has not signed in; ``None``: they may see nothing."""
        if self.viewer is not None:
            return None
        return VIEWER if self.reviewer is not None else ADMIN

    def roles(self) -> list[tuple[str, str]]:
        """``(role, hash)`` pairs a password is checked against, admin first."""
        pairs = [(ADMIN, self.reviewer)] if self.reviewer else []
        if self.viewer:
            # Without an admin password everyone who may view may also review (the old semantics).
            pairs.append((VIEWER if self.reviewer else ADMIN, self.viewer))
        return pairs

    @property
    def fingerprint(self) -> str:
        """Changes when a hash changes: cookies signed for the old passwords stop working."""
        raw = f"{self.viewer or ''}|{self.reviewer or ''}".encode()
        return hashlib.sha256(raw).hexdigest()[:16]


def _secret(key: str) -> str | None:
    try:
        section = st.secrets.get("auth", {})
        value = section.get(key) if hasattr(section, "get") else None
    except Exception:  # no secrets.toml at all: Streamlit raises its own not-found error
        return None
    return str(value) if value else None


def configured() -> Passwords:
    """Hashes from the environment, else from ``st.secrets["auth"]``."""
    viewer = os.environ.get(ENV_VIEWER) or _secret("password_hash")
    reviewer = os.environ.get(ENV_REVIEWER) or _secret("reviewer_password_hash")
    return Passwords(viewer or None, reviewer or None)


# --- Sign-in throttling ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """The outcome of one sign-in attempt.

    Attributes:
        role: the role signed in, ``None`` when refused.
        reason: ``"ok"``, ``"wrong"``, ``"locked"`` (too many failures) or ``"busy"`` (too many checks
            running at once).
        retry_after_s: for ``"locked"``, seconds until sign-ins are accepted again.
    """

    role: str | None
    reason: str
    retry_after_s: float = 0.0


class LoginLimiter:
    """One limiter for the whole server: every client's failures count together.

    After ``max_failures`` wrong passwords in a row, every sign-in is refused for ``lockout_s``; each
    further lockout doubles (up to ``max_lockout_s``) until a correct password resets it. At most
    ``max_concurrent`` password hashes are computed at once (each costs about 0.4 s of CPU), so
    guessing can cost the server at most that many cores. A global lockout lets a stranger keep
    everyone from *signing in* for a while, but sessions already signed in keep working, and it caps
    guessing at a few passwords a minute however many addresses the guesses come from.
    """

    def __init__(
        self,
        max_failures: int = 5,
        lockout_s: float = 60.0,
        max_lockout_s: float = 3600.0,
        max_concurrent: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1:
            raise ValueError(f"max_failures must be >= 1, but got {max_failures}")
        if not 0 < lockout_s <= max_lockout_s:
            raise ValueError(f"need 0 < lockout_s <= max_lockout_s, but got {lockout_s}, {max_lockout_s}")
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, but got {max_concurrent}")
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.max_lockout_s = max_lockout_s
        self._clock = clock
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._lock = threading.Lock()
        self._failures = 0
        self._lockouts = 0
        self._locked_until = 0.0

    def retry_after(self) -> float:
        """Seconds until sign-ins are accepted again (0: now)."""
        with self._lock:
            return max(0.0, self._locked_until - self._clock())

    def attempt(self, password: str, passwords: Passwords, client: str) -> Attempt:
        """Check ``password`` against the configured hashes; blocking (run it off the event loop).

        Args:
            client: the client's address, for the log.
        """
        wait = self.retry_after()
        if wait > 0:
            log.warning("sign-in refused (locked out for %.0f s more) from %s", wait, client)
            return Attempt(None, "locked", wait)
        if not self._slots.acquire(blocking=False):
            log.warning("sign-in refused (too many password checks at once) from %s", client)
            return Attempt(None, "busy")
        try:
            role = next((r for r, stored in passwords.roles() if verify_password(password, stored)), None)
        finally:
            self._slots.release()
        with self._lock:
            if role is not None:
                self._failures = self._lockouts = 0
                log.info("signed in as %s from %s", role, client)
                return Attempt(role, "ok")
            self._failures += 1
            log.warning("wrong password from %s (%d in a row)", client, self._failures)
            if self._failures < self.max_failures:
                return Attempt(None, "wrong")
            self._failures = 0
            lockout = min(self.lockout_s * 2**self._lockouts, self.max_lockout_s)
            self._lockouts += 1
            self._locked_until = self._clock() + lockout
            log.error(
                "%d wrong passwords in a row (last from %s): sign-in locked for %.0f s",
                self.max_failures,
                client,
                lockout,
            )
            return Attempt(None, "locked", lockout)


LIMITER = LoginLimiter()


# --- Session cookies ---------------------------------------------------------------------------------


def _mac(payload: str) -> str:
    return hmac.new(_COOKIE_KEY, payload.encode(), hashlib.sha256).hexdigest()


def sign_session(role: str, passwords: Passwords, now: float | None = None) -> str:
    """A cookie value naming ``role``, valid for :data:`SESSION_TTL_S` and for these passwords only."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, but got {role!r}")
    expires = int((time.time() if now is None else now) + SESSION_TTL_S)
    payload = f"{role}.{expires}.{passwords.fingerprint}"
    return f"{payload}.{_mac(payload)}"


def read_session(value: str | None, passwords: Passwords, now: float | None = None) -> str | None:
    """The role in a cookie from :func:`sign_session`; ``None`` if missing, forged, expired or stale."""
    if not value:
        return None
    try:
        role, expires, fingerprint, mac = value.split(".")
        payload = f"{role}.{expires}.{fingerprint}"
        fresh = int(expires) > (time.time() if now is None else now)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(payload)):
        return None
    if not fresh or fingerprint != passwords.fingerprint or role not in ROLES:
        return None
    return role


def mark_gated() -> None:
    """Called by :mod:`dashboard.server`: sign-in is checked in front of Streamlit in this process."""
    global _gated
    _gated = True


def gated() -> bool:
    return _gated


# --- In the pages ------------------------------------------------------------------------------------


def current_role() -> str | None:
    """This browser session's role; ``None`` when it may see nothing."""
    passwords = configured()
    if gated():
        cookie = st.context.cookies.get(COOKIE_NAME) if st.context.cookies else None
        return read_session(cookie, passwords) or passwords.anonymous_role
    if passwords.viewer is not None:
        return None  # a viewer password without the front door: see require_viewer
    if st.session_state.get("auth_admin"):
        return ADMIN
    return passwords.anonymous_role


def require_viewer() -> bool:
    """Whether this session may see the dashboard; says why not when it may not."""
    if current_role() is not None:
        return True
    if gated():
        st.warning("Your sign-in has expired.")
        st.link_button("Sign in", SIGNIN_PATH)
    else:
        st.error(
            "A dashboard password is configured, but this server was started without its sign-in front "
            "door, which checks the password before Streamlit accepts uploads or messages. Start it with "
            "`make run` (or `python -m dashboard.server`)."
        )
    return False


def is_admin() -> bool:
    return current_role() == ADMIN


def require_admin(what: str) -> bool:
    """``True`` for an admin; otherwise says that ``what`` needs the admin password and how to sign in."""
    if is_admin():
        return True
    st.info(f"{what} needs the admin (reviewer) password.")
    if gated():
        page = st.context.url or "/"
        st.link_button("Sign in as admin", f"{SIGNIN_PATH}?next={_path_of(page)}")
        return False
    return _admin_form()


def _path_of(url: str) -> str:
    from urllib.parse import quote, urlsplit

    return quote(urlsplit(url).path or "/", safe="/")


def _admin_form() -> bool:
    """In-page admin sign-in, only without the front door (and so only without a viewer password)."""
    with st.form("login_admin"):
        st.subheader("Admin sign-in")
        password = st.text_input("Password", type="password", key="pw_admin")
        submitted = st.form_submit_button("Unlock")
    if submitted:
        attempt = LIMITER.attempt(password, Passwords(None, configured().reviewer), "in-page form")
        if attempt.role == ADMIN:
            st.session_state["auth_admin"] = True
            st.rerun()
        st.error(_refusal(attempt))
    return False


def _refusal(attempt: Attempt) -> str:
    if attempt.reason == "locked":
        return f"Too many wrong passwords: try again in {attempt.retry_after_s:.0f} s."
    if attempt.reason == "busy":
        return "Too many sign-ins at once: try again in a moment."
    return "Wrong password."


def reviewer_unlocked() -> bool:
    """Whether this session may review flags and see evidence images (admins only)."""
    return is_admin()


def require_reviewer() -> bool:
    """Ask for the admin (reviewer) password when needed; ``True`` once unlocked."""
    return require_admin("Reviewing flags and viewing camera evidence")


def protection_notice() -> None:
    """Sidebar lines saying what is protected and who is signed in."""
    passwords = configured()
    role = current_role()
    if passwords.viewer is None and passwords.reviewer is None:
        st.sidebar.warning("Running unprotected: no dashboard password is configured (see docs/security.md).")
    elif passwords.viewer is None:
        st.sidebar.caption("No viewer password configured: anyone who can reach this server can view.")
    elif passwords.reviewer is None:
        st.sidebar.caption("No admin (reviewer) password configured: anyone signed in is an admin.")
    if gated() and (passwords.viewer or passwords.reviewer):
        st.sidebar.caption(f"Role: {role or 'none'} · [Sign out]({SIGNOUT_PATH})")


def main() -> int:  # pragma: no cover - interactive
    import getpass

    first = getpass.getpass("New password: ")
    if not first:
        print("error: the password must not be empty")
        return 2
    if first != getpass.getpass("Repeat: "):
        print("error: the passwords differ")
        return 2
    print(hash_password(first))
    return 0


if __name__ == "__main__":  # pragma: no cover
    try:
        raise SystemExit(main())
    except (EOFError, KeyboardInterrupt):  # no terminal and nothing on stdin, or Ctrl-C
        import sys

        print("error: no password given", file=sys.stderr)
        raise SystemExit(2) from None
