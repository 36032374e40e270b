"""Flags: automatically generated leads for a person to review, highest score first.

The list is visible to every viewer; the evidence (path, camera thumbnails) and the review controls
need the reviewer password when one is configured.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import auth, charts, data, evidence, ui

# Short names a store manager uses; the technical rule name stays in tooltips and in the CSV exports.
RULE_NAMES = {
    "long_dwell": "Long stay at high-value goods",
    "repeated_returns": "Kept coming back to high-value goods",
    "checkout_bypass": "Left without passing a till",
    "restricted_entry": "Went into a staff-only area",
    "loitering": "Lingered at the door",
    "pose_concealment": "Hands held at the waist (experimental)",
}
RULES = {
    "long_dwell": "Stayed in a high-value zone much longer than most shoppers do",
    "repeated_returns": "Came back to the same high-value zone several times",
    "checkout_bypass": "Went from a high-value zone to an exit without a checkout visit",
    "restricted_entry": "Spent time in a restricted or staff-only zone",
    "loitering": "Stayed at an entrance or exit for a long time",
    "pose_concealment": "Pose resembling hands held at the waist for a while (experimental)",
}

ctx = ui.context()
st.title("Flags")
st.caption(
    "Automatically generated **leads for review**, not findings: each one only says that a movement pattern "
    "matched a rule. Most have innocent explanations; confirm or dismiss after looking at the evidence."
)
if not ui.require_analytics(ctx):
    st.stop()

left, right = st.columns(2)
states = left.multiselect("Review state", list(data.REVIEW_STATES), default=["new"], key="flag_states")
flags = data.flags(ctx.db, ctx.start, ctx.end, tuple(states))
rules = right.multiselect(
    "Rule", sorted(flags["rule"].unique()), key="flag_rules", format_func=lambda r: RULE_NAMES.get(r, r)
)
if rules:
    flags = flags[flags["rule"].isin(rules)]

if flags.empty:
    st.info(f"No flags in {ui.period_label(ctx)} with the chosen filters.")
    st.stop()

table = flags[["score", "rule", "zone", "shopper_id", "start_ts", "end_ts", "review_state", "details"]].copy()
table["rule"] = table["rule"].map(lambda r: RULE_NAMES.get(r, r))
st.dataframe(
    table,
    hide_index=True,
    key="flag_table",
    column_config={
        "score": st.column_config.ProgressColumn(
            "Score", format="%.2f", min_value=0.0, max_value=float(max(flags["score"].max(), 1.0))
        ),
        "rule": st.column_config.TextColumn(
            "Rule",
            help="What the movement matched. Technical names (in the CSV exports): "
            + ", ".join(f"{v} = {k}" for k, v in RULE_NAMES.items()),
        ),
        "zone": "Zone",
        "shopper_id": "Shopper",
        "start_ts": st.column_config.DatetimeColumn("From", format="HH:mm:ss"),
        "end_ts": st.column_config.DatetimeColumn("To", format="HH:mm:ss"),
        "review_state": "Review",
        "details": "Why",
    },
)

labels = {
    row.flag_key: f"{row.score:.2f} · {RULE_NAMES.get(row.rule, row.rule)} · shopper {row.shopper_id} · "
    f"{row.zone or '-'} · {row.start_ts:%H:%M:%S}"
    for row in flags.itertuples()
}
key = st.selectbox("Review a flag", list(labels), format_func=labels.get, key="flag_pick")
flag = flags.set_index("flag_key").loc[key]
st.subheader(RULE_NAMES.get(flag["rule"], flag["rule"]), help=f"Rule `{flag['rule']}`")
st.caption(RULES.get(flag["rule"], ""))
st.write(
    f"{flag['details']} — shopper {flag['shopper_id']}, {flag['start_ts']:%H:%M:%S}–{flag['end_ts']:%H:%M:%S}."
)
if flag["experimental"]:
    st.caption("Experimental rule: treat with extra care.")

if not auth.require_reviewer():
    st.stop()

highlight = (pd.Timestamp(flag["start_ts"]), pd.Timestamp(flag["end_ts"]))
plan = ctx.config.floor_plan if ctx.config else None
left, right = st.columns(2)
left.plotly_chart(
    charts.visit_timeline(data.shopper_visits(ctx.db, flag["shopper_id"]), highlight, ui.zone_colours(ctx)),
    key="flag_timeline",
)
right.plotly_chart(
    charts.shopper_path(
        data.shopper_path(ctx.db, flag["shopper_id"]),
        data.zones(ctx.db),
        plan.width if plan else None,
        plan.height if plan else None,
        f"Shopper {flag['shopper_id']}'s path",
        highlight,
        ui.zone_colours(ctx),
    ),
    key="flag_path",
)

st.markdown("**Camera views** (faces blurred)")
sightings = data.evidence_frames(ctx.db, flag["shopper_id"], flag["start_ts"], flag["end_ts"], n=6)
cameras = sorted({c["camera"] for c in json.loads(flag["evidence"]).get("cameras", [])})
shown = 0
if len(sightings):
    cols = st.columns(min(len(sightings), 6))
    for col, s in zip(cols, sightings.itertuples()):
        image = evidence.thumbnail(
            s.path,
            int(s.frame),
            (s.x1, s.y1, s.x2, s.y2),
            data.frame_people(ctx.db, int(s.video_id), int(s.frame)),
        )
        if image is not None:
            col.image(image, caption=f"{s.camera} {s.ts:%H:%M:%S}")
            shown += 1
if not shown:
    st.caption(
        "No camera images available for this flag (footage files not found"
        + (f"; cameras: {', '.join(cameras)}" if cameras else "")
        + ")."
    )

OUTCOMES = {"new": "Leave open", "confirmed": "Confirm lead", "dismissed": "Dismiss"}


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


if pd.notna(flag["reviewed_at"]):
    who = _text(flag["reviewer"]) or "an unnamed reviewer"
    st.info(
        f"**Reviewed** {pd.Timestamp(flag['reviewed_at']):%d %b %Y %H:%M} by {who}: "
        f"**{flag['review_state']}**"
        + (f" — “{_text(flag['review_note'])}”" if _text(flag["review_note"]) else "")
    )
# Every widget is keyed by the flag: after a save the next flag starts from its own stored review, never
# from the previous flag's choices.
with st.form(f"review::{key}"):
    st.markdown(f"**Review** (currently: {flag['review_state']})")
    outcomes = list(OUTCOMES)
    state = st.radio(
        "Outcome",
        outcomes,
        index=outcomes.index(flag["review_state"]) if flag["review_state"] in outcomes else 0,
        horizontal=True,
        key=f"review_state::{key}",
        format_func=OUTCOMES.get,
    )
    note = st.text_area("Note", value=_text(flag["review_note"]), key=f"review_note::{key}", max_chars=2000)
    reviewer = st.text_input(
        "Reviewer", value=_text(flag["reviewer"]), key=f"reviewer_name::{key}", max_chars=100
    )
    if st.form_submit_button("Save review", type="primary"):
        data.set_flag_review(ctx.db, key, state, note.strip(), reviewer.strip())
        st.session_state["flag_saved"] = f"Saved: flag marked {state}."
        st.rerun()
if msg := st.session_state.pop("flag_saved", None):
    st.success(msg)

with st.expander("This shopper is a member of staff"):
    st.caption(
        "Staff are kept in the data but left out of shopper metrics and flags. The mark is kept when "
        "footage is re-processed or re-identified."
    )
    if st.button(f"Mark shopper {flag['shopper_id']} as staff", key="mark_staff"):
        data.set_staff(ctx.db, int(flag["shopper_id"]), True, ctx.config)
        st.session_state["flag_saved"] = (
            f"Shopper {flag['shopper_id']} marked as staff; analytics recomputed."
        )
        st.rerun()
