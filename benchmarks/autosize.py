"""How tall must a person be in the detector's input to be found? The measurement behind ``--imgsz auto``.

Real footage with ground truth (MOT15 TUD sequences) is turned into wide scenes with small people: a
k x k mosaic of the frame, each copy downscaled by 1/k, keeps the 640 x 480 frame size while every
person (and its ground truth box, copied k^2 times) is k times smaller (full size: 130-310 px; k = 3:
43-103 px, like a high camera; k = 4: 32-78 px, like the CAVIAR shop camera). (Downscaling the whole
frame would not do: the detector scales it back up, so people keep their size in its input.) The
detector then runs at several input sizes. Each ground-truth box counts as found when a detection with
score >= 0.25 overlaps it with IoU >= 0.5. Recall is reported per bin of the person's height *in input
pixels* (source height x imgsz / long side), relative to the recall of the tallest bins (people are
also missed for occlusion, which no size fixes). The height where relative recall levels off is
``MIN_MODEL_HEIGHT`` in ``pipeline/autosize.py``; the rows per imgsz show where larger sizes stop helping.

    python benchmarks/autosize.py [--every 8] [--mosaics 1 2 3 4] [--sizes 640 960 1280 1600]

Also prints the size ``auto`` picks for every shared video (TUD and CAVIAR) with its reason.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pandas as pd
from common import REPO, mot_sequences, print_table, shared_dir
from scipy.optimize import linear_sum_assignment

from pipeline.autosize import auto_imgsz
from pipeline.boxes import box_iou
from pipeline.detector import YoloDetector
from pipeline.mot_io import read_mot
from pipeline.video import probe, read_frames

BINS = [0, 32, 48, 64, 80, 96, 128, 160, 224, 320, 10_000]
SCORE = 0.25


def gt_hits(gt_xyxy: np.ndarray, dets_xyxy: np.ndarray, dets_conf: np.ndarray) -> np.ndarray:
    """Per GT box: found (one-to-one IoU >= 0.5 with a detection scoring >= SCORE)."""
    found = np.zeros(len(gt_xyxy), bool)
    keep = dets_conf >= SCORE
    if not len(gt_xyxy) or not keep.any():
        return found
    iou = box_iou(gt_xyxy, dets_xyxy[keep])
    rows, cols = linear_sum_assignment(-iou)
    found[rows[iou[rows, cols] >= 0.5]] = True
    return found


def mosaic(image: np.ndarray, gt_xyxy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A k x k mosaic of ``image`` at 1/k scale (same frame size) and its ground truth boxes, k^2 copies."""
    if k == 1:
        return image, gt_xyxy
    h, w = image.shape[:2]
    th, tw = h // k, w // k
    small = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
    out = np.zeros_like(image)
    boxes = []
    for r in range(k):
        for c in range(k):
            out[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = small
            boxes.append(gt_xyxy * [tw / w, th / h, tw / w, th / h] + [c * tw, r * th, c * tw, r * th])
    return out, np.concatenate(boxes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--every", type=int, default=8, help="use every K-th frame")
    parser.add_argument("--mosaics", type=int, nargs="*", default=[1, 2, 3, 4], help="k of the k x k mosaics")
    parser.add_argument("--sizes", type=int, nargs="*", default=[640, 960, 1280, 1600])
    parser.add_argument(
        "--picks-only", action="store_true", help="only print what auto picks per shared video"
    )
    args = parser.parse_args()

    detector = YoloDetector(imgsz=max(args.sizes), conf=0.1)
    if not args.picks_only:
        recall_tables(detector, args)
    print_picks(detector)


def recall_tables(detector: YoloDetector, args: argparse.Namespace) -> None:
    rows = []
    for seq in mot_sequences():
        gt = read_mot(seq / "gt" / "gt.txt")
        for frame in read_frames(seq / f"{seq.name}.mp4", stride=args.every):
            g = gt[gt["frame"] == frame.index + 1]
            if g.empty:
                continue
            gt_xyxy = g[["x", "y", "w", "h"]].to_numpy(np.float64)
            gt_xyxy[:, 2:] += gt_xyxy[:, :2]
            for k in args.mosaics:
                image, boxes = mosaic(frame.image, gt_xyxy, k)
                long_side = max(image.shape[:2])
                for size in args.sizes:
                    dets = detector.with_imgsz(size)(image)
                    found = gt_hits(boxes, dets.xyxy.astype(np.float64), dets.confidence)
                    heights = boxes[:, 3] - boxes[:, 1]
                    rows += [(seq.name, k, size, hh * size / long_side, f) for hh, f in zip(heights, found)]
    df = pd.DataFrame(rows, columns=["sequence", "mosaic", "imgsz", "input_px", "found"])
    df["input height (px)"] = pd.cut(df["input_px"], BINS).astype(str)
    by_bin = (
        df.groupby("input height (px)", observed=True, sort=False)
        .agg(boxes=("found", "size"), recall=("found", "mean"), mid=("input_px", "median"))
        .sort_values("mid")
    )
    plateau = by_bin.loc[by_bin["mid"] >= 224, "recall"].mean()
    by_bin["recall / plateau"] = by_bin["recall"] / plateau
    print("Recall by person height in detector input pixels (all scales and sizes pooled):\n")
    print_table(
        by_bin.drop(columns="mid").reset_index(),
        REPO / "benchmarks" / "results" / "autosize_height.md",
        ".2f",
    )

    by_size = df.pivot_table(index=["sequence", "mosaic"], columns="imgsz", values="found", aggfunc="mean")
    print("\nRecall by mosaic (people 1/k as tall) and imgsz (does a larger size still help?):\n")
    print_table((100 * by_size).round(1).reset_index(), REPO / "benchmarks" / "results" / "autosize_sizes.md")


def print_picks(detector: YoloDetector) -> None:
    picks = []
    root = shared_dir() / "data"
    videos = sorted((root / "mot15").glob("*/*.mp4")) + sorted((root / "caviar").glob("*.mpg"))
    for video in videos:
        choice = auto_imgsz(probe(video), detector)
        picks.append({"video": video.name, "imgsz": choice.imgsz, "why": choice.note})
    print("\nWhat `--imgsz auto` picks for each shared video:\n")
    print_table(pd.DataFrame(picks), REPO / "benchmarks" / "results" / "autosize_picks.md")


if __name__ == "__main__":
    main()
