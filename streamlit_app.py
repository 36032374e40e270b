"""Shopper ReID dashboard: ``streamlit run streamlit_app.py`` (or ``make run``).

A router only: the password gate, the shared sidebar, then the selected page from ``dashboard/pages``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, ui

st.set_page_config(page_title="Shopper ReID", page_icon=ui.PAGE_ICON, layout="wide")

if not auth.require_viewer():
    st.stop()

PAGES = {
    "Analytics": [
        st.Page("dashboard/pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("dashboard/pages/heatmap.py", title="Heatmap", icon=":material/local_fire_department:"),
        st.Page("dashboard/pages/sections.py", title="Sections", icon=":material/view_module:"),
        st.Page("dashboard/pages/paths.py", title="Paths", icon=":material/route:"),
        st.Page("dashboard/pages/queues.py", title="Queues", icon=":material/groups:"),
        st.Page("dashboard/pages/flags.py", title="Flags", icon=":material/flag:"),
    ],
    "Data": [
        st.Page("dashboard/pages/footage.py", title="Footage", icon=":material/videocam:"),
        st.Page("dashboard/pages/store_setup.py", title="Store setup", icon=":material/architecture:"),
        st.Page("dashboard/pages/reports.py", title="Reports", icon=":material/download:"),
    ],
}

page = st.navigation(PAGES)
if ui.sidebar() is None:
    st.stop()
page.run()
