"""Score MOT predictions against ground truth with TrackEval's HOTA, CLEAR and Identity metrics.

Follows TrackEval's MOT15 protocol: ground-truth rows with ``conf == 0`` are ignored, boxes are matched
by IoU, and there is no distractor preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.mot_io import read_mot


@dataclass(frozen=True)
class TrackingScores:
    """Standard MOT metrics, percentages except the counts."""

    hota: float
    deta: float
    assa: float
    idf1: float
    mota: float
    idsw: int
    fp: int
    fn: int

    def as_row(self) -> dict[str, float]:
        return {
            "HOTA": self.hota,
            "DetA": self.deta,
            "AssA": self.assa,
            "IDF1": self.idf1,
            "MOTA": self.mota,
            "IDSW": self.idsw,
            "FP": self.fp,
            "FN": self.fn,
        }


def _seq_data(gt: pd.DataFrame, pred: pd.DataFrame) -> dict:
    """TrackEval's per-sequence data dict (contiguous 0-based ids, per-frame IoU matrices)."""
    from trackeval.datasets._base_dataset import _BaseDataset

    gt = gt[gt["score"] != 0]
    frames = int(max(gt["frame"].max() if len(gt) else 0, pred["frame"].max() if len(pred) else 0))
    gt_map = {v: i for i, v in enumerate(sorted(gt["id"].unique()))}
    pr_map = {v: i for i, v in enumerate(sorted(pred["id"].unique()))}
    gt_by = {f: g for f, g in gt.groupby("frame")}
    pr_by = {f: g for f, g in pred.groupby("frame")}
    data: dict = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    empty = pd.DataFrame(columns=gt.columns)
    for frame in range(1, frames + 1):
        g = gt_by.get(frame, empty)
        p = pr_by.get(frame, empty)
        data["gt_ids"].append(np.array([gt_map[i] for i in g["id"]], dtype=int))
        data["tracker_ids"].append(np.array([pr_map[i] for i in p["id"]], dtype=int))
        boxes_g = g[["x", "y", "w", "h"]].to_numpy(float)
        boxes_p = p[["x", "y", "w", "h"]].to_numpy(float)
        if len(boxes_g) and len(boxes_p):
            sim = _BaseDataset._calculate_box_ious(boxes_g, boxes_p, box_format="xywh")
        else:
            sim = np.zeros((len(boxes_g), len(boxes_p)))
        data["similarity_scores"].append(sim)
    data.update(
        num_timesteps=frames,
        num_gt_ids=len(gt_map),
        num_tracker_ids=len(pr_map),
        num_gt_dets=len(gt),
        num_tracker_dets=len(pred),
    )
    return data


def score_frames(gt: pd.DataFrame, pred: pd.DataFrame) -> TrackingScores:
    """Score prediction rows against ground-truth rows (both with MOT columns)."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    data = _seq_data(gt, pred)
    quiet = {"PRINT_CONFIG": False}
    hota = HOTA(quiet).eval_sequence(data)
    clear = CLEAR(quiet).eval_sequence(data)
    ident = Identity(quiet).eval_sequence(data)
    return TrackingScores(
        hota=100 * float(np.mean(hota["HOTA"])),
        deta=100 * float(np.mean(hota["DetA"])),
        assa=100 * float(np.mean(hota["AssA"])),
        idf1=100 * float(ident["IDF1"]),
        mota=100 * float(clear["MOTA"]),
        idsw=int(clear["IDSW"]),
        fp=int(clear["CLR_FP"]),
        fn=int(clear["CLR_FN"]),
    )


def score_files(gt_path: str | Path, pred_path: str | Path) -> TrackingScores:
    """Score two MOT files (see :func:`score_frames`)."""
    return score_frames(read_mot(gt_path), read_mot(pred_path))
