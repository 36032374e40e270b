"""The tracker's border exit rule: what it does where people walk out at the frame's edge, and where the
edge cuts people who stay (a high camera whose bottom edge cuts the shoppers below it).

A confirmed track whose last box touched the frame's border and whose velocity points out through that
side ends on its first missed detection (``DeepSortTracker(frame_size=...)``); without the rule it coasts
for up to ``max_age`` and may take the next person who walks in there. Each video's tracker inputs are
recorded once (the product's detector at the size ``--imgsz auto`` picks, histogram embedder;
``run_helpers.record_inputs``) and replayed through the product's offline runner with the rule and
without it. Videos, at 25 fps and at every 3rd frame (8.3 fps, what a low-rate recorder stores):

- *bottom cut*: TUD-Campus and TUD-Stadtmitte cut to their top 75 % and 60 % (the bottom edge cuts the
  people nearest the camera; ground truth clipped, boxes less than half inside dropped);
- *strip*: every camera of ``multicam.py``'s layouts (people walk out at the left and right edges);
- *full*: the two sequences as they are;
- the five CAVIAR shop clips (no ground truth: tracks counted).

No setting is tuned here. Four forms of the rule were compared on these videos (2026-12-07, fourth
session: any track touching the border; velocity outward; velocity outward by 1 or 1.645 standard
deviations) and the second ships; the table in docs/benchmarks.md says what each did.

    python benchmarks/border.py [--cache DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from common import REPO, gt_above, mot_sequences, print_table, rewrite_video, shared_dir
from low_fps import every_nth_gt
from multicam import LAYOUTS, parse_crops, split_gt
from run_helpers import recorded, replay_runner

from pipeline.evaluate import score_frames
from pipeline.mot_io import read_mot
from pipeline.track_settings import TrackSettings
from pipeline.track_video import load_components, new_tracker
from pipeline.tracking.offline import OfflineTrackRunner
from pipeline.video import probe

BOTTOM_KEPT = (0.75, 0.6)  # fraction of the frame's height kept from the top
STRIDES = (1, 3)


Video = tuple[str, str, int, Callable[[np.ndarray], np.ndarray], pd.DataFrame]


def tud_videos() -> Iterator[tuple[Path, Video]]:
    """``(source video, (name, kind, stride, crop, ground truth))`` for every cut of both sequences."""
    for seq in mot_sequences(["TUD-Campus", "TUD-Stadtmitte"]):
        gt = read_mot(seq / "gt" / "gt.txt")
        gt = gt[gt["score"] != 0]
        video = seq / f"{seq.name}.mp4"
        height = probe(video).height
        for stride in STRIDES:
            yield video, (f"{seq.name}", "full", stride, lambda im: im, every_nth_gt(gt, stride))
            for frac in BOTTOM_KEPT:
                y = int(frac * height)
                cut = gt_above(gt, y)
                yield (
                    video,
                    (
                        f"{seq.name} top {frac:.0%}",
                        "bottom cut",
                        stride,
                        lambda im, y=y: im[:y],
                        every_nth_gt(cut, stride),
                    ),
                )
            for layout in LAYOUTS:
                crops = parse_crops(layout)
                for k, (part, (x0, x1)) in enumerate(zip(split_gt(gt, crops), crops)):
                    name = f"{seq.name} {layout} cam{k}"
                    yield (
                        video,
                        (
                            name,
                            "strip",
                            stride,
                            lambda im, x0=x0, x1=x1: im[:, x0:x1],
                            every_nth_gt(part, stride),
                        ),
                    )


def replay(frames, components, size: tuple[int, int], rule: bool) -> pd.DataFrame:
    tracker = new_tracker(components.embedder)
    runner = OfflineTrackRunner(tracker, frame_size=size)  # tells the tracker the frame size
    if not rule:
        tracker.frame_size = None  # the runner's own edge checks stay
    return replay_runner(frames, runner)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, help="keep the videos and recorded inputs here")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "border.md")
    args = parser.parse_args()
    settings = TrackSettings(imgsz="auto", conf=0.1, embedder="hist")
    components = load_components(settings)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.cache or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for source, (name, kind, stride, crop, gt) in tud_videos():
            path = (
                work
                / f"{name.replace(' ', '_').replace(':', '-').replace(',', '_').replace('%', '')}-s{stride}.mp4"
            )
            if not path.is_file():
                rewrite_video(source, path, crop, stride=stride)
            frames, _ = recorded(path, settings, components, work)
            info = probe(path)
            row = {"video": name, "kind": kind, "fps": round(info.fps, 1), "gt boxes": len(gt)}
            for label, rule in (("without", False), ("with", True)):
                s = score_frames(gt, replay(frames, components, (info.width, info.height), rule))
                row |= {f"HOTA {label}": s.hota, f"IDF1 {label}": s.idf1}
            rows.append(row)
            print(row, flush=True)
        caviar = []
        for clip in sorted((shared_dir() / "data" / "caviar").glob("*.mpg")):
            frames, _ = recorded(clip, settings, components, work)
            info = probe(clip)
            row = {"clip": clip.stem, "fps": round(info.fps, 1)}
            for label, rule in (("without", False), ("with", True)):
                row[f"tracks {label}"] = replay(frames, components, (info.width, info.height), rule)[
                    "id"
                ].nunique()
            caviar.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    print_table(table, args.out, floatfmt=".2f")
    summary = (
        table.groupby(["kind", "fps"], sort=False)
        .agg(
            videos=("video", "size"),
            **{
                f"{m} {label}": (f"{m} {label}", "mean")
                for m in ("HOTA", "IDF1")
                for label in ("without", "with")
            },
        )
        .reset_index()
    )
    print("\nMeans per kind of video:\n")
    print_table(summary, args.out.with_name(args.out.stem + "_summary.md"), floatfmt=".2f")
    print("\nCAVIAR shop clips (no ground truth), tracks:\n")
    print_table(pd.DataFrame(caviar), args.out.with_name(args.out.stem + "_caviar.md"))


if __name__ == "__main__":
    main()
