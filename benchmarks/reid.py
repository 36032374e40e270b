"""Re-ID benchmark: mAP and Rank-1 of every embedder, pretrained and trained on site.

Datasets (from the shared folder, never copied into the project):

- ``market``: market1501-mini query vs bounding_box_test (16 people, 2 cameras; same-id same-camera
  gallery items excluded).
- ``campus`` / ``stadtmitte``: crops cut from the MOT15 TUD-Campus / TUD-Stadtmitte ground truth; query =
  first half of the sequence, gallery = second half (the two time windows play the two "cameras").

Trained models (``siamese`` head / cnn, ``vae``) are trained on one source and evaluated only on the
others: on TUD-Stadtmitte GT tracks treated as unlabelled tracklets (the on-site mode: same tracklet =
same person, overlapping tracklets = different), on TUD-Campus the same way, and on the labelled
market1501-mini ``bounding_box_train`` ids (disjoint from its query/gallery ids).

    python benchmarks/reid.py [--shared ../shared] [--quick] [--out artifacts/reid]

Writes ``reid_benchmark.md`` / ``.json`` and the trained models under ``--out`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.embedders import get_embedder
from pipeline.embedders.base import Embedder
from pipeline.embedders.batch import embed_crops
from pipeline.embedders.omz import OMZEmbedder
from pipeline.embedders.osnet import OSNetEmbedder
from pipeline.training.dataset import CropSet, read_market_folder
from pipeline.training.evaluate import map_rank1
from pipeline.training.mining import crops_from_tracklets, extract_crops, mot_gt_tracklets, read_mot_gt
from pipeline.training.trainer import TrainConfig, save_loss_curve, save_result, train_siamese, train_vae

SEQUENCES = {"campus": "TUD-Campus", "stadtmitte": "TUD-Stadtmitte"}
EVAL_SETS = ("market", "campus", "stadtmitte")


def default_shared() -> Path:
    return Path(os.environ.get("SHOPPER_SHARED", Path(__file__).resolve().parents[2] / "shared"))


# ---------------------------------------------------------------- evaluation sets


def _pids(cs_dir: Path) -> np.ndarray:
    return np.array([int(p.name.split("_")[0]) for p in sorted(cs_dir.iterdir()) if p.suffix == ".jpg"])


def market_eval(shared: Path) -> dict:
    root = shared / "data" / "reid" / "market1501-mini"
    q, g = read_market_folder(root / "query"), read_market_folder(root / "bounding_box_test")
    return {"q": q.crops, "qid": _pids(root / "query"), "qcam": q.cameras,
            "g": g.crops, "gid": _pids(root / "bounding_box_test"), "gcam": g.cameras}  # fmt: skip


def _iou_max(boxes: np.ndarray) -> np.ndarray:
    """(M,) largest IoU of each box with another box of the same frame (boxes: M x [frame, x1, y1, x2, y2])."""
    out = np.zeros(len(boxes))
    for f in np.unique(boxes[:, 0]):
        rows = np.flatnonzero(boxes[:, 0] == f)
        b = boxes[rows, 1:]
        x1 = np.maximum(b[:, None, 0], b[None, :, 0])
        y1 = np.maximum(b[:, None, 1], b[None, :, 1])
        x2 = np.minimum(b[:, None, 2], b[None, :, 2])
        y2 = np.minimum(b[:, None, 3], b[None, :, 3])
        inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        iou = inter / (area[:, None] + area[None, :] - inter)
        np.fill_diagonal(iou, 0)
        out[rows] = iou.max(axis=1) if len(rows) > 1 else 0
    return out


def mot_eval(
    shared: Path, seq: str, per_window: int = 8, min_height: float = 48.0, max_iou: float = 0.3
) -> dict:
    """Query = GT crops of the first half of the sequence, gallery = second half; occluded boxes dropped
    (``qframe`` / ``gframe``: their 1-based frame numbers)."""
    seq_dir = shared / "data" / "mot15" / seq
    gt = read_mot_gt(seq_dir / "gt" / "gt.txt")
    gt = gt[(gt[:, 5] - gt[:, 3] >= min_height) & (_iou_max(gt[:, [0, 2, 3, 4, 5]]) <= max_iou)]
    half = (gt[:, 0].max() + 1) / 2
    picks = []
    for window in (0, 1):
        in_window = gt[(gt[:, 0] >= half) == bool(window)]
        for pid in np.unique(in_window[:, 1]):
            rows = in_window[in_window[:, 1] == pid]
            rows = rows[np.argsort(rows[:, 0])]
            sel = np.unique(np.linspace(0, len(rows) - 1, min(len(rows), per_window)).round().astype(int))
            picks += [(window, *r) for r in rows[sel]]
    picks_a = np.array(picks)
    crops = extract_crops(
        seq_dir / f"{seq}.mp4", picks_a[:, 1].astype(np.int64), picks_a[:, 3:7].astype(np.float32)
    )
    win, pid = picks_a[:, 0].astype(np.int64), picks_a[:, 2].astype(np.int64)
    both = np.intersect1d(pid[win == 0], pid[win == 1])
    q = (win == 0) & np.isin(pid, both)
    g = win == 1
    frame = picks_a[:, 1].astype(np.int64)
    return {"q": crops[q], "qid": pid[q], "qcam": win[q], "qframe": frame[q],
            "g": crops[g], "gid": pid[g], "gcam": win[g], "gframe": frame[g]}  # fmt: skip


def evaluate(embedder: Embedder, data: dict) -> tuple[float, float, float]:
    """(mAP, Rank-1, ms per crop)."""
    t = time.perf_counter()
    fq, fg = embed_crops(embedder, data["q"]), embed_crops(embedder, data["g"])
    ms = (time.perf_counter() - t) * 1000 / (len(fq) + len(fg))
    m, r1 = map_rank1(fq, data["qid"], data["qcam"], fg, data["gid"], data["gcam"])
    return m, r1, ms


# ---------------------------------------------------------------- training sources


def train_sources(shared: Path) -> dict[str, tuple[CropSet, str]]:
    """name -> (crops, eval set it must not be tested on)."""
    out = {}
    for key, seq in SEQUENCES.items():
        data = crops_from_tracklets(
            mot_gt_tracklets(shared / "data" / "mot15" / seq), f"{seq} GT tracks as unlabelled tracklets"
        )
        out[key] = (data, key)
    market = read_market_folder(shared / "data" / "reid" / "market1501-mini" / "bounding_box_train")
    out["market-train"] = (market, "")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=default_shared())
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "artifacts" / "reid"
    )
    parser.add_argument("--quick", action="store_true", help="fewer epochs, heads only on one backbone")
    parser.add_argument("--skip-scratch", action="store_true", help="skip the from-scratch cnn and vae runs")
    parser.add_argument("--table-from", type=Path, help="only re-print the table of an earlier JSON result")
    parser.add_argument(
        "--results",
        type=Path,
        help="also write the table here (the recorded one: benchmarks/results/reid.md)",
    )
    args = parser.parse_args(argv)
    if args.table_from:
        result = json.loads(args.table_from.read_text())
        emit(markdown(result["rows"], result["eval_sets"]), args.results)
        return 0
    torch.set_num_threads(2)
    models = args.shared / "models"
    if not models.is_dir():
        print(f"shared folder not found: {args.shared} (set SHOPPER_SHARED)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    evals = {"market": market_eval(args.shared)}
    evals.update({k: mot_eval(args.shared, s) for k, s in SEQUENCES.items()})
    sizes = {k: f"{len(v['q'])}q/{len(v['g'])}g, {len(np.unique(v['qid']))} ids" for k, v in evals.items()}
    print("eval sets:", sizes, flush=True)

    backbones: dict[str, Embedder] = {
        "hist": get_embedder("hist"),
        "mobilenet": get_embedder("mobilenet"),
        "osnet": OSNetEmbedder(models / "osnet_x0_25_msmt17.onnx"),
        "omz-0288": OMZEmbedder(models / "person-reidentification-retail-0288", precision="fp32"),
        "omz-0287": OMZEmbedder(
            models / "person-reidentification-retail-0287" / "person-reidentification-retail-0287.xml",
            precision="fp32",
        ),
    }
    rows: list[dict] = []

    def record(
        name: str, embedder: Embedder, trained_on: str = "", base: str = "", excluded: str = ""
    ) -> None:
        row = {"embedder": name, "trained_on": trained_on or "pretrained", "base": base}
        for key in EVAL_SETS:
            if key == excluded:
                row[key] = None
                continue
            m, r1, ms = evaluate(embedder, evals[key])
            row[key] = {"mAP": round(100 * m, 1), "R1": round(100 * r1, 1), "ms": round(ms, 2)}
        rows.append(row)
        cells = "  ".join(
            f"{k}={row[k]['mAP'] if row[k] else '-'}/{row[k]['R1'] if row[k] else '-'}" for k in EVAL_SETS
        )
        print(f"{name:34s} {row['trained_on']:14s} {cells}", flush=True)

    for name, emb in backbones.items():
        record(name, emb)

    sources = train_sources(args.shared)
    for key, (data, _) in sources.items():
        print(f"train source {key}: {data.summary()}", flush=True)
    head_epochs = 10 if args.quick else 30
    scratch_epochs = 5 if args.quick else 15
    # MobileNetV2 heads are left out: its 224x224 backbone is ~50x slower here and scores far below.
    head_bases = ["omz-0288"] if args.quick else ["omz-0287", "omz-0288", "osnet"]
    losses = ["triplet"] if args.quick else ["triplet", "contrastive"]
    from pipeline.embedders.siamese import SiameseEmbedder
    from pipeline.embedders.vae import VAEEmbedder

    for src, (data, excluded) in sources.items():
        for base in head_bases:
            for loss in losses:
                cfg = TrainConfig("siamese", "head", loss, epochs=head_epochs)
                result = train_siamese(data, cfg, backbones[base])
                path = save_result(result, "siamese", args.out / f"siamese-head-{base}-{loss}-{src}.pt")
                record(f"siamese head/{base} ({loss})", SiameseEmbedder(path), src, base, excluded)
        # The from-scratch models are slow on 2 shared CPU cores: train them on the largest on-site source only.
        if args.skip_scratch or src != "stadtmitte":
            continue
        for loss in losses:
            cfg = TrainConfig("siamese", "cnn", loss, epochs=scratch_epochs)
            t = time.perf_counter()
            result = train_siamese(data, cfg)
            path = save_result(result, "siamese", args.out / f"siamese-cnn-{loss}-{src}.pt")
            save_loss_curve(result, path.with_suffix(".loss.png"), f"siamese cnn {loss} on {src}")
            print(
                f"  cnn {loss} on {src}: {time.perf_counter() - t:.0f} s, loss {result.epoch_losses[0]:.3f} -> {result.epoch_losses[-1]:.3f}"
            )
            record(f"siamese cnn ({loss})", SiameseEmbedder(path), src, "", excluded)
        cfg = TrainConfig("vae", epochs=scratch_epochs)
        t = time.perf_counter()
        result = train_vae(data, cfg)
        path = save_result(result, "vae", args.out / f"vae-{src}.pt")
        save_loss_curve(result, path.with_suffix(".loss.png"), f"vae on {src}")
        print(
            f"  vae on {src}: {time.perf_counter() - t:.0f} s, loss {result.epoch_losses[0]:.1f} -> {result.epoch_losses[-1]:.1f}"
        )
        record("vae", VAEEmbedder(path), src, "", excluded)

    (args.out / "reid_benchmark.json").write_text(json.dumps({"eval_sets": sizes, "rows": rows}, indent=1))
    table = markdown(rows, sizes)
    (args.out / "reid_benchmark.md").write_text(table)
    emit(table, args.results)
    return 0


def emit(table: str, results: Path | None) -> None:
    """Print the table, and write it to ``results`` when given."""
    if results:
        results.write_text(table)
    print(table)


def markdown(rows: list[dict], sizes: dict) -> str:
    head = (
        "| embedder | trained on | "
        + " | ".join(f"{k} mAP / R1" for k in EVAL_SETS)
        + " | Δ mAP vs frozen base | ms/crop |"
    )
    lines = [head, "|" + "---|" * (len(EVAL_SETS) + 4)]
    frozen = {r["embedder"]: r for r in rows if r["trained_on"] == "pretrained"}
    for r in rows:
        cells = [
            f"{r[k]['mAP']:.1f} / {r[k]['R1']:.1f}"
            if r[k]
            else "(train)"
            if r["trained_on"] != "pretrained"
            else "-"
            for k in EVAL_SETS
        ]
        delta = ""
        if r["base"]:
            diffs = [f"{k} {r[k]['mAP'] - frozen[r['base']][k]['mAP']:+.1f}" for k in EVAL_SETS if r[k]]
            delta = ", ".join(diffs)
        ms = next(r[k]["ms"] for k in EVAL_SETS if r[k])
        lines.append(
            f"| {r['embedder']} | {r['trained_on']} | " + " | ".join(cells) + f" | {delta} | {ms:.1f} |"
        )
    lines.append("")
    lines.append(
        "Eval sets: "
        + "; ".join(f"{k}: {v}" for k, v in sizes.items())
        + ". (train) = the model's training data, not evaluated."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
