"""Experimental pose cue: both wrists held at the waist, in front of the body, inside a high-value zone.

COCO keypoints (17 x (x, y, visibility), image pixels). A frame shows the cue when both wrists and both hips
are visible (``min_visibility``) and each wrist lies within ``max_dy`` x box height of the hip line and within
``max_dx`` x box height of the body's centre line. A *lead* is a run of such frames in one track, in one
high-value zone, lasting at least ``min_s``. This is a cue for review, not evidence of anything: people
also hold phones, bags and children this way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from zones.geometry import ZoneIndex
from zones.trajectory import US

L_WRIST, R_WRIST, L_HIP, R_HIP = 9, 10, 11, 12


def wrists_at_waist(
    keypoints: npt.NDArray[np.float32],
    box_h: npt.NDArray[np.float64],
    max_dy: float,
    max_dx: float,
    min_visibility: float,
) -> npt.NDArray[np.bool_]:
    """(N,) True where the pose shows both wrists at the waist.

    Args:
        keypoints: (N, 17, 3) COCO keypoints (x, y, visibility) in pixels.
        box_h: (N,) person box heights in pixels (the scale).
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (17, 3):
        raise ValueError(f"keypoints must have shape (N, 17, 3), but got shape {kp.shape}")
    joints = [L_WRIST, R_WRIST, L_HIP, R_HIP]
    visible = (kp[:, joints, 2] >= min_visibility).all(axis=1)
    hip_y = kp[:, [L_HIP, R_HIP], 1].mean(axis=1)
    hip_x = kp[:, [L_HIP, R_HIP], 0].mean(axis=1)
    h = np.maximum(np.asarray(box_h, np.float64), 1.0)
    ok = visible
    for wrist in (L_WRIST, R_WRIST):
        ok = (
            ok
            & (np.abs(kp[:, wrist, 1] - hip_y) <= max_dy * h)
            & (np.abs(kp[:, wrist, 0] - hip_x) <= max_dx * h)
        )
    return ok


def pose_leads(
    rows: dict[str, np.ndarray], index: ZoneIndex, params: dict, max_step_s: float
) -> pd.DataFrame:
    """Runs of the cue inside high-value zones lasting at least ``params['min_s']``.

    Args:
        rows: ``pipeline.db.analytics.pose_points`` arrays, ordered by (video, track, frame).
        index: zone index (only its ``high_value`` zones are used).
        params: the ``pose_concealment`` rule (min_s, max_dy, max_dx, min_visibility).
        max_step_s: a longer step between a track's points breaks a run.

    Returns:
        Columns shopper_id, zone, score (duration / min_s), start_us, end_us, details.
    """
    out = pd.DataFrame({k: [] for k in ("shopper_id", "zone", "score", "start_us", "end_us", "details")})
    n = len(rows.get("shopper_id", ()))
    hv_bits = np.uint64(0)
    for bit, zone in enumerate(index.zones):
        if zone.has("high_value"):
            hv_bits |= np.uint64(1) << np.uint64(bit)
    if n == 0 or hv_bits == 0:
        return out  # Nothing to look at.
    kp = np.stack([np.asarray(k, np.float32) for k in rows["keypoints"]]).reshape(n, 17, 3)
    cue = wrists_at_waist(kp, rows["box_h"], params["max_dy"], params["max_dx"], params["min_visibility"])
    zmask = index.masks(rows["floor_x"], rows["floor_y"]) & hv_bits
    cue &= zmask != 0
    t = np.asarray(rows["t_sec"], np.float64)
    same_track = (rows["video_id"][1:] == rows["video_id"][:-1]) & (
        rows["track_id"][1:] == rows["track_id"][:-1]
    )
    steps = np.diff(t)
    pos = steps[same_track & (steps > 0)]
    dt = float(np.median(pos)) if len(pos) else 1.0
    brk = np.ones(n, bool)
    brk[1:] = ~same_track | (steps > max_step_s) | (zmask[1:] != zmask[:-1]) | (cue[1:] != cue[:-1])
    starts = np.flatnonzero(brk)
    ends = np.r_[starts[1:] - 1, n - 1]
    sel = cue[starts]
    starts, ends = starts[sel], ends[sel]
    duration = t[ends] - t[starts] + dt
    long = duration >= params["min_s"]
    starts, ends, duration = starts[long], ends[long], duration[long]
    if len(starts) == 0:
        return out
    names = []
    for m in zmask[starts]:
        names.append(index.zones[int(np.log2(float(m & (~m + np.uint64(1)))))].name)  # lowest set bit
    ts = np.asarray(rows["ts_us"], np.int64)
    return pd.DataFrame(
        {
            "shopper_id": np.asarray(rows["shopper_id"], np.int32)[starts],
            "zone": names,
            "score": duration / params["min_s"],
            "start_us": ts[starts],
            "end_us": ts[ends] + int(dt * US),
            "details": [
                f"wrists at waist for {d:.1f} s in {z} (experimental pose cue)"
                for d, z in zip(duration, names)
            ],
        }
    )
