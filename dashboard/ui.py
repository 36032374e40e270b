"""What every page shares: the sidebar (database, period, processing status) and small formatters."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import auth, charts, data
from dashboard.jobs import new_job_manager
from pipeline.config import StoreConfig
from pipeline.errors import ConfigError, UserError
from pipeline.jobs import JobManager

# The browser tab's icon. An emoji is drawn by the browser itself; a ``:material/...:`` icon would be
# fetched from fonts.gstatic.com, which an offline store computer cannot reach.
PAGE_ICON = "🛒"


@dataclass(frozen=True)
class Context:
    """The sidebar's choices.

    Attributes:
        start, end: the selected period, half-open, store-local.
        config: the store config saved in the database (``None`` before store setup).
    """

    db: str
    start_day: date
    end_day: date
    start: datetime
    end: datetime
    config: StoreConfig | None


# Module-level, not st.cache_resource: a `clear_cache` message would drop the queue while its worker
# keeps running (issue 13).
_job_manager: JobManager | None = None
_job_manager_lock = threading.Lock()


def job_manager() -> JobManager:
    """The server's one processing queue (shared by every browser session)."""
    global _job_manager
    with _job_manager_lock:
        if _job_manager is None:
            _job_manager = new_job_manager(on_finished=data.bump)
        return _job_manager


def sidebar() -> Context | None:
    """Draw the shared sidebar; ``None`` (with the reason shown) when the database cannot be opened."""
    auth.protection_notice()
    options = data.databases()
    if (switch := st.session_state.pop("switch_db", None)) in options:
        st.session_state["db"] = switch  # set before the widget exists (a page cannot change it after)
    if st.session_state.get("db") not in options:
        st.session_state["db"] = options[0]
    db = st.sidebar.selectbox(
        "Database",
        options,
        key="db",
        format_func=lambda p: Path(p).name,
        help=f"*.duckdb files in {data.data_dir()}; set SHOPPER_DB to open another file.",
    )
    try:
        data.connection(db)
        config = data.store_config(db)
    except (UserError, ConfigError) as exc:
        st.error(str(exc))
        return None
    days = data.day_range(db)
    today = date.today()
    first, last = days or (today, today)
    picked = st.sidebar.date_input(
        "Period",
        value=(last, last),
        # keyed by the data's days too: after new footage is analysed the period moves to its last day
        key=f"period::{db}::{first}::{last}",
        help=f"Days to analyse (inclusive); data covers {first:%d %b %Y} – {last:%d %b %Y}. "
        "Comparisons use the period of the same length just before.",
    )
    picked = tuple(picked) if isinstance(picked, list | tuple) else (picked,)
    start_day = picked[0] if picked else last
    end_day = picked[1] if len(picked) > 1 else start_day
    start, end = data.period(start_day, end_day)
    manager = job_manager()
    running = [j for j in manager.jobs(db) if j.active]
    if running:
        n = sum(len(j.tasks) for j in running)
        st.sidebar.info(f"Processing {n} video(s) in the background — see Footage.")
    st.sidebar.caption(f"Store: {config.name if config else 'not set up yet'}")
    if msg := st.session_state.pop("switched_db", None):
        st.success(msg)
    ctx = Context(db, start_day, end_day, start, end, config)
    st.session_state["ctx"] = ctx
    return ctx


def switch_database(db: str, message: str | None = None) -> None:
    """Open ``db`` in the sidebar from a page (takes effect on the rerun this starts)."""
    st.session_state["switch_db"] = db
    if message:
        st.session_state["switched_db"] = message
    st.rerun()


def context() -> Context:
    """The context the router's sidebar stored for this run (pages call this first)."""
    ctx = st.session_state.get("ctx")
    if ctx is None:
        st.stop()
    return ctx


def zone_colours(ctx: Context) -> dict[str, str]:
    """The store's zone -> colour map, the same on every page (from the saved config, else the analysis)."""
    names = [z.name for z in ctx.config.zones] if ctx.config else list(data.zones(ctx.db)["zone"])
    return charts.zone_colours(names)


def require_analytics(ctx: Context) -> bool:
    """Say so and return ``False`` when the database has no analysed data yet."""
    if data.summary(ctx.db).get("analysed_at") is None:
        st.info(
            "No analytics in this database yet. Upload footage on the **Footage** page (it is analysed "
            "when processing finishes), or choose another database in the sidebar."
        )
        return False
    return True


def period_label(ctx: Context) -> str:
    if ctx.start_day == ctx.end_day:
        return ctx.start_day.strftime("%a %d %b %Y")
    return f"{ctx.start_day:%d %b %Y} – {ctx.end_day:%d %b %Y}"


def duration(seconds: float | None) -> str:
    """``1 h 02 min`` / ``3 min 20 s`` / ``45 s``; ``–`` for none."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def minutes(seconds: float | None) -> str:
    """``5.3 min``, or ``42 s`` under a minute (short enough for a KPI tile); ``–`` for none."""
    if seconds is None:
        return "–"
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def delta(now: float | None, before: float | None, fmt: Callable[[float], str]) -> dict[str, Any]:
    """``st.metric`` keyword arguments comparing ``now`` with ``before`` (``fmt`` writes the difference).

    A difference that rounds to zero in ``fmt`` reads "no change", without an arrow or a colour (a green
    up arrow on "+0.0 min" says the store improved when it did not).

    Example:
        >>> delta(300.0, 301.0, lambda d: f"{d / 60:+.1f} min")
        {'delta': 'no change', 'delta_color': 'off', 'delta_arrow': 'off'}
    """
    if now is None or before is None:
        return {"delta": None}
    text = fmt(now - before)
    if not any(c in "123456789" for c in text):
        return {"delta": "no change", "delta_color": "off", "delta_arrow": "off"}
    return {"delta": text}


def percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def image_size(
    width: object, height: object, cells: pd.DataFrame | None = None, default: tuple[int, int] = (640, 480)
) -> tuple[int, int]:
    """A camera's image size for drawing; when unknown (NULL: no footage yet), the extent of its heatmap
    cells (``u_px, v_px``) with a margin, else ``default``."""
    if not pd.isna(width) and not pd.isna(height) and width and height:
        return int(width), int(height)
    if cells is not None and len(cells):
        return int(cells["u_px"].max() + 40), int(cells["v_px"].max() + 40)
    return default


def camera_size(db: str, camera: str) -> tuple[int, int]:
    """A camera's image size to draw on (1280×720 before any footage of it was processed)."""
    cams = data.cameras(db).set_index("name")
    if camera not in cams.index:
        return 1280, 720
    return image_size(cams.loc[camera, "width"], cams.loc[camera, "height"], default=(1280, 720))
