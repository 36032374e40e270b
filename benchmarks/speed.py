"""Speed: our `track` pipeline per detector backend vs Ultralytics `model.track` (ByteTrack).

Every configuration runs in its own child process (so peak memory is its own), on each shared MOT15
sequence, with the same weights, imgsz and conf. fps is end to end (decode + detect + embed + track,
model loading excluded); "x ByteTrack" is the ratio to Ultralytics ByteTrack at the same imgsz in the
same run. With ``--imgsz auto`` the probe that picks the size is a fixed cost per video, timed apart
(``probe_s``) and excluded from fps; "this clip incl. probe" charges it to the clip (TUD clips are 3-7 s
long, so this is the worst case: on an hour of footage the probe is a fraction of a percent). HOTA/IDF1 are TrackEval scores; sampled runs (--sample-fps) are scored on the frames they
processed.

    python benchmarks/speed.py [--imgsz auto 960 640] [--sequences TUD-Campus]
    python benchmarks/speed.py --imgsz auto --configs "Ultralytics ByteTrack (torch)" "ours (openvino, default)" \
        "ours (openvino, omz-0287)"   # the shipped default: our runs pick their size (probe timed),
                                       # ByteTrack runs at the size they picked
    python benchmarks/speed.py --multicam 1 2      # 4-camera store: process time vs 4 x one camera
    python benchmarks/speed.py --imgsz auto --mosaics 2 3 --configs ...  # small people: k x k mosaics of
                                                   # each sequence (people k times smaller), where auto
                                                   # picks 1280-1600
    python benchmarks/speed.py --imgsz auto --mosaics --videos ../shared/data/caviar/X.mpg --configs ...
                                                   # footage without ground truth: speed only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import REPO, every_nth, mot_sequences, print_table, rewrite_video, shared_dir

CONFIGS = {
    "Ultralytics ByteTrack (torch)": {"ultralytics": "bytetrack.yaml"},
    "ours (torch)": {"backend": "torch"},
    "ours (onnx)": {"backend": "onnx"},
    "ours (openvino, default)": {"backend": "openvino"},
    "ours (openvino, omz-0287)": {"backend": "openvino", "embedder": "omz"},  # INT8 re-ID (the default)
    "ours (openvino, omz-0287 fp32)": {"backend": "openvino", "embedder": "omz", "reid_precision": "fp32"},
    "ours (openvino, omz-0288)": {"backend": "openvino", "embedder": "omz", "variant": "0288"},
    "ours (openvino-int8)": {"backend": "openvino-int8"},
    "ours (openvino-int8, omz-0287)": {"backend": "openvino-int8", "embedder": "omz"},
    "ours (openvino, 2x2 tiles)": {"backend": "openvino", "tiles": 2},
    "ours (openvino, imgsz 1280)": {"backend": "openvino", "imgsz": 1280},
    "ours (openvino, 5 fps sampled)": {"backend": "openvino", "sample_fps": 5.0},
}


def child(args: argparse.Namespace) -> None:
    """Run one configuration and print one JSON line."""
    from run_helpers import run_ours, run_ultralytics

    from pipeline.detector import default_weights
    from pipeline.embedders import DEFAULT_PRECISION
    from pipeline.evaluate import score_frames
    from pipeline.mot_io import read_mot
    from pipeline.track_video import TrackSettings
    from pipeline.video import probe, sample_step

    cfg = json.loads(args.child)
    video = Path(cfg["video"])
    if cfg.get("pick_only"):  # the size `auto` picks for this video (untimed; the timed run probes again)
        from pipeline.track_video import choose_size, load_components

        settings = TrackSettings(imgsz="auto", conf=cfg["conf"], backend=cfg.get("backend"))
        print(json.dumps({"imgsz": choose_size(probe(video), settings, load_components(settings)).imgsz}))
        return
    gt_path = video.parent / "gt" / "gt.txt"
    gt = read_mot(gt_path) if gt_path.is_file() else None  # footage without ground truth: speed only
    if "ultralytics" in cfg:
        pred, fps = run_ultralytics(video, cfg["ultralytics"], default_weights(), cfg["imgsz"], cfg["conf"])
        probe_s = 0.0
    else:
        settings = TrackSettings(
            imgsz=cfg["imgsz"],
            conf=cfg["conf"],
            backend=cfg.get("backend"),
            tiles=cfg.get("tiles", 1),
            sample_fps=cfg.get("sample_fps"),
            embedder=cfg.get("embedder", "auto"),
            reid_model=cfg.get("reid_model"),
            reid_precision=cfg.get("reid_precision", DEFAULT_PRECISION),
        )
        run = run_ours(video, settings)
        pred, fps, probe_s = run.rows, run.fps, run.probe_s
        if cfg.get("sample_fps") and gt is not None:
            gt = every_nth(gt, sample_step(probe(video).fps, sample_fps=cfg["sample_fps"]))
    s = score_frames(gt, pred) if gt is not None else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_frames = probe(video).n_frames  # source frames, as fps counts them (sampled runs too)
    print(
        json.dumps(
            {
                "fps": fps,
                "probe_s": probe_s,
                "frames": n_frames,
                "HOTA": s.hota if s else None,
                "IDF1": s.idf1 if s else None,
                "peak_MB": peak_mb,
            }
        )
    )


def run_child(cfg: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(cfg)], capture_output=True, text=True, cwd=REPO
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def multicam(seq: Path, imgsz: int, workers: list[int]) -> list[dict]:
    """Time ``process`` on 1 camera vs 4 cameras (the same video four times) with N workers."""
    import tempfile

    rows = []
    video = seq / f"{seq.name}.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        for n_cams, n_workers in [(1, 1)] + [(4, w) for w in workers]:
            cfg = Path(tmp) / f"store{n_cams}.yaml"
            cams = "".join(
                f"  - {{name: cam{i}, video: '{video}', start_time: '2026-11-20T09:00:00'}}\n"
                for i in range(n_cams)
            )
            cfg.write_text(f"name: Speed\ncameras:\n{cams}")
            db = Path(tmp) / f"s{n_cams}_{n_workers}.duckdb"
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipeline",
                    "process",
                    str(cfg),
                    "--db",
                    str(db),
                    "--imgsz",
                    str(imgsz),
                    "--workers",
                    str(n_workers),
                    "--reid-mode",
                    "independent",
                ],
                check=True,
                cwd=REPO,
                capture_output=True,
            )
            rows.append({"cameras": n_cams, "workers": n_workers, "wall_s": time.perf_counter() - start})
    single = rows[0]["wall_s"]
    for r in rows:
        r["x single-camera time"] = r["wall_s"] / single
    return rows


def machine() -> str:
    """The CPU and the precision OpenVINO computes in on it: bf16 where the CPU has bf16 instructions,
    which makes the OpenVINO detector, and so the ratio to ByteTrack (PyTorch, float32), machine-dependent."""
    import openvino as ov

    core = ov.Core()
    name = core.get_property("CPU", "FULL_DEVICE_NAME")
    precision = core.get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
    return f"CPU: {name}, {os.cpu_count()} cores; OpenVINO CPU inference precision: {precision}"


def mosaic_folders(names: list[str] | None, mosaics: list[int], work: Path) -> list[Path]:
    """Sequence folders to time: each sequence's own for k = 1, and for k > 1 its k x k mosaic (every person
    k times smaller, see ``tracking_small.py``) written under ``work`` in the same layout
    (``NAME/NAME.mp4``, ``NAME/gt/gt.txt``, NAME = ``SEQ-kxk``)."""
    from tracking_small import mosaic_sequences

    from pipeline.mot_io import write_mot

    out = []
    for seq, k, video, gt in mosaic_sequences(names, mosaics, work):
        if k == 1:
            out.append(seq)
            continue
        folder = work / f"{seq.name}-{k}x{k}"
        folder.mkdir(parents=True, exist_ok=True)
        video.rename(folder / f"{folder.name}.mp4")
        write_mot(folder / "gt" / "gt.txt", gt)
        out.append(folder)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--imgsz",
        nargs="*",
        type=lambda v: v if v == "auto" else int(v),
        default=[960, 640],
        help="sizes to compare; 'auto' = ours as shipped (size picked per video, probe timed) vs Ultralytics "
        "at the size auto picked",
    )
    parser.add_argument("--conf", type=float, default=0.1)
    parser.add_argument("--sequences", nargs="*")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    parser.add_argument(
        "--mosaics",
        type=int,
        nargs="*",
        default=[1],
        help="time the k x k mosaics of each sequence (small people; 1 = the sequence itself; none: only "
        "--videos)",
    )
    parser.add_argument(
        "--videos",
        type=Path,
        nargs="*",
        default=[],
        help="also time these videos (no ground truth: speed only), each re-encoded to mp4 first so both "
        "readers decode every frame (Ultralytics stops after 2 frames of the CAVIAR .mpg files)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "speed.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--multicam",
        nargs="*",
        type=int,
        metavar="WORKERS",
        help="also time `process` on a 4-camera store with these worker counts (e.g. --multicam 1 2)",
    )
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.multicam:
        seq = mot_sequences(args.sequences)[-1]
        table = pd.DataFrame(multicam(seq, args.imgsz[0], args.multicam))
        print(f"process, {seq.name} x 4 cameras, imgsz {args.imgsz[0]} (wall time incl. model loading)")
        print_table(table, args.out.with_name("speed_multicam.md"), floatfmt=".2f")
        return
    print(machine(), flush=True)
    stems = [video.stem for video in args.videos]
    if len(set(stems)) < len(stems):
        parser.error(f"--videos: two videos share a name ({', '.join(stems)}); their rows would be confused")
    if not args.mosaics and not args.videos:
        parser.error("nothing to time: give --mosaics 1 (the sequences themselves), other k, or --videos")
    with tempfile.TemporaryDirectory() as tmp:  # mosaics and re-encodes, removed however the run ends
        seqs = mosaic_folders(args.sequences, args.mosaics, Path(tmp)) if args.mosaics else []
        for video in args.videos:
            folder = Path(tmp) / video.stem
            folder.mkdir(parents=True)
            rewrite_video(video, folder / f"{video.stem}.mp4")
            seqs.append(folder)
        table = time_all(seqs, args)
    print()
    print_table(table, args.out, floatfmt=".2f")


def time_all(seqs: list[Path], args: argparse.Namespace) -> pd.DataFrame:
    """Every config of ``args`` on every sequence folder at every size, one child process each."""
    rows = []
    for seq in seqs:
        for imgsz in args.imgsz:
            results = {}
            picked = imgsz
            if imgsz == "auto":
                picked = run_child(
                    {"pick_only": True, "video": str(seq / f"{seq.name}.mp4"), "conf": args.conf}
                )["imgsz"]
                print(f"{seq.name}: auto picks imgsz {picked}", flush=True)
            for name in args.configs:
                size = picked if "ultralytics" in CONFIGS[name] else imgsz
                cfg = {
                    "imgsz": size,
                    **CONFIGS[name],
                    "video": str(seq / f"{seq.name}.mp4"),
                    "conf": args.conf,
                }
                if cfg.get("embedder") == "omz":  # the shared model; `auto` elsewhere stays the histogram
                    variant = cfg.pop("variant", "0287")
                    cfg["reid_model"] = str(
                        shared_dir() / "models" / f"person-reidentification-retail-{variant}"
                    )
                if "imgsz" in CONFIGS[name] and imgsz != args.imgsz[0]:
                    continue  # fixed-size configs run once, in the first imgsz block
                start = time.perf_counter()
                results[name] = run_child(cfg)
                print(
                    f"{seq.name} {imgsz} {name}: {results[name]} ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
            base = results.get("Ultralytics ByteTrack (torch)", {}).get("fps", float("nan"))
            for name, r in results.items():
                size = CONFIGS[name].get("imgsz", imgsz)
                label = f"auto ({picked})" if size == "auto" else size
                # Whole clip including the probe: frames / (frames / fps + probe seconds).
                clip_fps = r["frames"] / (r["frames"] / r["fps"] + r["probe_s"])
                rows.append(
                    {
                        "sequence": seq.name,
                        "imgsz": label,
                        "config": name,
                        **r,
                        "x ByteTrack": r["fps"] / base,
                        "x ByteTrack, this clip incl. probe": clip_fps / base,
                    }
                )
    return pd.DataFrame(rows)[
        [
            "sequence",
            "imgsz",
            "config",
            "HOTA",
            "IDF1",
            "fps",
            "x ByteTrack",
            "probe_s",
            "x ByteTrack, this clip incl. probe",
            "peak_MB",
        ]
    ]


if __name__ == "__main__":
    main()
