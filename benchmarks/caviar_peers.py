"""The CAVIAR shop clips against a peer, without ground truth: what the peer finds that our defaults do not.

The shop clips have no ground truth here, so no HOTA. What can be counted: the boxes and ids of our
``track`` defaults (``--imgsz auto``, histogram embedder, faint tracks, gap filling; every frame of the
MPEG-1 file) and of an Ultralytics tracker (``--tracker``, default BoT-SORT, at ``--imgsz``, conf 0.1;
on an mp4 re-encode, as its reader stops at frame 2 of the original files), and every peer box that no box
of ours overlaps (IoU < 0.3). Those boxes are grouped by the peer's track; each group of 5 boxes or more is
listed with its frames, mean position and mean score, to be looked at on the frames (docs/real-footage.md
says what they are).

    python benchmarks/caviar_peers.py [--tracker botsort.yaml] [--imgsz 1280] [--out FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import REPO, print_table, rewrite_video, shared_dir
from run_helpers import run_ours, run_ultralytics

from pipeline.boxes import box_iou
from pipeline.detector import default_weights
from pipeline.track_settings import TrackSettings
from pipeline.track_video import load_components

MIN_IOU = 0.3
MIN_BOXES = 5


def xyxy(rows: pd.DataFrame) -> np.ndarray:
    boxes = rows[["x", "y", "w", "h"]].to_numpy(np.float64).copy()
    boxes[:, 2:] += boxes[:, :2]
    return boxes


def unmatched(peer: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """The peer's rows that no box of ours in the same frame overlaps by ``MIN_IOU``."""
    keep = []
    for frame, rows in peer.groupby("frame"):
        mine = ours[ours["frame"] == frame]
        best = box_iou(xyxy(rows), xyxy(mine)).max(axis=1) if len(mine) else np.zeros(len(rows))
        keep.append(rows[best < MIN_IOU])
    return pd.concat(keep) if keep else peer.iloc[:0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracker", default="botsort.yaml", help="an Ultralytics tracker config")
    parser.add_argument("--imgsz", type=int, default=1280, help="the peer's input size")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "caviar_peers.md")
    args = parser.parse_args()
    settings = TrackSettings(imgsz="auto", conf=0.1, embedder="hist")
    components = load_components(settings)
    totals, groups = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in sorted((shared_dir() / "data" / "caviar").glob("*.mpg")):
            mp4 = Path(tmp) / f"{clip.stem}.mp4"
            rewrite_video(clip, mp4)
            ours = run_ours(clip, settings, components)
            peer, _ = run_ultralytics(mp4, args.tracker, default_weights(), args.imgsz, 0.1)
            extra = unmatched(peer, ours.rows)
            totals.append(
                {
                    "clip": clip.stem,
                    "ours imgsz": ours.imgsz,
                    "ours boxes": len(ours.rows),
                    "ours ids": ours.rows["id"].nunique(),
                    "peer boxes": len(peer),
                    "peer ids": peer["id"].nunique(),
                    "peer boxes ours lacks": len(extra),
                }
            )
            print(totals[-1], flush=True)
            for track, rows in extra.groupby("id"):
                if len(rows) >= MIN_BOXES:
                    groups.append(
                        {
                            "clip": clip.stem,
                            "peer id": int(track),
                            "boxes": len(rows),
                            "frames": f"{int(rows['frame'].min())}-{int(rows['frame'].max())}",
                            "x": rows["x"].mean(),
                            "y": rows["y"].mean(),
                            "h": rows["h"].mean(),
                            "score": rows["score"].mean(),
                        }
                    )
    print(f"\nours: track defaults; peer: {args.tracker} at {args.imgsz}, conf 0.1\n")
    print_table(pd.DataFrame(totals), args.out)
    print(f"\npeer tracks with {MIN_BOXES} or more boxes ours lacks (IoU < {MIN_IOU}):\n")
    print_table(pd.DataFrame(groups), args.out.with_name(args.out.stem + "_unmatched.md"))


if __name__ == "__main__":
    main()
