"""Speed: our `track` pipeline per detector backend vs Ultralytics `model.track` (ByteTrack).

Every configuration runs in its own child process (so peak memory is its own), on each shared MOT15
sequence, with the same weights, imgsz and conf. fps is end to end (decode + detect + embed + track,
model loading excluded); "x ByteTrack" is the ratio to Ultralytics ByteTrack at the same imgsz in the
same run. HOTA/IDF1 are TrackEval scores; sampled runs (--sample-fps) are scored on the frames they
processed.

    python benchmarks/speed.py [--imgsz 960 640] [--sequences TUD-Campus] [--multicam]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from common import REPO, mot_sequences, print_table

CONFIGS = {
    "Ultralytics ByteTrack (torch)": {"ultralytics": "bytetrack.yaml"},
    "ours (torch)": {"backend": "torch"},
    "ours (onnx)": {"backend": "onnx"},
    "ours (openvino, default)": {"backend": "openvino"},
    "ours (openvino, 2x2 tiles)": {"backend": "openvino", "tiles": 2},
    "ours (openvino, 5 fps sampled)": {"backend": "openvino", "sample_fps": 5.0},
}


def child(args: argparse.Namespace) -> None:
    """Run one configuration and print one JSON line."""
    from run_helpers import run_ours, run_ultralytics

    from pipeline.detector import default_weights
    from pipeline.evaluate import score_frames
    from pipeline.mot_io import read_mot
    from pipeline.track_video import TrackSettings

    cfg = json.loads(args.child)
    video = Path(cfg["video"])
    gt = read_mot(video.parent / "gt" / "gt.txt")
    if "ultralytics" in cfg:
        pred, fps = run_ultralytics(video, cfg["ultralytics"], default_weights(), cfg["imgsz"], cfg["conf"])
    else:
        settings = TrackSettings(
            imgsz=cfg["imgsz"], conf=cfg["conf"], backend=cfg.get("backend"), tiles=cfg.get("tiles", 1),
            sample_fps=cfg.get("sample_fps"),
        )
        pred, fps = run_ours(video, settings)
        if cfg.get("sample_fps"):
            step = max(1, round(25 / cfg["sample_fps"]))
            gt = gt[(gt["frame"] - 1) % step == 0]
    s = score_frames(gt, pred)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"fps": fps, "HOTA": s.hota, "IDF1": s.idf1, "peak_MB": peak_mb}))


def run_child(cfg: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(cfg)], capture_output=True, text=True, cwd=REPO
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imgsz", nargs="*", type=int, default=[960, 640])
    parser.add_argument("--conf", type=float, default=0.1)
    parser.add_argument("--sequences", nargs="*")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "speed.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    for seq in mot_sequences(args.sequences):
        for imgsz in args.imgsz:
            results = {}
            for name in args.configs:
                cfg = {**CONFIGS[name], "video": str(seq / f"{seq.name}.mp4"), "imgsz": imgsz, "conf": args.conf}
                start = time.perf_counter()
                results[name] = run_child(cfg)
                print(f"{seq.name} {imgsz} {name}: {results[name]} ({time.perf_counter() - start:.0f} s)", flush=True)
            base = results.get("Ultralytics ByteTrack (torch)", {}).get("fps", float("nan"))
            for name, r in results.items():
                rows.append({"sequence": seq.name, "imgsz": imgsz, "config": name, **r, "x ByteTrack": r["fps"] / base})
    table = pd.DataFrame(rows)[["sequence", "imgsz", "config", "HOTA", "IDF1", "fps", "x ByteTrack", "peak_MB"]]
    print()
    print_table(table, args.out, floatfmt=".2f")


if __name__ == "__main__":
    main()
