"""Reusing a lone person's feature from the previous frame (``pipeline.embedders.reuse``), chosen held out.

A learned re-ID model is the slowest stage of ``track`` on a CPU. A box that clearly is the same lone
person as a box of the previous frame (IoU >= ``min_iou`` with it, no other box of either frame above
``max_other_iou``, not touching the frame's edge) can take that box's feature, for at most ``max_reuse``
frames in a row. This measures,
per grid point, the share of embeddings saved and what it costs in accuracy.

For each TUD sequence and its 2x2 / 3x3 mosaics (people down to 43 px, ``tracking_small.py``) and each
embedder given, the tracker's inputs are recorded once with *every* confident box embedded; each grid
point then replays the product's reuse over those features (a reused box takes exactly the feature its
predecessor was given) and the product's tracker and offline runner, scored with TrackEval.

Held out: the grid point is chosen on one sequence's videos (every embedder given) and reported on the
other's. The rule: the largest mean saving among the points that keep HOTA and IDF1 within
``TOLERANCE_HOTA`` of embedding every box on every one of those videos (``tracking.py``'s tolerance: the
spread of one configuration across backends and reruns). The shipped default is the same rule applied to
both sequences.

    python benchmarks/feature_reuse.py --embedders omz=MODEL.xml [omz-0288=OTHER.xml] [--cache DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from itertools import product
from pathlib import Path

import pandas as pd
from common import REPO, metric_columns, print_grid_and_held_out, side_by_side
from faint import frame_size
from run_helpers import recorded, replay_tracker
from tracking import TOLERANCE_HOTA
from tracking_small import add_mosaic_args, mosaic_sequences

from pipeline.embedders import reuse as reuse_module
from pipeline.evaluate import score_frames
from pipeline.track_settings import TrackSettings
from pipeline.track_video import load_components, new_tracker

# (min_iou, max_other_iou, max_reuse); (1, 0, 0) stands for "embed every box" (nothing is ever reused).
OFF = (1.0, 0.0, 0)
GRID = [OFF, *product((0.6, 0.7, 0.8), (0.05, 0.1, 0.2, 0.3), (1, 2, 3, 4))]
KEYS = ("min_iou", "max_other_iou", "max_reuse")


def replay_with_reuse(frames, components, params: tuple[float, float, int], size: tuple[int, int]):
    """MOT rows of the product's tracker and runner fed ``frames`` (every confident box embedded) as the
    product's reuse at ``params`` would feed them (``run_helpers.replay_tracker``), and the numbers of
    confident boxes embedded and reused; ``size``: the video's ``(width, height)``."""
    state = reuse_module.FeatureReuse(*params)
    pred = replay_tracker(frames, new_tracker(components.embedder), frame_size=size, reuse=state)
    return pred, state.embedded, state.reused


def choose(grid: pd.DataFrame) -> tuple:
    """The grid point the rule picks on ``grid`` (rows of any videos and embedders): the largest mean
    saving among the points that keep HOTA and IDF1 within ``TOLERANCE_HOTA`` of embedding every box on
    *every* video and embedder (no video may pay for another's saving); ties go to the most careful point
    (highest IoU, lowest rival overlap, fewest frames in a row)."""
    keys = ["video", "embedder"]
    base = grid[grid["min_iou"] == OFF[0]].set_index(keys)
    candidates = []
    for params, g in grid.groupby(list(KEYS)):
        g = g.set_index(keys)
        if all((g[m] >= base[m] - TOLERANCE_HOTA).all() for m in ("HOTA", "IDF1")):
            candidates.append((g["saved %"].mean(), -params[0], params[1], -params[2], params))
    params = max(candidates)[-1]
    return (float(params[0]), float(params[1]), int(params[2]))


def held_out(grid: pd.DataFrame) -> pd.DataFrame:
    """Per sequence: the point chosen on the other sequence, its rows next to "embed every box"."""
    out = []
    sequences = list(grid["sequence"].unique())
    for seq in sequences:
        other = next(s for s in sequences if s != seq)
        pick = choose(grid[grid["sequence"] == other])
        for (video, emb), g in grid[grid["sequence"] == seq].groupby(["video", "embedder"], sort=False):
            base = g.set_index(list(KEYS)).loc[OFF]
            got = g.set_index(list(KEYS)).loc[pick]
            out.append(
                {
                    "video (held out)": video,
                    "embedder": emb,
                    "chosen on": other,
                    "min IoU / max other / max reuse": "{} / {} / {}".format(*pick),
                    "embeddings saved %": got["saved %"],
                    **side_by_side(base, got, "every box", "reuse"),
                }
            )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_mosaic_args(parser)
    parser.add_argument(
        "--embedders",
        nargs="+",
        required=True,
        metavar="NAME=MODEL",
        help="learned embedders to measure, each a label and its model file (e.g. omz=....xml)",
    )
    parser.add_argument("--cache", type=Path, help="keep the recorded inputs here (a pickle per video)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "feature_reuse.md")
    args = parser.parse_args()

    embedders = []
    for spec in args.embedders:
        label, _, model = spec.partition("=")
        kind = "osnet" if model.endswith(".onnx") else "omz"
        settings = TrackSettings(imgsz="auto", conf=0.1, embedder=kind, reid_model=model or None)
        embedders.append((label, settings, load_components(settings)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq, k, path, gt in mosaic_sequences(args.sequences, args.mosaics, Path(tmp)):
            video = seq.name if k == 1 else f"{seq.name} {k}x{k}"
            for label, settings, components in embedders:
                cache = None if args.cache is None else args.cache / label
                if cache is not None:
                    cache.mkdir(parents=True, exist_ok=True)
                frames, imgsz = recorded(path, settings, components, cache)
                size = frame_size(path)
                for params in GRID:
                    pred, embedded, reused = replay_with_reuse(frames, components, params, size)
                    s = score_frames(gt, pred)
                    rows.append(
                        {
                            "sequence": seq.name,
                            "video": video,
                            "embedder": label,
                            "imgsz": imgsz,
                            **dict(zip(KEYS, params)),
                            "saved %": 100.0 * reused / max(embedded + reused, 1),
                            **metric_columns(s, ("HOTA", "IDF1", "IDSW")),
                        }
                    )
                print(f"{video} ({label}, imgsz {imgsz}) done", flush=True)
    grid = pd.DataFrame(rows)
    print_grid_and_held_out(grid, held_out(grid), args.out)
    defaults = (reuse_module.MIN_IOU, reuse_module.MAX_OTHER_IOU, reuse_module.MAX_REUSE)
    print(f"\nthe rule on every video picks {choose(grid)}; the product ships {defaults}")


if __name__ == "__main__":
    main()
