"""Password gates: a viewer password for every page, a reviewer password for flags and evidence.

Passwords are configured as *hashes* only, never in plain text, in Streamlit secrets
(``.streamlit/secrets.toml``)::

    [auth]
    password_hash = "pbkdf2_sha256$600000$...$..."
    reviewer_password_hash = "pbkdf2_sha256$600000$...$..."

or in the environment (``SHOPPER_PASSWORD_HASH``, ``SHOPPER_REVIEWER_PASSWORD_HASH``), which wins over
secrets. Make a hash with ``python -m dashboard.auth`` (prompts twice, prints the hash).

Without a viewer password the dashboard runs unprotected and says so in the sidebar. Without a
reviewer password, reviewing is open to whoever may view the dashboard (also said in the sidebar).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

import streamlit as st

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
ENV_VIEWER = "SHOPPER_PASSWORD_HASH"
ENV_REVIEWER = "SHOPPER_REVIEWER_PASSWORD_HASH"
_FAIL_DELAY_S = 1.0  # slows guessing through the login form


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
    """Configured hashes (``None``: not configured)."""

    viewer: str | None
    reviewer: str | None


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


def _login_form(key: str, title: str, stored: str) -> bool:
    with st.form(f"login_{key}"):
        st.subheader(title)
        password = st.text_input("Password", type="password", key=f"pw_{key}")
        submitted = st.form_submit_button("Unlock")
    if submitted:
        if verify_password(password, stored):
            st.session_state[f"auth_{key}"] = True
            st.rerun()
        time.sleep(_FAIL_DELAY_S)
        st.error("Wrong password.")
    return False


def require_viewer() -> bool:
    """Ask for the viewer password when one is configured; ``True`` once unlocked (or unprotected)."""
    passwords = configured()
    if passwords.viewer is None or st.session_state.get("auth_viewer"):
        return True
    return _login_form("viewer", "Shopper ReID — sign in", passwords.viewer)


def reviewer_unlocked() -> bool:
    """Whether this session may review flags and see evidence images."""
    passwords = configured()
    return passwords.reviewer is None or bool(st.session_state.get("auth_reviewer"))


def require_reviewer() -> bool:
    """Ask for the reviewer password when one is configured; ``True`` once unlocked."""
    passwords = configured()
    if reviewer_unlocked():
        return True
    st.info("Reviewing flags and viewing camera evidence needs the reviewer password.")
    return _login_form("reviewer", "Reviewer sign-in", passwords.reviewer or "")


def protection_notice() -> None:
    """Sidebar line saying what is protected."""
    passwords = configured()
    if passwords.viewer is None:
        st.sidebar.warning("Running unprotected: no dashboard password is configured (see README, Access).")
    elif passwords.reviewer is None:
        st.sidebar.caption("No reviewer password configured: anyone signed in can review flags.")


def main() -> int:  # pragma: no cover - interactive
    import getpass

    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat: "):
        print("error: the passwords differ")
        return 2
    print(hash_password(first))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
