"""Tracking accuracy and speed: our DeepSORT (each embedder) vs every tracker Ultralytics ships.

For each MOT15 sequence in ../shared, runs end to end (decode + detect + embed + track) with the same
weights, imgsz and conf, scores with TrackEval and prints one table: HOTA, IDF1, MOTA, IDSW, fps, and
fps relative to Ultralytics ByteTrack measured in the same run.

    python benchmarks/tracking.py [--imgsz 960] [--conf 0.1] [--sequences TUD-Campus ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from common import REPO, mot_sequences, print_table
from run_helpers import run_ours, run_ultralytics, tracker_yaml

from pipeline.detector import DEFAULT_BACKEND, default_weights
from pipeline.embedders import available_embedders
from pipeline.evaluate import score_frames
from pipeline.mot_io import read_mot
from pipeline.track_video import DEFAULT_EMBEDDER, TrackSettings

# name -> (ultralytics tracker yaml, overrides)
ULTRALYTICS_TRACKERS = {
    "ByteTrack": ("bytetrack.yaml", {}),
    "BoT-SORT": ("botsort.yaml", {}),
    "BoT-SORT+ReID": ("botsort.yaml", {"with_reid": True}),
    "OC-SORT": ("ocsort.yaml", {}),
    "Deep OC-SORT": ("deepocsort.yaml", {}),
    "TrackTrack": ("tracktrack.yaml", {}),
    "FastTrack": ("fasttrack.yaml", {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imgsz", type=int, default=960)
    parser.add_argument("--conf", type=float, default=0.1)
    parser.add_argument("--sequences", nargs="*")
    parser.add_argument(
        "--embedders", nargs="*", default=None,
        help="our embedders to run (default: none, hist, mobilenet and any installed re-ID model)",
    )
    parser.add_argument("--reid-model", help="model file/dir for osnet/omz embedders")
    parser.add_argument(
        "--backends", nargs="*", default=["torch"],
        help="extra detector backends to run with the default embedder (ours always runs the default backend)",
    )
    parser.add_argument(
        "--ultralytics", nargs="*", default=list(ULTRALYTICS_TRACKERS), choices=list(ULTRALYTICS_TRACKERS),
        help="Ultralytics trackers",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "tracking.md")
    args = parser.parse_args()

    weights = default_weights()
    embedders = args.embedders
    if embedders is None:
        embedders = ["none", "hist", "mobilenet"] + [e for e in ("osnet", "omz") if e in available_embedders()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seq in mot_sequences(args.sequences):
            video = seq / f"{seq.name}.mp4"
            gt = read_mot(seq / "gt" / "gt.txt")
            results: list[tuple[str, pd.DataFrame, float]] = []
            for name in args.ultralytics:
                yaml_name, overrides = ULTRALYTICS_TRACKERS[name]
                pred, fps = run_ultralytics(video, tracker_yaml(yaml_name, overrides, Path(tmp)), weights, args.imgsz, args.conf)
                results.append((f"Ultralytics {name}", pred, fps))
                print(f"{seq.name}: Ultralytics {name} {fps:.2f} fps", flush=True)
            runs = [(emb, None) for emb in embedders] + [(DEFAULT_EMBEDDER, b) for b in args.backends]
            for emb, backend in runs:
                settings = TrackSettings(
                    imgsz=args.imgsz, conf=args.conf, embedder=emb, reid_model=args.reid_model, backend=backend
                )
                pred, fps = run_ours(video, settings)
                label = f"ours DeepSORT ({emb}, {backend or DEFAULT_BACKEND})"
                results.append((label, pred, fps))
                print(f"{seq.name}: {label} {fps:.2f} fps", flush=True)
            byte_fps = next((fps for n, _, fps in results if n == "Ultralytics ByteTrack"), float("nan"))
            for name, pred, fps in results:
                s = score_frames(gt, pred)
                rows.append({
                    "sequence": seq.name, "tracker": name, "HOTA": s.hota, "IDF1": s.idf1, "MOTA": s.mota,
                    "IDSW": s.idsw, "fps": fps, "fps / ByteTrack": fps / byte_fps,
                })
    table = pd.DataFrame(rows)
    print(f"\nimgsz {args.imgsz}, conf {args.conf}, weights {weights.name}, end-to-end fps (decode+detect+track)\n")
    print_table(table, args.out, floatfmt=".2f")


if __name__ == "__main__":
    main()
