"""Tracker parameters on small people: the TUD sequences as k x k mosaics, with ground truth.

Real shop cameras hang high and show people 40-100 px tall; the TUD sequences show them 130-310 px tall.
A k x k mosaic of each frame (k^2 copies at 1/k scale, same 640 x 480 frame, ground truth copied with
the boxes) gives sequences with small people *and* ground truth. Each mosaic video is written once, our
detector runs once at the size ``--imgsz auto`` picks for it (the inputs our tracker receives are
recorded), and the tracker grid of ``benchmarks/tracking.py`` (track start, low-score pass, gap fill) is
replayed on them and scored with TrackEval (HOTA, IDF1, IDSW), k = 1 (the sequence itself) included.

Printed: every grid point per sequence and mosaic, then per grid point the mean HOTA over all of them
and over each sequence's family, and what ``tracking.choose`` (the rule that picks the shipped
parameters) picks on each family and on everything.

    python benchmarks/tracking_small.py [--mosaics 1 2 3] [--sequences TUD-Campus TUD-Stadtmitte] [--cache DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from autosize import mosaic
from common import REPO, mot_sequences, print_table, rewrite_video
from run_helpers import recorded
from tracking import GRID, choose, replay

from pipeline.evaluate import score_frames
from pipeline.mot_io import read_mot
from pipeline.track_settings import TrackSettings
from pipeline.track_video import load_components, new_tracker
from pipeline.video import probe


def mosaic_video(video: Path, k: int, out: Path) -> tuple[int, int]:
    """Write the k x k mosaic of ``video`` to ``out`` (k = 1: a copy); returns the tile size (width, height)."""
    _, (w, h) = rewrite_video(video, out, lambda image: mosaic(image, np.zeros((0, 4)), k)[0])
    return w // k, h // k


def mosaic_gt(gt: pd.DataFrame, k: int, tile: tuple[int, int], size: tuple[int, int]) -> pd.DataFrame:
    """Ground truth of the k x k mosaic: k^2 copies of every box, scaled into their tiles, ids kept apart."""
    sx, sy = tile[0] / size[0], tile[1] / size[1]
    parts = []
    for r in range(k):
        for c in range(k):
            g = gt.copy()
            g["x"] = g["x"] * sx + c * tile[0]
            g["y"] = g["y"] * sy + r * tile[1]
            g["w"] = g["w"] * sx
            g["h"] = g["h"] * sy
            g["id"] = g["id"] + 100_000 * (r * k + c)
            parts.append(g)
    return pd.concat(parts, ignore_index=True)


def add_mosaic_args(parser) -> None:
    """``--sequences`` (the TUD pair by default) and ``--mosaics`` (k of the k x k mosaics: 1, 2, 3)."""
    parser.add_argument("--sequences", nargs="*", default=["TUD-Campus", "TUD-Stadtmitte"])
    parser.add_argument("--mosaics", type=int, nargs="*", default=[1, 2, 3], help="k of the k x k mosaics")


def mosaic_sequences(
    names: list[str] | None, mosaics: list[int], work: Path
) -> Iterator[tuple[Path, int, Path, pd.DataFrame]]:
    """``(sequence folder, k, video, ground truth)`` for each MOT sequence and each k x k mosaic of it
    (k = 1: the sequence's own video); mosaic videos are written under ``work``."""
    for seq in mot_sequences(names):
        video = seq / f"{seq.name}.mp4"
        gt = read_mot(seq / "gt" / "gt.txt")
        cap = cv2.VideoCapture(str(video))
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        cap.release()
        for k in mosaics:
            path = video if k == 1 else work / f"{seq.name}-{k}x{k}.mp4"
            yield seq, k, path, gt if k == 1 else mosaic_gt(gt, k, mosaic_video(video, k, path), size)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mosaics", type=int, nargs="*", default=[1, 2, 3], help="k of the k x k mosaics")
    parser.add_argument("--sequences", nargs="*")
    parser.add_argument("--embedder", default="hist")
    parser.add_argument("--cache", type=Path, help="keep the recorded inputs here (a pickle per video)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "tracking_small.md")
    args = parser.parse_args()
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq, k, path, gt_k in mosaic_sequences(args.sequences, args.mosaics, Path(tmp)):
            settings = TrackSettings(imgsz="auto", conf=0.1, embedder=args.embedder)
            components = load_components(settings)
            default = new_tracker(components.embedder)
            frames, imgsz = recorded(path, settings, components, args.cache)
            info = probe(path)
            size = (info.width, info.height)
            for params in GRID:
                s = score_frames(gt_k, replay(frames, default, params, size, components.embedder))
                rows.append(
                    {
                        "sequence": seq.name,
                        "mosaic": f"{k}x{k}",
                        "imgsz": imgsz,
                        **params,
                        "HOTA": s.hota,
                        "IDF1": s.idf1,
                        "IDSW": s.idsw,
                    }
                )
            print(f"{seq.name} {k}x{k}: imgsz {imgsz}, {len(GRID)} grid points", flush=True)
    grid = pd.DataFrame(rows)
    print_table(grid, args.out.with_name(args.out.stem + "_grid.md"), floatfmt=".2f")

    keys = list(GRID[0])
    grid["run"] = grid["sequence"] + " " + grid["mosaic"]
    summary = grid.pivot_table(index=keys, columns="run", values="HOTA")
    summary["mean HOTA"] = summary.mean(axis=1)
    for seq, family in grid.groupby("sequence"):
        summary[f"mean {seq}"] = family.groupby(keys)["HOTA"].mean()
    summary = summary.sort_values("mean HOTA", ascending=False).reset_index()
    print_table(summary, args.out, floatfmt=".2f")
    print("\nWhat the rule of tracking.py picks (family = a sequence and its mosaics):")
    for seq, family in grid.groupby("sequence"):
        print(f"  on {seq}: {choose(family)}")
    print(f"  on everything: {choose(grid)}")


if __name__ == "__main__":
    main()
