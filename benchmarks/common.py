"""Helpers shared by the benchmark scripts: locating ../shared and printing tables."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def shared_dir() -> Path:
    """``$SHOPPER_SHARED`` or ``../shared`` beside the repository; exit with a message if absent."""
    for candidate in (os.environ.get("SHOPPER_SHARED"), REPO.parent / "shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    sys.exit("shared data not found: put it at ../shared or set SHOPPER_SHARED")


def mot_sequences(names: list[str] | None = None) -> list[Path]:
    """Sequence folders under ``shared/data/mot15`` (each with ``NAME.mp4`` and ``gt/gt.txt``)."""
    root = shared_dir() / "data" / "mot15"
    seqs = sorted(p for p in root.iterdir() if (p / "gt" / "gt.txt").is_file())
    if names:
        seqs = [p for p in seqs if p.name in names]
    return seqs


def print_table(table: pd.DataFrame, out: Path | None = None, floatfmt: str = ".1f") -> None:
    """Print ``table`` as markdown (and write it to ``out`` when given)."""
    text = table.to_markdown(index=False, floatfmt=floatfmt)
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")


def metric_columns(scores, names: tuple[str, ...] = ("HOTA", "IDF1", "MOTA", "IDSW")) -> dict:
    """``{"HOTA": scores.hota, ...}`` of a ``pipeline.evaluate.TrackingScores``."""
    return {name: getattr(scores, name.lower()) for name in names}


def print_grid_and_held_out(grid: pd.DataFrame, held_out: pd.DataFrame, out: Path) -> None:
    """Print (and write) a parameter grid's every row (to ``out``, without the ``sequence`` column) and
    its held-out rows (to ``<out stem>_heldout.md``)."""
    print_table(grid.drop(columns="sequence"), out, floatfmt=".2f")
    print()
    print_table(held_out, out.with_name(out.stem + "_heldout.md"), floatfmt=".2f")


def side_by_side(
    base, got, base_name: str, got_name: str, metrics: tuple[str, ...] = ("HOTA", "IDF1", "IDSW")
) -> dict:
    """Table columns comparing two rows metric by metric: ``{"HOTA <base_name>": base["HOTA"],
    "HOTA <got_name>": got["HOTA"], "IDF1 <base_name>": ...}``."""
    out = {}
    for m in metrics:
        out[f"{m} {base_name}"] = base[m]
        out[f"{m} {got_name}"] = got[m]
    return out


def every_nth(gt: pd.DataFrame, stride: int) -> pd.DataFrame:
    """MOT rows on the frames a reader keeping every ``stride``-th frame sees (1-based frames 1,
    1 + stride, ...), with their original frame numbers."""
    return gt[(gt["frame"] - 1) % stride == 0]


def gt_above(gt: pd.DataFrame, height: float) -> pd.DataFrame:
    """MOT rows of a frame cut to its rows ``[0, height)``: boxes clipped at the cut, and those with less
    than half their height above it dropped."""
    inside = (np.minimum(gt["y"] + gt["h"], height) - gt["y"]).clip(lower=0)
    kept = gt[inside >= 0.5 * gt["h"]].copy()
    kept["h"] = np.minimum(kept["y"] + kept["h"], height) - kept["y"]
    return kept


def rewrite_video(
    video: Path,
    out: Path,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    stride: int = 1,
) -> tuple[float, tuple[int, int]]:
    """Write every ``stride``-th frame of ``video`` (the first included), passed through ``transform``
    (the same output size for every frame, e.g. a crop), to ``out`` as mp4 at ``fps / stride``. Returns
    that frame rate and the written frame size ``(width, height)``; raises ``ValueError`` for a video
    without frames."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) / stride
    writer = None
    index = 0
    try:
        while True:
            ok, image = cap.read()
            if not ok:
                break
            if index % stride == 0:
                image = image if transform is None else np.ascontiguousarray(transform(image))
                if writer is None:
                    size = (image.shape[1], image.shape[0])
                    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
                writer.write(image)
            index += 1
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError(f"{video} has no frames")
    return fps, size
