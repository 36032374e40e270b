"""Plotly figure builders: query results in, figures out (no database access, no analytics maths)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go
from shapely import wkt as shapely_wkt

ZONE_COLOURS = {
    "entrance": "#2ca02c", "exit": "#d62728", "checkout": "#1f77b4", "high_value": "#9467bd",
    "restricted": "#8c564b", "staff_only": "#7f7f7f", "section": "#ff7f0e",
}  # fmt: skip
# One colour per zone, the same on every page: zones are given colours in name order (see zone_colours).
ZONE_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
)  # fmt: skip
HEAT = "YlOrRd"
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
SHORT_FOOTAGE_MINUTES = 30  # up to this many minutes of occupancy: bars, not a line


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=260, margin=_MARGIN)
    return fig


def zone_colours(names: Sequence[str]) -> dict[str, str]:
    """A distinct colour for each zone name, assigned in sorted name order (stable across pages)."""
    return {name: ZONE_PALETTE[i % len(ZONE_PALETTE)] for i, name in enumerate(sorted(set(names)))}


def zone_colour(kinds: Sequence[str]) -> str:
    """The colour of a zone's most specific kind."""
    for kind in ("checkout", "high_value", "restricted", "staff_only", "entrance", "exit", "section"):
        if kind in kinds:
            return ZONE_COLOURS[kind]
    return "#333333"


def zone_outlines(zones: pd.DataFrame, colours: dict[str, str] | None = None) -> list[go.Scatter]:
    """Closed outline traces (with the zone name at the centroid) from ``zones`` rows (``zone, kinds, wkt``),
    in ``colours`` (zone name -> colour; default :func:`zone_colours` of these zones)."""
    traces = []
    colours = colours or zone_colours(list(zones["zone"]))
    for row in zones.itertuples():
        shape = shapely_wkt.loads(row.wkt)
        polys = getattr(shape, "geoms", [shape])
        colour = colours.get(row.zone, zone_colour(list(row.kinds)))
        for poly in polys:
            xs, ys = poly.exterior.xy
            traces.append(
                go.Scatter(
                    x=list(xs),
                    y=list(ys),
                    mode="lines",
                    line={"color": colour, "width": 2},
                    name=row.zone,
                    hoverinfo="name",
                    showlegend=False,
                )
            )
        c = shape.representative_point()
        traces.append(
            go.Scatter(
                x=[c.x],
                y=[c.y],
                mode="text",
                text=[row.zone],
                textfont={"color": colour, "size": 12},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def polygon_outlines(
    polygons: dict[str, Sequence[Sequence[float]]], colours: dict[str, str] | None = None
) -> list[go.Scatter]:
    """Outline traces, each labelled with its name, for ``{name: [(x, y), ...]}`` (config polygons,
    before any analysis), in ``colours`` (default :func:`zone_colours` of these names)."""
    traces = []
    colours = colours or zone_colours(list(polygons))
    for name, pts in polygons.items():
        pts = list(pts)
        if not pts:
            continue
        colour = colours.get(name, "#333333")
        xs = [p[0] for p in pts] + [pts[0][0]]
        ys = [p[1] for p in pts] + [pts[0][1]]
        traces.append(
            go.Scatter(
                x=xs, y=ys, mode="lines", name=name, line={"color": colour, "width": 2}, fill="toself",
                fillcolor=_with_alpha(colour, 0.12), hoverinfo="name", showlegend=False,
            )
        )  # fmt: skip
        traces.append(
            go.Scatter(
                x=[float(np.mean(xs[:-1]))], y=[float(np.mean(ys[:-1]))], mode="text", text=[name],
                textfont={"color": colour, "size": 13}, hoverinfo="skip", showlegend=False,
            )
        )  # fmt: skip
    return traces


def _with_alpha(colour: str, alpha: float) -> str:
    """``#rrggbb`` as an ``rgba(...)`` string with ``alpha``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _floor_axes(fig: go.Figure, width: float | None, height: float | None) -> go.Figure:
    fig.update_xaxes(
        title="metres across", range=None if width is None else [-0.5, width + 0.5], constrain="domain"
    )
    fig.update_yaxes(
        title="metres deep",
        range=None if height is None else [height + 0.5, -0.5],
        scaleanchor="x",
        scaleratio=1,
    )
    if width is not None and height is not None:
        fig.add_shape(type="rect", x0=0, y0=0, x1=width, y1=height, line={"color": "#444", "width": 1})
    return fig


def floor_heatmap(
    cells: pd.DataFrame,
    zones: pd.DataFrame,
    width: float | None,
    height: float | None,
    title: str,
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """Shopper-seconds per floor cell (``x_m, y_m, cell_m, shopper_seconds``) with zone outlines."""
    fig = go.Figure()
    if len(cells):
        grid = cells.pivot_table(index="y_m", columns="x_m", values="shopper_seconds", aggfunc="sum")
        fig.add_trace(
            go.Heatmap(
                x=grid.columns.to_numpy(),
                y=grid.index.to_numpy(),
                z=grid.to_numpy() / 60.0,
                colorscale=HEAT,
                colorbar={"title": "minutes"},
                hovertemplate="%{x:.1f} m across, %{y:.1f} m deep: shoppers spent %{z:.1f} min here"
                "<extra>shopper-minutes</extra>",
                xgap=0,
                ygap=0,
            )
        )
    for trace in zone_outlines(zones, colours):
        fig.add_trace(trace)
    fig.update_layout(title=title, height=520, margin=_MARGIN, plot_bgcolor="white")
    return _floor_axes(fig, width, height)


def image_uri(image_bgr: npt.NDArray[np.uint8], max_side: int = 960) -> str:
    """A PNG data URI of a BGR image (shrunk to ``max_side``) for a plotly layout image."""
    h, w = image_bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        image_bgr = cv2.resize(image_bgr, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode(".png", image_bgr)
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")


def _image_axes(
    fig: go.Figure, width: int, height: int, background: npt.NDArray[np.uint8] | None
) -> go.Figure:
    if background is not None:
        fig.add_layout_image(
            source=image_uri(background),
            xref="x",
            yref="y",
            x=0,
            y=0,
            sizex=width,
            sizey=height,
            sizing="stretch",
            layer="below",
        )
    # A camera picture: pixel axes mean nothing to a store manager (positions show on hover).
    fig.update_xaxes(range=[0, width], showgrid=False, showticklabels=False, constrain="domain")
    fig.update_yaxes(range=[height, 0], showgrid=False, showticklabels=False, scaleanchor="x", scaleratio=1)
    return fig


def camera_heatmap(
    cells: pd.DataFrame, width: int, height: int, background: npt.NDArray[np.uint8] | None, title: str
) -> go.Figure:
    """Shopper-seconds per image cell (``u_px, v_px, cell_px, shopper_seconds``) over a (blurred) frame."""
    fig = go.Figure()
    if len(cells):
        grid = cells.pivot_table(index="v_px", columns="u_px", values="shopper_seconds", aggfunc="sum")
        fig.add_trace(
            go.Heatmap(
                x=grid.columns.to_numpy(),
                y=grid.index.to_numpy(),
                z=grid.to_numpy() / 60.0,
                colorscale=HEAT,
                opacity=0.55,
                colorbar={"title": "minutes"},
                hoverongaps=False,
                hovertemplate="shoppers spent %{z:.1f} min here<extra>pixel %{x:.0f}, %{y:.0f}</extra>",
            )
        )
    fig.update_layout(title=title, height=520, margin=_MARGIN)
    return _image_axes(fig, width, height, background)


def time_axis(fig: go.Figure, times: pd.Series, step: pd.Timedelta) -> go.Figure:
    """Readable clock ticks for data every ``step`` (an hour, a minute), however short the footage.

    Plotly auto-ranges a single bar or point to a few milliseconds (ticks like ``08:59:59.9995``); here
    the range covers whole steps and ticks are whole steps, labelled ``HH:MM`` (with the day when the
    data spans several days).
    """
    lo, hi = pd.Timestamp(times.min()), pd.Timestamp(times.max())
    fmt = "%H:%M" if lo.normalize() == hi.normalize() else "%d %b %H:%M"
    fig.update_xaxes(type="date", tickformat=fmt, hoverformat=fmt, range=[lo - step / 2, hi + step / 2])
    if hi - lo <= 12 * step:  # few steps: one tick per step, never between them
        fig.update_xaxes(dtick=step.total_seconds() * 1000, tick0=lo)
    return fig


def hourly_traffic(hourly: pd.DataFrame, previous: pd.DataFrame | None = None) -> go.Figure:
    """Visitors and arrivals per hour (``store_hourly``), with the previous period's visitors as a line
    shifted onto this period's hours."""
    if hourly.empty:
        return _empty("Hourly traffic", "No analysed traffic in this period")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=hourly["hour"], y=hourly["visitors"], name="Visitors present", marker_color="#1f77b4")
    )
    fig.add_trace(go.Bar(x=hourly["hour"], y=hourly["arrivals"], name="Arrivals", marker_color="#aec7e8"))
    if previous is not None and len(previous):
        fig.add_trace(
            go.Scatter(
                x=previous["aligned_hour"],
                y=previous["visitors"],
                name="Visitors, previous period",
                mode="lines+markers",
                line={"dash": "dot", "color": "#555"},
            )
        )
    fig.update_layout(
        title="Hourly traffic",
        barmode="group",
        height=340,
        margin=_MARGIN,
        yaxis_title="shoppers",
        legend={"orientation": "h", "y": -0.2},
    )
    return time_axis(fig, hourly["hour"], pd.Timedelta(hours=1))


def occupancy_chart(minutes: pd.DataFrame) -> go.Figure:
    """Shoppers (and staff) in the store per minute (``occupancy_minute``)."""
    if minutes.empty:
        return _empty("Occupancy", "No analysed occupancy in this period")
    fig = go.Figure()
    if len(minutes) > SHORT_FOOTAGE_MINUTES:
        fig.add_trace(
            go.Scatter(
                x=minutes["minute"], y=minutes["shoppers"], name="Shoppers", mode="lines", fill="tozeroy"
            )
        )
        fig.add_trace(
            go.Scatter(
                x=minutes["minute"], y=minutes["staff"], name="Staff", mode="lines", line={"color": "#7f7f7f"}
            )
        )
    else:  # a few minutes of footage: one bar per minute (a line of one point is a lone dot)
        fig.add_trace(go.Bar(x=minutes["minute"], y=minutes["shoppers"], name="Shoppers"))
        fig.add_trace(go.Bar(x=minutes["minute"], y=minutes["staff"], name="Staff", marker_color="#7f7f7f"))
    fig.update_layout(
        title="People in the store, per minute",
        height=300,
        margin=_MARGIN,
        yaxis_title="people",
        barmode="group",
        legend={"orientation": "h", "y": -0.25},
    )
    return time_axis(fig, minutes["minute"], pd.Timedelta(minutes=1))


def dwell_bars(sections: pd.DataFrame, colours: dict[str, str] | None = None) -> go.Figure:
    """Mean (solid) and median (hatched) dwell per section (``sections`` rows), each in its zone colour."""
    if sections.empty:
        return _empty("Dwell per section", "No section visits in this period")
    bar_colours = [
        (colours or zone_colours(list(sections["zone"]))).get(z, "#999999") for z in sections["zone"]
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=sections["zone"], y=sections["dwell_mean_s"], name="Average stay (s)", marker_color=bar_colours
        )
    )
    if sections["dwell_median_s"].notna().any():
        fig.add_trace(
            go.Bar(
                x=sections["zone"],
                y=sections["dwell_median_s"],
                name="Typical stay, median (s)",
                marker={"color": bar_colours, "pattern": {"shape": "/"}},
            )
        )
    fig.update_layout(
        title="Dwell per section", barmode="group", height=340, margin=_MARGIN, yaxis_title="seconds"
    )
    return fig


def dwell_distribution(samples: pd.DataFrame, colours: dict[str, str] | None = None) -> go.Figure:
    """Box plot of each visit's dwell per zone (``zone, dwell_s``)."""
    if samples.empty:
        return _empty("Dwell distribution", "No visits in this period")
    colours = colours or zone_colours(list(samples["zone"].unique()))
    fig = go.Figure()
    for zone, group in samples.groupby("zone", sort=True):
        fig.add_trace(
            go.Box(
                y=group["dwell_s"], name=str(zone), boxpoints=False, marker_color=colours.get(zone, "#999999")
            )
        )
    fig.update_layout(
        title="Dwell distribution per section",
        height=340,
        margin=_MARGIN,
        yaxis_title="seconds",
        showlegend=False,
    )
    return fig


def visitors_bars(sections: pd.DataFrame, colours: dict[str, str] | None = None) -> go.Figure:
    """Visitors per section with the entry rate (share of store visitors) on a second axis."""
    if sections.empty:
        return _empty("Visitors per section", "No section visits in this period")
    bar_colours = [
        (colours or zone_colours(list(sections["zone"]))).get(z, "#999999") for z in sections["zone"]
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=sections["zone"], y=sections["visitors"], name="Visitors", marker_color=bar_colours)
    )
    fig.add_trace(
        go.Scatter(
            x=sections["zone"],
            y=sections["entry_rate"] * 100,
            name="Entry rate (%)",
            yaxis="y2",
            mode="markers+lines",
            marker={"size": 10},
        )
    )
    fig.update_layout(
        title="Visitors and entry rate",
        height=340,
        margin=_MARGIN,
        yaxis_title="visitors",
        yaxis2={"title": "% of store visitors", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def hour_by_section(hourly: pd.DataFrame, value: str = "visitors") -> go.Figure:
    """Matrix of ``value`` per hour (columns) and section (rows) from ``section_hourly`` rows."""
    if hourly.empty:
        return _empty("Hour by section", "No section visits in this period")
    grid = hourly.pivot_table(index="zone", columns="hour", values=value, aggfunc="sum").sort_index()
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[pd.Timestamp(h).strftime("%m-%d %H:00") for h in grid.columns],
            y=list(grid.index),
            colorscale="Blues",
            colorbar={"title": value},
            hovertemplate="%{y} at %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{value.capitalize()} by hour and section", height=120 + 28 * len(grid), margin=_MARGIN
    )
    return fig


def sankey(edges: pd.DataFrame, colours: dict[str, str] | None = None) -> go.Figure:
    """Zone-to-zone flows by step (``sankey_edges``-shaped rows: ``source, target, source_zone, target_zone,
    value``; ``source`` is ``"<step>. <zone>"``): one column per step, each zone in its own colour."""
    if edges.empty:
        return _empty("Shopper flow", "No zone transitions in this period")
    nodes = pd.concat([
        edges[["source", "source_zone", "value"]].set_axis(["label", "zone", "value"], axis=1),
        edges[["target", "target_zone", "value"]].set_axis(["label", "zone", "value"], axis=1),
    ]).groupby(["label", "zone"], as_index=False)["value"].max()  # fmt: skip
    nodes["step"] = nodes["label"].str.split(".", n=1).str[0].astype(int)
    nodes = nodes.sort_values(["step", "value", "zone"], ascending=[True, False, True], ignore_index=True)
    last = max(int(nodes["step"].max()), 2)
    # Fixed columns (x by step) and rows (y by rank within the step): labels never pile on each other.
    nodes["x"] = ((nodes["step"] - 1) / (last - 1)).clip(0.001, 0.999)
    rank = nodes.groupby("step").cumcount()
    nodes["y"] = ((rank + 0.5) / nodes.groupby("step")["zone"].transform("count")).clip(0.001, 0.999)
    colours = colours or zone_colours(list(nodes["zone"]))
    index = {label: i for i, label in enumerate(nodes["label"])}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": nodes["zone"].tolist(),
                "customdata": nodes["step"].tolist(),
                "hovertemplate": "step %{customdata}: %{label}, %{value} shoppers<extra></extra>",
                "color": [colours.get(z, "#999999") for z in nodes["zone"]],
                "x": nodes["x"].tolist(),
                "y": nodes["y"].tolist(),
                "pad": 18,
                "thickness": 14,
            },
            link={
                "source": [index[s] for s in edges["source"]],
                "target": [index[t] for t in edges["target"]],
                "value": edges["value"].tolist(),
                "color": [_with_alpha(colours.get(z, "#999999"), 0.3) for z in edges["source_zone"]],
            },
        )
    )
    fig.update_layout(
        title="Shopper flow through zones (one column per step, left to right)",
        height=max(420, 60 * int(nodes.groupby("step").size().max())),
        margin=_MARGIN,
    )
    return fig


def transition_matrix(transitions: pd.DataFrame) -> go.Figure:
    """Share of transitions from each zone (rows) to each zone (columns)."""
    if transitions.empty:
        return _empty("Transition matrix", "No zone transitions in this period")
    grid = transitions.pivot_table(
        index="from_zone", columns="to_zone", values="share", aggfunc="sum"
    ).fillna(0)
    names = sorted(set(grid.index) | set(grid.columns))
    grid = grid.reindex(index=names, columns=names, fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy() * 100,
            x=names,
            y=names,
            colorscale="Purples",
            colorbar={"title": "%"},
            hovertemplate="%{y} → %{x}: %{z:.1f}% of moves from %{y}<extra></extra>",
            text=np.round(grid.to_numpy() * 100).astype(int),
            texttemplate="%{text}",
        )
    )
    fig.update_layout(
        title="Transition matrix (% of moves leaving each zone)",
        height=140 + 32 * len(names),
        margin=_MARGIN,
        xaxis_title="to",
        yaxis_title="from",
    )
    return fig


def queue_lengths(minutes: pd.DataFrame) -> go.Figure:
    """Time-averaged queue length per minute per checkout (``queue_minute``)."""
    if minutes.empty:
        return _empty("Queue length", "No queue data in this period (are checkout zones configured?)")
    fig = go.Figure()
    for checkout, group in minutes.groupby("checkout", sort=True):
        fig.add_trace(go.Scatter(x=group["minute"], y=group["mean_length"], name=str(checkout), mode="lines"))
    fig.update_layout(
        title="Queue length (mean shoppers waiting, per minute)",
        height=320,
        margin=_MARGIN,
        yaxis_title="shoppers",
    )
    return time_axis(fig, minutes["minute"], pd.Timedelta(minutes=1))


def queue_waits(hourly: pd.DataFrame) -> go.Figure:
    """Typical (median) and long (p90) wait per hour per checkout (``queue_hourly``)."""
    if hourly.empty:
        return _empty("Wait time", "No queue waits in this period")
    fig = go.Figure()
    for checkout, group in hourly.groupby("checkout", sort=True):
        fig.add_trace(go.Bar(x=group["hour"], y=group["wait_p50_s"] / 60, name=f"{checkout}: typical wait"))
        fig.add_trace(
            go.Scatter(
                x=group["hour"],
                y=group["wait_p90_s"] / 60,
                name=f"{checkout}: 9 in 10 wait less",
                mode="lines+markers",
            )
        )
    fig.update_layout(
        title="Wait time per hour",
        height=320,
        margin=_MARGIN,
        yaxis_title="minutes",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def shopper_path(
    path: pd.DataFrame,
    zones: pd.DataFrame,
    width: float | None,
    height: float | None,
    title: str,
    highlight: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """A shopper's floor path (``ts, x, y``) over the zones, coloured by time; the flagged stretch bold."""
    fig = go.Figure()
    for trace in zone_outlines(zones, colours):
        fig.add_trace(trace)
    if len(path):
        minutes = (path["ts"] - path["ts"].iloc[0]).dt.total_seconds() / 60
        fig.add_trace(
            go.Scatter(
                x=path["x"],
                y=path["y"],
                mode="lines",
                line={"color": "#bbb", "width": 1},
                name="path",
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=path["x"],
                y=path["y"],
                mode="markers",
                name="position",
                marker={"size": 4, "color": minutes, "colorscale": "Viridis", "colorbar": {"title": "min"}},
                text=path["ts"].dt.strftime("%H:%M:%S"),
                hovertemplate="%{text}: (%{x:.1f}, %{y:.1f}) m<extra></extra>",
            )
        )
        if highlight is not None:
            part = path[(path["ts"] >= highlight[0]) & (path["ts"] <= highlight[1])]
            fig.add_trace(
                go.Scatter(
                    x=part["x"],
                    y=part["y"],
                    mode="lines",
                    line={"color": "#d62728", "width": 3},
                    name="flagged stretch",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=path["x"].iloc[[0, -1]],
                y=path["y"].iloc[[0, -1]],
                mode="markers+text",
                text=["start", "end"],
                textposition="top center",
                marker={"size": 10, "color": "black"},
                showlegend=False,
            )
        )
    fig.update_layout(
        title=title, height=460, margin=_MARGIN, plot_bgcolor="white", legend={"orientation": "h"}
    )
    return _floor_axes(fig, width, height)


def visit_timeline(
    visits: pd.DataFrame,
    highlight: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """A shopper's zone visits as bars on a time axis (``zone, start_ts, end_ts``)."""
    if visits.empty:
        return _empty("Timeline", "No zone visits recorded for this shopper")
    fig = go.Figure()
    for row in visits.itertuples():
        fig.add_trace(
            go.Scatter(
                x=[row.start_ts, row.end_ts],
                y=[row.zone, row.zone],
                mode="lines",
                line={"width": 14, "color": (colours or {}).get(row.zone, "#1f77b4")},
                showlegend=False,
                hovertemplate=f"{row.zone}: {row.dwell_s:.0f} s<extra></extra>",
            )
        )
    if highlight is not None:
        fig.add_vrect(
            x0=highlight[0],
            x1=highlight[1],
            fillcolor="#d62728",
            opacity=0.15,
            line_width=0,
            annotation_text="flagged",
            annotation_position="top left",
        )
    fig.update_layout(
        title="Evidence timeline (zone visits)", height=120 + 30 * visits["zone"].nunique(), margin=_MARGIN
    )
    return fig


def click_canvas(
    width: float,
    height: float,
    step: float,
    title: str,
    background: npt.NDArray[np.uint8] | None = None,
    polygons: dict[str, Sequence[Sequence[float]]] | None = None,
    picked: Sequence[Sequence[float]] = (),
    image_space: bool = False,
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """A figure to click points on: an invisible grid every ``step`` units (plotly selects only data
    points), optional background image, existing polygons and the points picked so far (numbered)."""
    xs, ys = np.meshgrid(np.arange(0, width + 1e-9, step), np.arange(0, height + 1e-9, step))
    fig = go.Figure(
        go.Scatter(
            x=xs.ravel(),
            y=ys.ravel(),
            mode="markers",
            marker={"size": 6, "opacity": 0.01, "color": "black"},
            hovertemplate="(%{x:.2f}, %{y:.2f})<extra>click to pick</extra>",
            showlegend=False,
            name="grid",
        )
    )
    for trace in polygon_outlines(polygons or {}, colours):
        fig.add_trace(trace)
    if len(picked):
        pts = np.asarray(picked, float)
        closed = np.vstack([pts, pts[:1]]) if len(pts) >= 3 else pts
        fig.add_trace(
            go.Scatter(
                x=closed[:, 0],
                y=closed[:, 1],
                mode="lines",
                line={"color": "#d62728", "dash": "dot"},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=pts[:, 0],
                y=pts[:, 1],
                mode="markers+text",
                text=[str(i + 1) for i in range(len(pts))],
                textposition="top right",
                marker={"size": 11, "color": "#d62728"},
                name="picked",
            )
        )
    fig.update_layout(
        title=title,
        height=460,
        margin=_MARGIN,
        clickmode="event+select",
        dragmode="select",
        plot_bgcolor="white",
    )
    if image_space:
        return _image_axes(fig, int(width), int(height), background)
    return _floor_axes(fig, width, height)
