"""Tracking accuracy and speed: our DeepSORT (each embedder) vs every tracker Ultralytics ships.

For each MOT15 sequence in ../shared, runs end to end (decode + detect + embed + track) with the same
weights, imgsz and conf, scores with TrackEval and prints one table: HOTA, IDF1, MOTA, IDSW, fps, and
fps relative to Ultralytics ByteTrack measured in the same run.

    python benchmarks/tracking.py [--imgsz 960] [--conf 0.1] [--sequences TUD-Campus ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from common import REPO, mot_sequences, print_table

from pipeline.detector import default_weights, ultralytics_module
from pipeline.embedders import available_embedders
from pipeline.evaluate import score_frames
from pipeline.mot_io import read_mot
from pipeline.track_video import TrackSettings, load_components, track_video

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


def _tracker_yaml(name: str, overrides: dict, tmp: Path) -> str:
    if not overrides:
        return name
    ultralytics = ultralytics_module()
    base = Path(ultralytics.__file__).parent / "cfg" / "trackers" / name
    cfg = yaml.safe_load(base.read_text())
    cfg.update(overrides)
    out = tmp / f"{base.stem}_{'_'.join(overrides)}.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return str(out)


def run_ultralytics(video: Path, tracker: str, weights: Path, imgsz: int, conf: float) -> tuple[pd.DataFrame, float]:
    """Ultralytics ``model.track`` end to end; returns MOT rows and frames/s (model load excluded)."""
    model = ultralytics_module().YOLO(str(weights))
    model.predict(str(video), imgsz=imgsz, conf=conf, classes=[0], verbose=False, max_det=1, vid_stride=1000)
    rows, frames = [], 0
    start = time.perf_counter()
    for i, result in enumerate(
        model.track(str(video), imgsz=imgsz, conf=conf, classes=[0], tracker=tracker, stream=True, verbose=False)
    ):
        frames += 1
        boxes = result.boxes
        if boxes is None or boxes.id is None:
            continue
        for (x1, y1, x2, y2), tid, score in zip(
            boxes.xyxy.tolist(), boxes.id.int().tolist(), boxes.conf.tolist()
        ):
            rows.append((i + 1, tid, x1, y1, x2 - x1, y2 - y1, score))
    fps = frames / (time.perf_counter() - start)
    return pd.DataFrame(rows, columns=["frame", "id", "x", "y", "w", "h", "score"]), fps


def run_ours(video: Path, settings: TrackSettings) -> tuple[pd.DataFrame, float]:
    """Our ``track`` pipeline end to end; returns MOT rows and frames/s (model load excluded)."""
    components = load_components(settings)
    import cv2

    warm = cv2.VideoCapture(str(video)).read()[1]
    components.detector(warm)
    rows, frames = [], 0
    start = time.perf_counter()
    last = -1
    for f in track_video(video, settings, components, progress=False):
        frames += f.frame - last
        last = f.frame
        d = f.detections
        for tid, box, score in zip(d.track_id.tolist(), d.tlwh.tolist(), d.confidence.tolist()):
            rows.append((f.frame + 1, tid, *box, score))
    fps = frames / (time.perf_counter() - start)
    return pd.DataFrame(rows, columns=["frame", "id", "x", "y", "w", "h", "score"]), fps


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
    parser.add_argument("--ultralytics", nargs="*", default=list(ULTRALYTICS_TRACKERS), help="Ultralytics trackers")
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
                pred, fps = run_ultralytics(video, _tracker_yaml(yaml_name, overrides, Path(tmp)), weights, args.imgsz, args.conf)
                results.append((f"Ultralytics {name}", pred, fps))
                print(f"{seq.name}: Ultralytics {name} {fps:.2f} fps", flush=True)
            for emb in embedders:
                settings = TrackSettings(imgsz=args.imgsz, conf=args.conf, embedder=emb, reid_model=args.reid_model)
                pred, fps = run_ours(video, settings)
                results.append((f"ours DeepSORT ({emb})", pred, fps))
                print(f"{seq.name}: ours ({emb}) {fps:.2f} fps", flush=True)
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
