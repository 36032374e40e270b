"""The tracker's appearance veto in its IoU stage, chosen leave-one-sequence-out.

DeepSORT's IoU stage lets a confirmed track that the appearance stage left over take any detection its
predicted box overlaps (IoU >= 0.3), however different that detection looks. With small people (the
hidden footage: a high camera, 40-100 px people) a person who walks behind someone is often lost for a
few frames, and the track slides onto the person in front or behind by IoU and keeps that identity.
``DeepSortTracker(appearance_veto=F)`` forbids such an IoU match when the detection's cosine distance to
the track's gallery exceeds ``F`` times the embedder's own appearance gate (``max_cosine_distance``).

For each TUD sequence and its 2x2 / 3x3 mosaics (``tracking_small.py``: people down to 43 px) and each
embedder (the histogram default; OMZ-0287 when ``--omz`` points at it), the recorded tracker inputs are
replayed through the product's offline runner (faint tracks, gap filling) for every ``F`` in ``GRID``.
Held out: ``F`` is chosen on one sequence's videos (both embedders, mean HOTA) and reported on the other
sequence's. The rule: the largest ``F`` (the weakest veto; ``None`` = no veto, deep_sort's behaviour) whose
mean HOTA is within ``TOLERANCE_HOTA`` of the best, so the veto has to beat "no veto" by more than the
noise of one configuration. The shipped default is the same rule applied to both sequences.

    python benchmarks/appearance_veto.py [--omz MODEL.xml] [--cache DIR]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import pandas as pd
from common import REPO, metric_columns, print_grid_and_held_out, side_by_side
from faint import default_components, frame_size, replay
from run_helpers import recorded
from tracking import TOLERANCE_HOTA
from tracking_small import add_mosaic_args, mosaic_sequences

from pipeline.evaluate import score_frames
from pipeline.track_settings import TrackSettings
from pipeline.track_video import load_components
from pipeline.tracking.tracker import DeepSortTracker

GRID = (None, 1.0, 1.25, 1.5, 2.0, 3.0)
NO_VETO = math.inf  # how ``None`` is written in the tables (and sorts: the weakest veto of all)


def choose(grid: pd.DataFrame) -> float:
    """The ``F`` the rule picks on ``grid`` (rows of any videos and embedders): the weakest veto within
    ``TOLERANCE_HOTA`` of the best mean HOTA."""
    mean = grid.groupby("veto")["HOTA"].mean()
    return float(mean[mean >= mean.max() - TOLERANCE_HOTA].index.max())


def held_out(grid: pd.DataFrame) -> pd.DataFrame:
    """Per sequence: ``F`` chosen on the other sequence, and its rows next to the no-veto rows."""
    out = []
    for seq in grid["sequence"].unique():
        pick = choose(grid[grid["sequence"] != seq])
        rows = grid[grid["sequence"] == seq]
        for (video, emb), g in rows.groupby(["video", "embedder"], sort=False):
            base = g[g["veto"] == NO_VETO].iloc[0]
            got = g[g["veto"] == pick].iloc[0]
            out.append(
                {
                    "video (held out)": video,
                    "embedder": emb,
                    "F chosen on": next(s for s in grid["sequence"].unique() if s != seq),
                    "F": pick,
                    **side_by_side(base, got, "no veto", "held out"),
                }
            )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_mosaic_args(parser)
    parser.add_argument("--omz", help="an OMZ person-reidentification IR (.xml) to run as a second embedder")
    parser.add_argument("--cache", type=Path, help="keep the recorded inputs here (a pickle per video)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "appearance_veto.md")
    args = parser.parse_args()
    embedders = [("hist", *default_components(args.cache), args.cache)]
    if args.omz:
        settings = TrackSettings(imgsz="auto", conf=0.1, embedder="omz", reid_model=args.omz)
        cache = None if args.cache is None else args.cache / "omz"
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
        embedders.append(("omz", settings, load_components(settings), cache))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq, k, path, gt in mosaic_sequences(args.sequences, args.mosaics, Path(tmp)):
            video = seq.name if k == 1 else f"{seq.name} {k}x{k}"
            for name, settings, components, cache in embedders:
                frames, imgsz = recorded(path, settings, components, cache)
                for veto in GRID:
                    pred, _ = replay(frames, components, True, frame_size(path), appearance_veto=veto)
                    s = score_frames(gt, pred)
                    rows.append(
                        {
                            "sequence": seq.name,
                            "video": video,
                            "embedder": name,
                            "imgsz": imgsz,
                            "veto": NO_VETO if veto is None else veto,
                            **metric_columns(s),
                        }
                    )
                print(f"{video} ({name}, imgsz {imgsz}) done", flush=True)
    grid = pd.DataFrame(rows)
    print_grid_and_held_out(grid, held_out(grid), args.out)
    shipped = DeepSortTracker().appearance_veto
    pick = choose(grid)
    print(f"\nthe rule on every video picks F = {pick}; the tracker ships F = {shipped}")


if __name__ == "__main__":
    main()
