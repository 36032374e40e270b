"""Why cross-camera hand-offs are missed: every true hand-off of a ``multicam.py`` run, with its cause.

Reads the databases a ``benchmarks/multicam.py`` run left in ``--work`` (no video is read), recomputes
the cross-camera assignment with the shipped settings (mode ``full``), and, per true hand-off (a GT person
leaving one camera and next seen in another), finds the tracklet that saw the end of the person's run in
the first camera and the one that saw the start in the second (IoU >= 0.5 majority, as ``multicam.py``
scores). A hand-off that was not joined gets the first cause that applies:

- ``not tracked``: no tracklet matches the person on one side;
- ``track mixes people``: the tracklet on one side is mostly another person (a tracker error that
  splitting at identity switches did not undo);
- ``ruled out by space/time``: the two tracklets cannot be one person by the constraints;
- ``over threshold``: their appearance distance is above the match threshold;
- ``ambiguous``: within the threshold, but another person was about as close (the margin) or the
  clustering joined one side elsewhere;
- ``run split in its camera``: the two tracklets were joined, but the person's run in one camera is
  mostly another tracklet with another id.

Each missed hand-off also gets its *shortest run*: the GT frames of the shorter of the person's two runs
(the one before and the one after the hand-off). A run of a few frames is a person glimpsed at a strip's
edge, often at the clip's first or last frames, which no tracker confirms.

*Joined* is ``multicam.py``'s rule: the id seen most over the person's run before the hand-off equals the
one seen most over the run after it.

    python benchmarks/multicam_misses.py --work DIR [--stride K] [--embedders hist omz] [--sequences ...]

Prints the counts per sequence and embedder, then every missed hand-off; the tables go to
``benchmarks/results/multicam_misses.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

if __package__:  # imported as benchmarks.multicam_misses (the tests): leave sys.path alone
    from benchmarks import multicam as mc
    from benchmarks.common import REPO, every_nth, mot_sequences, print_table
else:  # run as a script, like every benchmark
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import multicam as mc
    from common import REPO, every_nth, mot_sequences, print_table

CAUSES = (
    "not tracked",
    "track mixes people",
    "ruled out by space/time",
    "over threshold",
    "ambiguous",
    "run split in its camera",
)


def tracklet_people(tracklets, boxes: dict[int, pd.DataFrame], gt: pd.DataFrame) -> pd.DataFrame:
    """Matched (GT row, tracklet) pairs: columns ``id``, ``run``, ``frame`` (GT) and ``tracklet`` (index)."""
    pred = []
    for i, t in enumerate(tracklets):
        cam = int(t.camera.removeprefix("cam"))
        b = boxes[cam]
        sel = (b["id"] == t.key[1]) & (b["frame"] >= t.first_frame + 1) & (b["frame"] <= t.last_frame + 1)
        pred.append(b[sel].assign(camera=cam, tracklet=i))
    pred = pd.concat(pred, ignore_index=True)
    m = mc.match_boxes(gt, pred)
    g, p = gt.loc[m["gt_row"]].reset_index(drop=True), pred.loc[m["pred_row"]].reset_index(drop=True)
    return pd.concat([g[["id", "run", "frame"]], p[["tracklet"]]], axis=1)


def majority_id(labels: np.ndarray, seen: pd.DataFrame) -> int:
    """The shopper label most of a run's matched boxes carry (ties: the smallest)."""
    return int(pd.Series(labels[seen["tracklet"].to_numpy()]).mode().iloc[0])


def missed_handoffs(db_path: Path, gt_split: list[pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """Every true hand-off of one processed store, with ``joined`` and (when missed) ``cause``; and the
    number of true hand-offs."""
    from pipeline.db import connect
    from pipeline.db import tracks as db
    from pipeline.reid.assign import assign
    from pipeline.reid.constraints import feasibility_matrix
    from pipeline.reid.store import load_tracklets, site_calibration, stored_reid_config

    conn = connect(db_path)
    try:
        tracklets, rows = load_tracklets(conn, split=True)
        config = stored_reid_config(conn)
        embedder = rows.attrs["embedder"]
        calibration = site_calibration(conn, tracklets, config, embedder)  # as `reid` does
        config = config.for_embedder(embedder, calibration.threshold)
        boxes = {k: db.camera_track_rows(conn, f"cam{k}", use_shopper_id=False) for k in range(len(gt_split))}
    finally:
        conn.close()
    feasible = feasibility_matrix(tracklets, config)
    labels = assign(tracklets, config, "full", None, feasible).labels
    gt = mc.with_runs(pd.concat([d.assign(camera=k) for k, d in enumerate(gt_split)], ignore_index=True))
    seen = tracklet_people(tracklets, boxes, gt)
    person = seen.groupby("tracklet")["id"].agg(lambda s: int(s.value_counts().index[0])).to_dict()
    out = []
    for ident, d in gt.groupby("id"):
        for r in range(int(d["run"].max())):
            before = seen[(seen["id"] == ident) & (seen["run"] == r)].sort_values("frame")
            after = seen[(seen["id"] == ident) & (seen["run"] == r + 1)].sort_values("frame")
            row = {
                "person": int(ident),
                "frame": int(d.loc[d["run"] == r, "frame"].max()),
                "shortest run": int(min((d["run"] == r).sum(), (d["run"] == r + 1).sum())),
            }
            if before.empty or after.empty:
                out.append({**row, "joined": False, "cause": CAUSES[0]})
                continue
            a, b = int(before["tracklet"].iloc[-1]), int(after["tracklet"].iloc[0])
            ta, tb = tracklets[a], tracklets[b]
            dist = 1.0 - float(np.dot(ta.embedding, tb.embedding))
            row |= {"cameras": f"{ta.camera}->{tb.camera}", "distance": dist}
            if majority_id(labels, before) == majority_id(labels, after):
                cause = None
            elif person[a] != ident or person[b] != ident:
                cause = CAUSES[1]
            elif not feasible[a, b]:
                cause = CAUSES[2]
            elif dist > config.match_threshold:
                cause = CAUSES[3]
            elif labels[a] == labels[b]:
                cause = CAUSES[5]
            else:
                cause = CAUSES[4]
            out.append({**row, "joined": cause is None, "cause": cause})
    return pd.DataFrame(out), config.match_threshold


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequences", nargs="*", default=["TUD-Campus", "TUD-Stadtmitte"])
    parser.add_argument("--embedders", nargs="*", default=["hist", "omz"])
    parser.add_argument(
        "--stride", type=int, default=1, help="the --stride the multicam.py run used (scored on those frames)"
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "shopper_multicam")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "multicam_misses.md")
    args = parser.parse_args()

    from pipeline.mot_io import read_mot

    rows = []
    for seq in mot_sequences(args.sequences):
        gt = every_nth(read_mot(seq / "gt" / "gt.txt"), args.stride)
        for layout in mc.LAYOUTS:
            crops = mc.parse_crops(layout)
            work = args.work / seq.name / "_".join(f"{x0}-{x1}" for x0, x1 in crops)
            for emb in args.embedders:
                db_path = work / f"store-{emb}.duckdb"
                if not db_path.is_file():
                    sys.exit(
                        f"error: {db_path} is missing: run benchmarks/multicam.py --work {args.work} first"
                    )
                table, threshold = missed_handoffs(db_path, mc.split_gt(gt, crops))
                rows.append(table.assign(sequence=seq.name, layout=layout, embedder=emb, threshold=threshold))
    table = pd.concat(rows, ignore_index=True)
    counts = (
        table.assign(cause=table["cause"].fillna("joined"))
        .pivot_table(
            index=["sequence", "embedder"], columns="cause", values="person", aggfunc="count", fill_value=0
        )
        .reindex(columns=["joined", *CAUSES], fill_value=0)
        .reset_index()
    )
    counts.columns.name = None
    print("Hand-offs by outcome (shipped settings, mode full):\n")
    print_table(counts, args.out)
    missed = table[~table["joined"]][
        [
            "sequence",
            "layout",
            "embedder",
            "person",
            "frame",
            "shortest run",
            "cameras",
            "distance",
            "threshold",
            "cause",
        ]
    ]
    print(
        "\nEvery missed hand-off (frame: the person's last in the first camera; shortest run: GT frames of"
        " the shorter of the person's two runs, before and after):\n"
    )
    print_table(missed, args.out.with_name(args.out.stem + "_detail.md"), floatfmt=".3f")


if __name__ == "__main__":
    main()
