"""Cross-camera re-identification on a virtual multi-camera store built from one real sequence.

Each MOT15 sequence is cut into side-by-side vertical strips with a blind gap between them (default
x in [0,200), [240,400), [440,640)); each strip becomes its own camera video (same start time) with a
homography mapping its pixels back into one common floor frame (full-frame pixels x ``--m-per-px``
metres). Ground truth is split the same way: a box goes to the camera holding at least half of its
width (clipped to the strip, shifted into strip pixels), keeping its GT id; boxes mostly in a gap are
dropped. The store is processed once per embedder (detections are cached on disk), then the
cross-camera assignment is recomputed on the same database for every re-ID setting:

- ``independent``: every tracklet its own shopper (no gallery);
- ``appearance``: online gallery, appearance only;
- ``full (online)``: gallery with space/time constraints, no refinement;
- ``full``: gallery with space/time constraints + offline constrained clustering.

Scores (all cameras jointly: camera k's frames are shifted by k x N so TrackEval sees distinct time
steps):

- multi-camera IDF1 / HOTA / IDSW of the exported ``export-mot`` rows (global shopper ids);
- hand-offs: consecutive appearances of one GT id in two different cameras. A hand-off is *joined*
  when the predicted id of the GT run before it equals the predicted id of the GT run after it (each
  run's predicted id = the id matched most often by IoU >= 0.5 over the run's boxes);
- wrong joins: predicted hand-offs (consecutive runs of one predicted id in two different cameras)
  whose two runs are matched (majority by IoU) to two different GT people; ``wrong %`` = wrong /
  predicted hand-offs whose both runs match some GT person (runs matching no GT box are not counted).

    python benchmarks/multicam.py [--sequences TUD-Campus TUD-Stadtmitte] \\
        [--embedders hist omz=../shared/models/person-reidentification-retail-0287 osnet=...onnx] \\
        [--stride 3]   # every 3rd frame: a low-rate recorder

Videos, databases and the detection cache go to ``--work`` (default: the system temp dir), never
into the repository; ``--rescore`` reuses the databases there (a change to cross-camera assignment
needs no tracking). The table is written to ``benchmarks/results/multicam.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import yaml
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, every_nth, mot_sequences, print_table  # noqa: E402

from pipeline.types import Detections  # noqa: E402

DEFAULT_M_PER_PX = 0.01  # ~1.7 m person / ~170 px box in the TUD sequences
START_TIME = "2026-11-20T09:00:00"


# ------------------------------------------------------------------------------------- building


def parse_crops(text: str) -> tuple[tuple[int, int], ...]:
    """``"0:200,240:400"`` -> ``((0, 200), (240, 400))``: non-empty strips, left to right, not overlapping."""
    try:
        crops = tuple((int(a), int(b)) for a, b in (part.split(":") for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"crops must look like 0:200,240:400,440:640, not {text!r}"
        ) from None
    for (a0, a1), (b0, _) in zip(crops, (*crops[1:], (10**9, 0))):
        if not 0 <= a0 < a1 <= b0:
            raise argparse.ArgumentTypeError(
                f"strips must be non-empty, left to right, not overlapping: {text!r}"
            )
    return crops


def crop_homography(x0: int, m_per_px: float) -> np.ndarray:
    """Strip pixels -> floor metres: shift by the strip's left edge, then scale (planar, affine)."""
    return np.array([[m_per_px, 0.0, m_per_px * x0], [0.0, m_per_px, 0.0], [0.0, 0.0, 1.0]])


def split_video(video: Path, crops: tuple[tuple[int, int], ...], out_dir: Path) -> list[Path]:
    """Write one MPEG-4 video per strip ``[x0, x1)`` of ``video`` (full height, same fps)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    paths = [out_dir / f"cam{k}.mp4" for k in range(len(crops))]
    writers = [
        cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), fps, (x1 - x0, height))
        for p, (x0, x1) in zip(paths, crops)
    ]
    try:
        while True:
            ok, image = cap.read()
            if not ok:
                break
            for writer, (x0, x1) in zip(writers, crops):
                writer.write(np.ascontiguousarray(image[:, x0:x1]))
    finally:
        cap.release()
        for writer in writers:
            writer.release()
    return paths


def split_gt(gt: pd.DataFrame, crops: tuple[tuple[int, int], ...]) -> list[pd.DataFrame]:
    """Ground truth per strip: boxes with >= half their width inside, clipped and in strip pixels."""
    gt = gt[gt["score"] != 0]
    out = []
    for x0, x1 in crops:
        inside = (np.minimum(gt["x"] + gt["w"], x1) - np.maximum(gt["x"], x0)).clip(lower=0)
        part = gt[inside >= 0.5 * gt["w"]].copy()
        left = np.maximum(part["x"], x0)
        right = np.minimum(part["x"] + part["w"], x1)
        part["x"] = left - x0
        part["w"] = right - left
        out.append(part.reset_index(drop=True))
    return out


def store_yaml(paths: list[Path], crops: tuple[tuple[int, int], ...], m_per_px: float, name: str) -> dict:
    """The store config of the virtual cameras (floor plan = the full frame in metres)."""
    return {
        "name": name,
        "floor_plan": {"width": round(crops[-1][1] * m_per_px, 6), "height": round(480 * m_per_px, 6)},
        "cameras": [
            {
                "name": f"cam{k}",
                "video": str(p),
                "start_time": START_TIME,
                "homography": crop_homography(x0, m_per_px).tolist(),
            }
            for k, (p, (x0, _)) in enumerate(zip(paths, crops))
        ],
    }


# ------------------------------------------------------------------------------------- scoring


def joint_rows(per_camera: list[pd.DataFrame], n_frames: int) -> pd.DataFrame:
    """Concatenate cameras as one sequence: camera k's frames shifted by ``k * n_frames``."""
    parts = [d.assign(frame=d["frame"] + k * n_frames, camera=k) for k, d in enumerate(per_camera)]
    return pd.concat(parts, ignore_index=True)


def _iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = (np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0])).clip(0)
    ih = (np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1])).clip(0)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def match_boxes(gt: pd.DataFrame, pred: pd.DataFrame, min_iou: float = 0.5) -> pd.DataFrame:
    """Per camera and frame, Hungarian IoU matching: rows (gt_row, pred_row) of index labels."""
    rows = []
    pred_by = {key: g for key, g in pred.groupby(["camera", "frame"])}
    for key, g in gt.groupby(["camera", "frame"]):
        p = pred_by.get(key)
        if p is None:
            continue
        iou = _iou_xywh(g[["x", "y", "w", "h"]].to_numpy(float), p[["x", "y", "w", "h"]].to_numpy(float))
        r, c = linear_sum_assignment(-iou)
        rows += [(g.index[i], p.index[j]) for i, j in zip(r, c) if iou[i, j] >= min_iou]
    return pd.DataFrame(rows, columns=["gt_row", "pred_row"])


def with_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``run``: per id, the index of its contiguous stretch in one camera (time order)."""
    table = table.sort_values(["frame", "camera"], kind="stable")
    run = table.groupby("id")["camera"].transform(lambda c: (c != c.shift()).cumsum() - 1)
    return table.assign(run=run.astype(int))


def _majority(keys: pd.DataFrame, values: pd.Series) -> dict[tuple, int]:
    grouped = pd.concat([keys.reset_index(drop=True), values.reset_index(drop=True).rename("v")], axis=1)
    return {tuple(k): int(g["v"].value_counts().index[0]) for k, g in grouped.groupby(list(keys.columns))}


def handoff_stats(gt_split: list[pd.DataFrame], pred_split: list[pd.DataFrame]) -> dict[str, float]:
    """True hand-offs, how many we join, and how many of our cross-camera joins are wrong.

    Args:
        gt_split: per camera, GT rows (frame, id, x, y, w, h) in that camera's pixels.
        pred_split: per camera, predicted rows with ``id`` (global shopper id) and ``track_id``
            (camera-local track id).

    A true hand-off is two consecutive runs of one GT id in different cameras; it is joined when both
    runs' majority predicted ids (IoU >= 0.5 matches) are equal. A predicted hand-off is two
    consecutive tracklets (by start frame) of one shopper in different cameras; it is wrong when the
    tracklets' majority GT ids differ (tracklets matching no GT box are not counted). Tracklets, not
    runs of the global id, so a person straddling a blind gap (seen partly by both cameras at once)
    is not counted as many hand-offs. Frames are the source video's: the cameras share one clock.
    """
    gt = with_runs(pd.concat([d.assign(camera=k) for k, d in enumerate(gt_split)], ignore_index=True))
    pred = pd.concat([d.assign(camera=k) for k, d in enumerate(pred_split)], ignore_index=True)
    m = match_boxes(gt, pred)
    g, p = gt.loc[m["gt_row"]], pred.loc[m["pred_row"]]
    gt_run_pred = _majority(g[["id", "run"]], p["id"])
    tracklet_gt = _majority(p[["camera", "track_id"]], g["id"])

    true_handoffs = joined = 0
    for ident, d in gt.groupby("id"):
        for r in range(int(d["run"].max())):
            true_handoffs += 1
            a, b = gt_run_pred.get((ident, r)), gt_run_pred.get((ident, r + 1))
            joined += int(a is not None and a == b)
    predicted = wrong = 0
    starts = (
        pred.groupby(["id", "camera", "track_id"])["frame"].min().reset_index().sort_values(["id", "frame"])
    )
    for _, d in starts.groupby("id"):
        for (ca, ta), (cb, tb) in pairwise(zip(d["camera"], d["track_id"])):
            a, b = tracklet_gt.get((ca, ta)), tracklet_gt.get((cb, tb))
            if ca == cb or a is None or b is None:
                continue
            predicted += 1
            wrong += int(a != b)
    return {
        "hand-offs": true_handoffs,
        "joined": joined,
        "joined %": 100.0 * joined / true_handoffs if true_handoffs else float("nan"),
        "pred joins": predicted,
        "wrong": wrong,
        "wrong %": 100.0 * wrong / predicted if predicted else 0.0,
    }


def camera_rows(conn, camera: str) -> pd.DataFrame:
    """``export-mot`` rows of one camera (global ids per box) with the camera-local tracklet beside.

    ``track_id`` is the camera-local track, or ``"track/shopper"`` where re-ID split a track at an
    identity switch into parts with different shoppers (each part counts as a tracklet).
    """
    from pipeline.db import tracks as db

    keys = ["frame", "x", "y", "w", "h"]
    local = db.camera_track_rows(conn, camera, use_shopper_id=False).rename(columns={"id": "track_id"})
    export = db.camera_track_rows(conn, camera)[[*keys, "id"]]
    out = local.merge(export.drop_duplicates(keys), on=keys, how="left")
    out["id"] = out["id"].fillna(out["track_id"]).astype(int)
    split = out.groupby("track_id")["id"].transform("nunique") > 1
    out["track_id"] = out["track_id"].astype(object)
    out.loc[split, "track_id"] = (
        out.loc[split, "track_id"].astype(str) + "/" + out.loc[split, "id"].astype(str)
    )
    return out


# ------------------------------------------------------------------------------------- running


class CachedDetector:
    """Wraps a detector; remembers its output per image and input size (by content hash) in a pickle file.

    Every embedder and every re-run of the benchmark then reuses the same detections: on a shared
    CPU the detector is by far the slowest stage. ``--imgsz auto`` probes at another size through
    :meth:`with_imgsz`, which shares the cache.
    """

    def __init__(self, detector, path: Path, cache: dict | None = None, state: dict | None = None) -> None:
        self.detector = detector
        self.device = detector.device
        self.imgsz = detector.imgsz
        self.path = path
        if cache is None:
            cache = pickle.loads(path.read_bytes()) if path.is_file() else {}
        self.cache: dict[str, tuple] = cache
        self.state = state if state is not None else {"misses": 0}

    def with_imgsz(self, imgsz: int) -> CachedDetector:
        return CachedDetector(self.detector.with_imgsz(imgsz), self.path, self.cache, self.state)

    def __call__(self, image: np.ndarray) -> Detections:
        key = hashlib.sha1(image.tobytes()).hexdigest() + str(image.shape) + f"@{self.imgsz}"
        hit = self.cache.get(key)
        if hit is None:
            d = self.detector(image)
            hit = (d.xyxy, d.confidence, d.keypoints)
            self.cache[key] = hit
            self.state["misses"] += 1
        return Detections(hit[0], hit[1], keypoints=hit[2])

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        return [self(image) for image in images]

    def save(self) -> None:
        if self.state["misses"]:
            self.path.write_bytes(pickle.dumps(self.cache))


def process_cached(store_path: Path, db_path: Path, settings, cache: Path) -> None:
    """``process`` the store in-process (the product's code path) with detections cached."""
    from pipeline.config import load_config
    from pipeline.db import connect
    from pipeline.jobs import process_store
    from pipeline.track_video import Components, load_components

    holder: dict = {}

    def factory() -> Components:
        comps = load_components(settings)
        holder["det"] = CachedDetector(comps.detector, cache)
        return Components(holder["det"], comps.embedder)

    conn = connect(db_path)
    try:
        process_store(
            load_config(store_path),
            conn,
            settings,
            factory,
            progress=False,
            reid_mode="independent",
            analyse=False,
        )
    finally:
        conn.close()
        if "det" in holder:
            holder["det"].save()


SETTINGS_ROWS = (
    ("independent", "independent", True),
    ("appearance", "appearance", True),
    ("full (online)", "full", False),
    ("full", "full", True),
)
# Ambiguity margins tried in mode full (share of the match threshold); the shipped default is chosen
# leave-one-sequence-out from these (see ``held_out``).
MARGINS = (0.0, 0.1, 0.2, 0.3)
# Distance factors of a unique hand-off (space/time as evidence, ``reid.handoff_discount``; 1 = off),
# chosen leave-one-sequence-out together with the margin.
DISCOUNTS = (1.0, 0.75, 0.5)
# Camera layouts (strips of the 640 px frame): 2 and 3 cameras, blind gaps of 40, 80 and 120 px.
DEFAULT_CROPS = ((0, 200), (240, 400), (440, 640))  # the layout of the accuracy test
LAYOUTS = (
    "0:300,340:640",
    "0:280,360:640",
    "0:260,380:640",
    "0:200,240:400,440:640",
    "0:187,267:373,453:640",
    "0:173,293:347,467:640",
)


def evaluate_modes(db_path: Path, gt_split: list[pd.DataFrame], n_frames: int) -> list[dict]:
    """Recompute the assignment for every setting (and every margin in mode full) on one processed
    database and score it; the on-site calibration stored by ``process`` is reused."""
    from dataclasses import replace

    from pipeline.db import connect
    from pipeline.db import tracks as db
    from pipeline.evaluate import score_frames
    from pipeline.reid.store import run_reid, stored_reid_config

    gt_joint = joint_rows(gt_split, n_frames)
    rows = []
    runs = [(label, mode, refine, None, None) for label, mode, refine in SETTINGS_ROWS if mode != "full"]
    runs += [
        (label, mode, refine, m, d)
        for label, mode, refine in SETTINGS_ROWS
        if mode == "full"
        for m in MARGINS
        for d in DISCOUNTS
    ]
    for label, mode, refine, margin, discount in runs:
        conn = connect(db_path)
        try:
            config = stored_reid_config(conn)
            if margin is not None:
                config = replace(config, match_margin=margin, handoff_discount=discount)
            started = time.perf_counter()
            summary = run_reid(conn, config, mode=mode, refine=refine)
            seconds = time.perf_counter() - started
            exported = [db.camera_track_rows(conn, f"cam{k}") for k in range(len(gt_split))]
            cams = [camera_rows(conn, f"cam{k}") for k in range(len(gt_split))]
        finally:
            conn.close()
        s = score_frames(gt_joint, joint_rows(exported, n_frames))
        stats = handoff_stats(gt_split, cams)
        cal = summary.calibration
        rows.append(
            {
                "setting": label,
                "margin": margin,
                "discount": discount,
                "IDF1": s.idf1,
                "HOTA": s.hota,
                "IDSW": s.idsw,
                "shoppers": summary.n_shoppers,
                **stats,
                "threshold": summary.match_threshold,
                "calibrated": None if cal is None else cal.source,
                "reid s": seconds,
            }
        )
    return rows


def held_out(table: pd.DataFrame) -> pd.DataFrame:
    """Leave-one-sequence-out rows of mode ``full``: margin and hand-off discount are chosen on the *other*
    sequence (fewest wrong joins, then most joined, over all its layouts and embedders; ties to the larger,
    more cautious, margin and discount) and reported on this one."""
    full = table[table["setting"] == "full"]
    out = []
    for seq in full["sequence"].unique():
        other = full[full["sequence"] != seq]
        if other.empty:
            continue
        by_setting = (
            other.groupby(["margin", "discount"])
            .agg(wrong=("wrong", "sum"), joined=("joined", "sum"))
            .reset_index()
        )
        # Fewest wrong joins, then most joined; a tie goes to the larger (more cautious) margin, discount.
        best = by_setting.sort_values(
            ["wrong", "joined", "margin", "discount"], ascending=[True, False, False, False]
        ).iloc[0]
        chosen, discount = best["margin"], best["discount"]
        rows = full[(full["sequence"] == seq) & (full["margin"] == chosen) & (full["discount"] == discount)]
        local = table[(table["sequence"] == seq) & (table["setting"] == "independent")]
        for _, r in rows.iterrows():
            camera_local = local[(local["layout"] == r["layout"]) & (local["embedder"] == r["embedder"])][
                "IDF1"
            ]
            out.append(
                {
                    "sequence (held out)": seq,
                    "margin chosen on": ", ".join(other["sequence"].unique()),
                    "margin": chosen,
                    "discount": discount,
                    "layout": r["layout"],
                    "embedder": r["embedder"],
                    "joined": r["joined"],
                    "hand-offs": r["hand-offs"],
                    "joined %": r["joined %"],
                    "wrong": r["wrong"],
                    "predicted joins": r["pred joins"],
                    "IDF1 global": r["IDF1"],
                    "IDF1 camera-local": float(camera_local.iloc[0]) if len(camera_local) else float("nan"),
                    "threshold": r["threshold"],
                    "calibrated": r["calibrated"],
                }
            )
    return pd.DataFrame(out)


def held_out_summary(loo: pd.DataFrame) -> pd.DataFrame:
    """Totals of the held-out rows per sequence and embedder: hand-offs joined, wrong joins, and on how
    many layouts global ids score at least as well as camera-local ones (with the range of the gain)."""
    out = []
    for (seq, emb), rows in loo.groupby(["sequence (held out)", "embedder"], sort=False):
        joined, handoffs = int(rows["joined"].sum()), int(rows["hand-offs"].sum())
        wrong, made = int(rows["wrong"].sum()), int(rows["predicted joins"].sum())
        gain = rows["IDF1 global"] - rows["IDF1 camera-local"]
        out.append(
            {
                "sequence (held out)": seq,
                "margin chosen on": rows["margin chosen on"].iloc[0],
                "margin": f"{rows['margin'].iloc[0]:.2f}",
                "embedder": emb,
                "hand-offs joined": f"{joined} / {handoffs} ({100 * joined / max(handoffs, 1):.0f} %)",
                "wrong / joins made": f"{wrong} / {made} ({100 * wrong / max(made, 1):.1f} %)",
                "layouts global >= local": f"{int((gain >= 0).sum())} / {len(rows)}",
                "IDF1 global - local": f"{gain.min():+.1f} to {gain.max():+.1f}",
            }
        )
    return pd.DataFrame(out)


def single_camera_idf1(
    video: Path, gt: pd.DataFrame, work: Path, settings, cache: Path, rescore: bool = False
) -> float:
    """IDF1 of the unsplit video processed as a one-camera store (tracker ids, no gallery); with
    ``rescore``, of the database an earlier run left in ``work``."""
    from pipeline.db import connect
    from pipeline.db import tracks as db
    from pipeline.evaluate import score_frames

    store = work / "single.yaml"
    store.write_text(
        yaml.safe_dump(
            {
                "name": "single",
                "cameras": [{"name": "full", "video": str(video), "start_time": START_TIME}],
            }
        )
    )
    db_path = work / f"single-{settings.embedder}.duckdb"
    if not (rescore and db_path.is_file()):
        db_path.unlink(missing_ok=True)  # `process` keeps a camera it has already processed: start afresh
        process_cached(store, db_path, settings, cache)
    conn = connect(db_path, read_only=True)
    try:
        pred = db.camera_track_rows(conn, "full", use_shopper_id=False)
    finally:
        conn.close()
    return score_frames(gt, pred).idf1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequences", nargs="*", default=["TUD-Campus", "TUD-Stadtmitte"])
    parser.add_argument(
        "--embedders",
        nargs="*",
        default=None,
        metavar="NAME[=MODEL]",
        help="embedders, each with an optional model file/dir (default: the product's default embedder)",
    )
    parser.add_argument("--imgsz", default="auto", help="detector input size (default: the product's, auto)")
    parser.add_argument(
        "--layouts",
        type=parse_crops,
        nargs="*",
        default=[parse_crops(x) for x in LAYOUTS],
        metavar="X0:X1,...",
        help="camera layouts: each the cameras' strips in full-frame pixels, left to right "
        "(default: 2 and 3 cameras with 40, 80 and 120 px blind gaps)",
    )
    parser.add_argument("--m-per-px", type=float, default=DEFAULT_M_PER_PX)
    parser.add_argument(
        "--stride",
        type=int,
        default=1,
        help="process every K-th frame (`process --stride`; a low-rate recorder), scored on those frames",
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "shopper_multicam")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "multicam.md")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="reuse the databases an earlier run left in --work (no video is read): for changes to "
        "cross-camera assignment only",
    )
    args = parser.parse_args()

    from pipeline.commands.track import imgsz_arg
    from pipeline.detector import DEFAULT_CONF
    from pipeline.mot_io import read_mot
    from pipeline.track_settings import DEFAULT_EMBEDDER, TrackSettings

    embedders = args.embedders or [DEFAULT_EMBEDDER]
    imgsz = imgsz_arg(str(args.imgsz))
    rows = []
    for seq in mot_sequences(args.sequences):
        video = seq / f"{seq.name}.mp4"
        gt = read_mot(seq / "gt" / "gt.txt")
        gt = every_nth(gt, args.stride)  # the frames `process --stride` reads
        n_frames = int(gt["frame"].max())
        cache = args.work / seq.name / f"detections-{imgsz}.pkl"
        singles: dict[str, float] = {}
        for crops in args.layouts:
            layout = ",".join(f"{x0}:{x1}" for x0, x1 in crops)
            work = args.work / seq.name / "_".join(f"{x0}-{x1}" for x0, x1 in crops)
            paths = [work / f"cam{k}.mp4" for k in range(len(crops))]
            if not all(p.is_file() for p in paths):
                split_video(video, crops, work)
            store = work / "store.yaml"
            store.write_text(
                yaml.safe_dump(store_yaml(paths, crops, args.m_per_px, seq.name), sort_keys=False)
            )
            gt_split = split_gt(gt, crops)
            for spec in embedders:
                emb, _, model = spec.partition("=")
                settings = TrackSettings(
                    imgsz=imgsz, conf=DEFAULT_CONF, embedder=emb, reid_model=model or None, stride=args.stride
                )
                if emb not in singles:
                    singles[emb] = single_camera_idf1(video, gt, work, settings, cache, args.rescore)
                db_path = work / f"store-{emb}.duckdb"
                if not (args.rescore and db_path.is_file()):
                    db_path.unlink(missing_ok=True)
                    process_cached(store, db_path, settings, cache)
                for row in evaluate_modes(db_path, gt_split, n_frames):
                    rows.append(
                        {
                            "sequence": seq.name,
                            "layout": layout,
                            "cameras": len(crops),
                            "embedder": emb,
                            **row,
                            "single-cam IDF1": singles[emb],
                        }
                    )
                    print(
                        {k: (round(v, 2) if isinstance(v, float) else v) for k, v in rows[-1].items()},
                        flush=True,
                    )
    table = pd.DataFrame(rows)
    print(f"\nimgsz {imgsz}, conf {DEFAULT_CONF}, {args.m_per_px} m/px, every {args.stride} frame(s)\n")
    print_table(table, args.out, floatfmt=".2f")
    loo = held_out(table)
    if not loo.empty:
        print(
            "\nHeld out (margin and hand-off discount chosen on the other sequence; threshold calibrated on "
            "site, no labels):\n"
        )
        print_table(loo, args.out.with_name(args.out.stem + "_heldout.md"), floatfmt=".2f")
        print("\nHeld out, totals over the layouts:\n")
        print_table(held_out_summary(loo), args.out.with_name(args.out.stem + "_heldout_summary.md"))


if __name__ == "__main__":
    main()
