"""Run the scripts, sample them like the pipeline would, and write the demo database."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.config import parse_config
from pipeline.db import connect, simulated, transaction
from pipeline.db import shoppers as shoppers_db
from pipeline.db.store_config import save_store_config
from pipeline.simulate.layout import (
    CAMERA_VIEWS,
    DAY_START,
    FPS,
    IMAGE_H,
    IMAGE_W,
    OPEN_HOURS,
    ZONE,
    floor_to_image,
    image_to_floor,
    store_config_dict,
)  # fmt: skip
from pipeline.simulate.scripts import SUSPICIOUS, Script, arrival_times, make_script
from pipeline.simulate.truth import DemoTruth, compute_truth
from pipeline.store.geometry import apply_homography
from pipeline.store.rules import settings_from_config

SAMPLE_S = 1.0  # trajectory sampling interval
NOISE_M = 0.03  # floor position noise (std dev)

# COCO keypoint template, (dx, dy) in box heights from the box's top centre; person facing the camera.
_BASE = np.array([
    (0, .06), (.02, .045), (-.02, .045), (.04, .055), (-.04, .055), (.11, .19), (-.11, .19), (.14, .36),
    (-.14, .36), (.17, .53), (-.17, .53), (.07, .52), (-.07, .52), (.07, .74), (-.07, .74), (.07, .96), (-.07, .96),
])  # fmt: skip
_POSES = [
    _BASE.copy() for _ in range(4)
]  # 0 arms at sides, 1 reaching up, 2 basket at waist, 3 both at waist
_POSES[1][[7, 9]] = [(0.16, 0.22), (0.15, 0.12)]
_POSES[2][[8, 10]] = [(-0.12, 0.40), (-0.05, 0.50)]
_POSES[3][[7, 8, 9, 10]] = [(0.12, 0.40), (-0.12, 0.40), (0.04, 0.53), (-0.04, 0.53)]


def _roles(n: int, rng: np.random.Generator) -> list[tuple[str, str | None]]:
    n_staff = max(2, round(n * 0.03))
    n_each = max(1, n // 80)
    roles: list[tuple[str, str | None]] = [("staff_manual", None)] * (n_staff // 2)
    roles += [("staff_rule", None)] * (n_staff - n_staff // 2)
    for rule in SUSPICIOUS:
        roles += [("suspicious", rule)] * n_each + [("near_miss", rule)] * n_each
    if len(roles) > n:
        raise ValueError(f"at least {len(roles)} shoppers are needed for the scripted cases, but got {n}")
    roles += [("normal", None)] * (n - len(roles))
    order = rng.permutation(len(roles))
    return [roles[i] for i in order]


def _sample(scripts: list[Script], rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for s in scripts:
        k = np.asarray(s.knots, np.float64)
        t = np.arange(np.ceil(k[0, 0] / SAMPLE_S), np.floor(k[-1, 0] / SAMPLE_S) + 1) * SAMPLE_S
        x = np.interp(t, k[:, 0], k[:, 1]) + rng.normal(0, NOISE_M, len(t))
        y = np.interp(t, k[:, 0], k[:, 2]) + rng.normal(0, NOISE_M, len(t))
        pose = np.zeros(len(t), bool)
        for a, b in s.pose_windows:
            pose |= (t >= a) & (t <= b)
        parts.append(pd.DataFrame({"shopper_id": s.shopper_id, "t": t, "x": x, "y": y, "pose": pose}))
    return pd.concat(parts, ignore_index=True)


def _keypoints(box: np.ndarray, pose: np.ndarray, rng: np.random.Generator) -> list:
    h = (box[:, 3] - box[:, 1])[:, None]
    cx = ((box[:, 0] + box[:, 2]) / 2)[:, None]
    tmpl = np.stack([_POSES[p] for p in pose])  # (M, 17, 2)
    tmpl = tmpl + rng.normal(0, 0.01, tmpl.shape)
    kx = cx + tmpl[:, :, 0] * h
    ky = box[:, 1:2] + tmpl[:, :, 1] * h
    vis = rng.uniform(0.85, 0.99, kx.shape)
    return list(np.stack([kx, ky, vis], axis=2).reshape(len(box), 51).astype(np.float32))


def _track_points(samples: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Project samples into every camera that sees them. Returns track points and each sample's camera."""
    x, y = samples["x"].to_numpy(), samples["y"].to_numpy()
    shopper, t = samples["shopper_id"].to_numpy(), samples["t"].to_numpy()
    main_cam = np.full(len(x), "", object)
    e = ZONE["Electronics"]
    near_hv = (x > e.x0 - 0.5) & (x < e.x1 + 0.5) & (y > e.y0 - 0.5) & (y < e.y1 + 0.5)
    # one pose style per shopper (arms at sides / reaching / basket), the scripted cue where scripted
    style = np.asarray(rng.choice(3, size=int(shopper.max()) + 1, p=[0.6, 0.2, 0.2]))[shopper]
    style = np.where(samples["pose"].to_numpy(), 3, style)
    need_kp = near_hv | samples["pose"].to_numpy()
    frames = []
    for cam, (x0, y0, x1, y1) in CAMERA_VIEWS.items():
        seen = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        main_cam = np.where((main_cam == "") & seen, cam, main_cam)
        idx = np.flatnonzero(seen)
        if len(idx) == 0:
            continue
        new_track = np.r_[True, (shopper[idx][1:] != shopper[idx][:-1]) | (np.diff(t[idx]) > SAMPLE_S + 1e-6)]
        uv = apply_homography(floor_to_image(cam), np.stack([x[idx], y[idx]], axis=1))
        h = 90 + 260 * np.clip(uv[:, 1] / IMAGE_H, 0, 1)
        box = np.stack([uv[:, 0] - 0.19 * h, uv[:, 1] - h, uv[:, 0] + 0.19 * h, uv[:, 1]], axis=1)
        kp = np.full(len(idx), None, object)
        sel = np.flatnonzero(need_kp[idx])
        if len(sel):
            kp[sel] = _keypoints(box[sel], style[idx][sel], rng)
        frame = np.round(t[idx] * FPS).astype(np.int64)
        frames.append(pd.DataFrame({
            "camera": cam, "frame": frame, "t_sec": frame / FPS, "ts": DAY_START + pd.to_timedelta(frame / FPS, unit="s"),
            "track_id": np.cumsum(new_track).astype(np.int32), "shopper_id": shopper[idx],
            "x1": box[:, 0], "y1": box[:, 1], "x2": box[:, 2], "y2": box[:, 3],
            "score": rng.uniform(0.55, 0.95, len(idx)), "foot_u": uv[:, 0], "foot_v": uv[:, 1],
            "floor_x": x[idx], "floor_y": y[idx], "keypoints": kp,
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True), main_cam


def _write_sales(scripts: list[Script], path: Path, rng: np.random.Generator) -> None:
    times = sorted(t for s in scripts if not s.is_staff for t in s.till_visits)
    hours = np.bincount(np.asarray(np.floor(np.asarray(times) / 3600), int), minlength=OPEN_HOURS)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "transactions", "amount"])
        for hour, n in enumerate(hours[:OPEN_HOURS]):
            amount = float(np.round(rng.gamma(2.0, 14.0, int(n)).sum(), 2))
            w.writerow([(DAY_START + timedelta(hours=hour)).isoformat(), int(n), f"{amount:.2f}"])


def build_demo(db_path: str | Path, shoppers: int = 400, seed: int = 7, analyse: bool = True) -> DemoTruth:
    """Write a simulated store day to ``db_path`` (replacing it) and return its ground truth.

    Args:
        db_path: DuckDB file to (re)create.
        shoppers: people simulated, staff and scripted cases included (at least ~14).
        seed: random seed; the same seed gives the same day.
        analyse: also run ``zones.analyse`` so the dashboard has everything.

    Raises:
        ValueError: too few shoppers for the scripted cases.
    """
    db_path = Path(db_path)
    rng = np.random.default_rng(seed)
    roles = _roles(shoppers, rng)
    arrivals = arrival_times(len(roles), rng)
    scripts = []
    for i, ((kind, rule), t0) in enumerate(zip(roles, arrivals), start=1):
        if kind.startswith("staff"):
            t0 = float(rng.uniform(0, 3 * 3600))
        scripts.append(make_script(i, kind, rule, float(t0), rng))
    samples = _sample(scripts, rng)
    track_points, main_cam = _track_points(samples, rng)

    for suffix in ("", ".wal"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    cfg_dict = store_config_dict()
    yaml_text = yaml.safe_dump(cfg_dict, sort_keys=False)
    yaml_path = db_path.with_name(f"{db_path.stem}_store.yaml")
    sales_path = db_path.with_name(f"{db_path.stem}_sales.csv")
    config = parse_config(cfg_dict, db_path.parent, source=yaml_path, check_files=False)
    analytics, _ = settings_from_config(config)

    ts = DAY_START + pd.to_timedelta(samples["t"], unit="s")
    frame = np.round(samples["t"].to_numpy() * FPS).astype(np.int64)
    trajectory = pd.DataFrame({"shopper_id": samples["shopper_id"], "camera": main_cam, "frame": frame, "ts": ts,
                               "x": samples["x"], "y": samples["y"]})  # fmt: skip
    span = trajectory.groupby("shopper_id")["ts"].agg(["min", "max"])
    staff_kind = {s.shopper_id: s.kind for s in scripts}
    shopper_rows = pd.DataFrame({
        "shopper_id": span.index.astype(np.int32), "first_ts": span["min"].to_numpy(), "last_ts": span["max"].to_numpy(),
        "is_staff": [staff_kind[i] == "staff_manual" for i in span.index],
        "staff_source": ["manual" if staff_kind[i] == "staff_manual" else None for i in span.index],
    })  # fmt: skip
    cameras = pd.DataFrame({
        "name": list(CAMERA_VIEWS), "homography": [image_to_floor(c).ravel().tolist() for c in CAMERA_VIEWS],
        "width": IMAGE_W, "height": IMAGE_H, "path": [f"simulated://{c}" for c in CAMERA_VIEWS], "fps": FPS,
        "n_frames": int(OPEN_HOURS * 3600 * FPS), "start_time": DAY_START,
    })  # fmt: skip

    db_path.parent.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(yaml_text, encoding="utf-8")
    _write_sales(scripts, sales_path, rng)
    conn = connect(db_path)
    try:
        with transaction(conn):
            # Shopper ids come from the database's sequence, so footage processed into the demo store later
            # gets fresh ids (1..N on a new file: the scripts' own numbering, kept in the ground truth).
            ids = dict(zip(span.index, shoppers_db.next_shopper_ids(conn, len(span))))
            if any(k != v for k, v in ids.items()):
                raise RuntimeError(f"{db_path}: shopper id sequence not fresh; write the demo to a new file")
            save_store_config(conn, yaml_text)
            simulated.write_simulated_store(conn, config.name, json.dumps({"simulated": True, "seed": seed,
                                      "shoppers": shoppers}), cameras, shopper_rows, trajectory, track_points)  # fmt: skip
        from zones.sales import import_sales

        import_sales(conn, sales_path)
        if analyse:
            import zones

            zones.analyse(conn, config)
    finally:
        conn.close()
    truth = compute_truth(scripts, analytics, SAMPLE_S)
    files = {"db": str(db_path), "config": str(yaml_path), "sales": str(sales_path)}
    return replace(truth, n_points=len(trajectory), files=files)
