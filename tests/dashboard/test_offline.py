"""The dashboard runs offline: nothing on screen links to or loads from the internet."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from streamlit import config as st_config
from streamlit.proto.NewSession_pb2 import Config as ConfigProto
from streamlit.runtime.app_session import _get_show_error_links

from dashboard import ui
from tests.dashboard.dashboard_testkit import APP, REPO


def test_error_boxes_link_to_no_search_engine():
    """Streamlit shows "Ask Google" / "Ask ChatGPT" links in error boxes unless client.showErrorLinks is off."""
    value = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["client"]["showErrorLinks"]
    before = st_config.get_option("client.showErrorLinks")
    try:
        st_config.set_option("client.showErrorLinks", value)
        assert _get_show_error_links() == ConfigProto.ShowErrorLinks.SHOW_ERROR_LINKS_FALSE
    finally:
        st_config.set_option("client.showErrorLinks", before)


def test_favicon_is_not_fetched_from_a_font_cdn():
    """Streamlit 1.67's frontend loads a ``:material/...:`` page icon from fonts.gstatic.com; an emoji is
    drawn inline as an SVG data URI."""
    calls = [
        node
        for node in ast.walk(ast.parse(Path(APP).read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "set_page_config"
    ]
    (icon,) = [k.value for k in calls[0].keywords if k.arg == "page_icon"]
    value = ui.PAGE_ICON if ast.unparse(icon) == "ui.PAGE_ICON" else ast.literal_eval(icon)
    assert not value.startswith(":") and not value.isascii()
