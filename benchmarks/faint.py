"""Faint tracks (pipeline.tracking.faint): what they add on every video the project has.

Each video's tracker inputs are recorded once (the product's detector at the size ``--imgsz auto`` picks,
histogram embedder, every frame; ``run_helpers.record_inputs``) and replayed through the product's offline
runner twice, without and with faint tracks. Videos: the five CAVIAR shop clips (no ground truth: the
tracks added are listed and were checked by eye, docs/real-footage.md), and TUD-Campus and TUD-Stadtmitte
with their k x k mosaics (small people, ground truth: HOTA / IDF1 / MOTA without and with).

The promotion rule (a faint track must move ``MIN_SHIFT`` median box heights) was set by looking at the
CAVIAR clips and the two TUD sequences; the mosaics were not used to set it.

Per video: the tracks without / with, the faint tracks the second tracker confirmed, how many became
people, the largest movement of a faint track that did not (in median box heights, the measure of the rule),
the smallest of one that did, and the boxes added.

``--every K`` replays only every K-th recorded frame (what ``--stride K`` would give the tracker).

    python benchmarks/faint.py [--mosaics 1 2 3] [--cache DIR] [--every K] [--out FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import REPO, print_table, shared_dir
from run_helpers import recorded, replay_runner
from tracking_small import mosaic_sequences

from pipeline.evaluate import score_frames
from pipeline.track_settings import TrackSettings
from pipeline.track_video import feature_reuse, load_components, new_tracker
from pipeline.tracking.faint import MIN_SHIFT
from pipeline.tracking.offline import OfflineTrackRunner
from pipeline.video import probe


def replay(
    frames, components, faint: bool, frame_size: tuple[int, int] | None, **tracker_overrides: object
) -> tuple[pd.DataFrame, OfflineTrackRunner]:
    """MOT rows of the product's runner over recorded inputs, and the runner (its faint-track record);
    ``frame_size`` (width, height) as ``track_video`` passes it; ``tracker_overrides``: other
    ``DeepSortTracker`` arguments than the product's. For an embedder whose features the product reuses
    (not the histogram), ``frames`` must hold every box's feature (as ``run_helpers.recorded`` records them):
    the product's reuse is replayed over them."""
    tracker = new_tracker(components.embedder, **tracker_overrides)
    runner = OfflineTrackRunner(tracker, faint=faint, frame_size=frame_size)
    return replay_runner(frames, runner, reuse=feature_reuse(components.embedder)), runner


def default_components(cache: Path | None):
    """The product's default tracking settings (auto size, histogram, conf 0.1) and their loaded
    components; makes the recorded-inputs ``cache`` folder when given."""
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    settings = TrackSettings(imgsz="auto", conf=0.1, embedder="hist")
    return settings, load_components(settings)


def frame_size(video: Path) -> tuple[int, int]:
    info = probe(video)
    return info.width, info.height


def row(name: str, imgsz: int, frames, components, gt: pd.DataFrame | None, size: tuple[int, int]) -> dict:
    off, _ = replay(frames, components, faint=False, frame_size=size)
    on, runner = replay(frames, components, faint=True, frame_size=size)
    faint = runner.faint
    kept = [faint.largest_shift[f] for f in faint.people]
    dropped = [s for f, s in faint.largest_shift.items() if f not in faint.people]
    out = {
        "video": name,
        "imgsz": imgsz,
        "frames": len(frames),
        "tracks without": off["id"].nunique(),
        "tracks with": on["id"].nunique(),
        "faint tracks": len(faint.largest_shift),
        "became people": len(kept),
        "largest shift not kept": max(dropped, default=float("nan")),
        "smallest shift kept": min(kept, default=float("nan")),
        "boxes added": len(on) - len(off),
    }
    if gt is not None:
        for label, pred in (("without", off), ("with", on)):
            s = score_frames(gt, pred)
            out |= {f"HOTA {label}": s.hota, f"IDF1 {label}": s.idf1, f"MOTA {label}": s.mota}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mosaics", type=int, nargs="*", default=[1, 2, 3], help="k of the TUD k x k mosaics"
    )
    parser.add_argument("--cache", type=Path, help="keep the recorded inputs here (a pickle per video)")
    parser.add_argument("--every", type=int, default=1, help="replay every K-th recorded frame only")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "faint.md")
    args = parser.parse_args()
    settings, components = default_components(args.cache)
    rows = []
    for clip in sorted((shared_dir() / "data" / "caviar").glob("*.mpg")):
        frames, imgsz = recorded(clip, settings, components, args.cache)
        rows.append(row(clip.stem, imgsz, frames[:: args.every], components, None, frame_size(clip)))
        print(f"{clip.stem}: imgsz {imgsz}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for seq, k, path, gt_k in mosaic_sequences(["TUD-Campus", "TUD-Stadtmitte"], args.mosaics, Path(tmp)):
            frames, imgsz = recorded(path, settings, components, args.cache)
            frames = frames[:: args.every]
            name = seq.name if k == 1 else f"{seq.name} {k}x{k}"
            kept = {index + 1 for index, _, _ in frames}
            rows.append(
                row(name, imgsz, frames, components, gt_k[gt_k["frame"].isin(kept)], frame_size(path))
            )
            print(f"{name}: imgsz {imgsz}", flush=True)
    table = pd.DataFrame(rows)
    print(
        f"\nfaint tracks become people after moving {MIN_SHIFT} median box heights; "
        f"every {args.every} recorded frame(s)\n"
    )
    print_table(table, args.out, floatfmt=".2f")
    gains = table.dropna(subset=["HOTA with"])
    print(
        f"\nwith ground truth: HOTA {np.mean(gains['HOTA with'] - gains['HOTA without']):+.2f}, "
        f"IDF1 {np.mean(gains['IDF1 with'] - gains['IDF1 without']):+.2f} on average"
    )


if __name__ == "__main__":
    main()
