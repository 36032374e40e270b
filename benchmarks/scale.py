"""Scale-out: what Ray buys on this machine, what segments cost in accuracy, and a chain-sized cluster.

(a) A 4-camera store (TUD-Campus, TUD-Stadtmitte and mirrored copies): ``process`` in-process, with
    ``--workers 2`` and with ``--executor ray`` on a local Ray; end-to-end wall time (models loaded by
    each run; starting Ray itself is reported apart: a real cluster stays up).
(b) One long video (TUD-Stadtmitte looped ``--loops`` times, re-encoded, ground truth repeated with new
    ids per loop) on Ray: unsplit vs 2 and 4 segments; wall time and HOTA / IDF1 against the ground truth.
(c) The cluster a chain needs: 50 stores x 8 cameras x 12 h a day at 5 fps sampling, from the per-frame
    cost measured in (a).

    python benchmarks/scale.py [--imgsz 640] [--loops 3] [--out benchmarks/results/scale.md]

Ray starts with ``num_cpus`` = this machine's cores; one worker actor per CPU.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
from common import REPO, every_nth, mot_sequences

STORES, CAMERAS, HOURS, SAMPLE_FPS = 50, 8, 12, 5.0
NODE_CORES = 16


def store_config(folder: Path, videos: list[tuple[str, Path]]) -> Path:
    cams = "".join(
        f"  - {{name: {name}, video: {path}, start_time: '2026-11-20T09:00:00'}}\n" for name, path in videos
    )
    path = folder / "store.yaml"
    # An explicit cross-camera threshold: this footage is too small to calibrate one on (not measured here).
    path.write_text(f"name: Bench\ncameras:\n{cams}reid: {{match_threshold: 0.3}}\n")
    return path


def run_store(config_path: Path, settings, db: Path, executor=None, workers: int = 1) -> tuple[float, int]:
    """Wall seconds of one ``process`` run (models loaded inside), and frames processed."""
    from pipeline.config import load_config
    from pipeline.db import connect
    from pipeline.jobs import process_store
    from pipeline.process import check_videos, load_checked

    config = load_config(config_path)
    first = next(iter(check_videos(config).values()))
    conn = connect(db)
    start = time.perf_counter()
    outcomes = process_store(
        config,
        conn,
        settings,
        lambda: load_checked(settings, first),
        progress=False,
        workers=workers,
        executor=executor,
        reid_mode="independent",
    )
    wall = time.perf_counter() - start
    conn.close()
    print(f"(a) {db.stem}: {wall:.1f} s", file=sys.stderr)
    assert all(o.status == "processed" for o in outcomes), outcomes
    frames = sum(math.ceil(o.frames / settings.stride) for o in outcomes)
    return wall, frames


def loop_video(src: Path, gt_path: Path, loops: int, folder: Path) -> tuple[Path, pd.DataFrame]:
    """``src`` played ``loops`` times (H.264, near-lossless), and its ground truth with new ids per loop."""
    import av

    from pipeline.mot_io import read_mot

    out = folder / f"{src.stem}_x{loops}.mp4"
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        images = [f.to_ndarray(format="rgb24") for f in inp.decode(stream)]
        rate = stream.average_rate
    with av.open(str(out), "w") as dst:
        enc = dst.add_stream("libx264", rate=rate, options={"crf": "12"})
        enc.height, enc.width = images[0].shape[:2]
        enc.pix_fmt = "yuv420p"
        for _ in range(loops):
            for image in images:
                dst.mux(enc.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        dst.mux(enc.encode())
    gt = read_mot(gt_path)
    n = len(images)
    gt = pd.concat([gt.assign(frame=gt["frame"] + k * n, id=gt["id"] + k * 10_000) for k in range(loops)])
    return out, gt


def mirrored(src: Path, folder: Path) -> Path:
    """``src`` flipped left-right (same cost per frame, different tracks: a second camera's footage)."""
    import av

    out = folder / f"{src.stem}_mirrored.mp4"
    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        stream = inp.streams.video[0]
        enc = dst.add_stream("libx264", rate=stream.average_rate, options={"crf": "12"})
        enc.height, enc.width, enc.pix_fmt = stream.height, stream.width, "yuv420p"
        for frame in inp.decode(stream):
            image = frame.to_ndarray(format="rgb24")[:, ::-1].copy()
            dst.mux(enc.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        dst.mux(enc.encode())
    return out


def mot_rows(messages) -> pd.DataFrame:
    table = pd.concat([m.rows for m in messages if m.error is None and len(m.rows)])
    return pd.DataFrame(
        {
            "frame": table["frame"] + 1,
            "id": table["track_id"],
            "x": table["x1"],
            "y": table["y1"],
            "w": table["x2"] - table["x1"],
            "h": table["y2"] - table["y1"],
            "score": table["score"],
        }
    )


def per_sequence(args: argparse.Namespace) -> None:
    """(d) Stitched segments against the unsplit run on each TUD sequence as it is (3 and 7 s long: the
    overlap is shortened so that 4 segments fit)."""
    from pipeline.config import CameraConfig
    from pipeline.distributed.segments import segmented_messages, segments_for
    from pipeline.evaluate import score_frames
    from pipeline.mot_io import read_mot
    from pipeline.process import VideoTask, video_messages
    from pipeline.track_video import TrackSettings, load_components
    from pipeline.video import probe

    settings = TrackSettings(imgsz=args.imgsz, conf=0.1, embedder=args.embedder, stride=args.stride)
    components = load_components(settings)
    rows = []
    for seq in mot_sequences(["TUD-Campus", "TUD-Stadtmitte"]):
        video = seq / f"{seq.name}.mp4"
        gt = read_mot(seq / "gt" / "gt.txt")
        gt = every_nth(gt, args.stride)
        info = probe(video)
        task = VideoTask(1, CameraConfig("cam", video, datetime(2026, 11, 20, 9)), info, settings, 100, False)
        unsplit = score_frames(gt, mot_rows(video_messages(task, components)))
        rows.append((seq.name, "unsplit", 1, unsplit.hota, 0.0, unsplit.idf1, 0.0))
        for n in args.segments:
            segments = segments_for(info, args.stride, n_segments=n, overlap_seconds=args.overlap)
            s = score_frames(gt, mot_rows(segmented_messages(task, segments, components)))
            rows.append(
                (
                    seq.name,
                    f"{n} segments",
                    len(segments),
                    s.hota,
                    s.hota - unsplit.hota,
                    s.idf1,
                    s.idf1 - unsplit.idf1,
                )
            )
            print(rows[-1], file=sys.stderr)
    table = pd.DataFrame(rows, columns=["sequence", "run", "segments made", "HOTA", "dHOTA", "IDF1", "dIDF1"])
    text = (
        f"# benchmarks/scale.py --per-sequence\n\n(d) each TUD sequence as it is, unsplit vs stitched segments "
        f"({args.overlap:g} s overlap), imgsz {args.imgsz}, embedder {args.embedder}, stride {args.stride}; "
        f"measured {datetime.now():%Y-%m-%d %H:%M}.\n\n{table.to_markdown(index=False, floatfmt='.2f')}\n"
    )
    out = args.out.with_name("scale_per_sequence.md")
    out.write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--embedder", default="hist")
    parser.add_argument("--stride", type=int, default=1, help="process every n-th frame (scored on those)")
    parser.add_argument("--loops", type=int, default=3, help="TUD-Stadtmitte plays this many times in (b)")
    parser.add_argument("--segments", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "scale.md")
    parser.add_argument(
        "--per-sequence",
        action="store_true",
        help="only (d): each TUD sequence unsplit vs --segments segments, accuracy only (no Ray: the "
        "segments run one after another and are stitched as the Ray executor does)",
    )
    parser.add_argument("--overlap", type=float, default=0.5, help="overlap seconds for --per-sequence")
    args = parser.parse_args()
    if args.per_sequence:
        per_sequence(args)
        return

    import ray

    from pipeline.config import CameraConfig
    from pipeline.distributed.ray_executor import RayExecutor
    from pipeline.evaluate import score_frames
    from pipeline.process import VideoTask
    from pipeline.track_video import TrackSettings
    from pipeline.video import probe

    settings = TrackSettings(imgsz=args.imgsz, conf=0.1, embedder=args.embedder, stride=args.stride)
    cores = os.cpu_count() or 1
    seqs = {p.name: p for p in mot_sequences(["TUD-Campus", "TUD-Stadtmitte"])}
    lines = [
        f"Measured {datetime.now():%Y-%m-%d %H:%M} on {cores} cores (load average before: "
        f"{os.getloadavg()[0]:.1f}, a machine shared with other jobs); imgsz {args.imgsz}, embedder {args.embedder}, "
        f"stride {args.stride}.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        folder = Path(tmp)
        videos = [(name.split("-")[1].lower(), seq / f"{name}.mp4") for name, seq in seqs.items()]
        videos += [(f"{name}_mirrored", mirrored(path, folder)) for name, path in videos]
        config = store_config(folder, videos)

        # (a) 4 cameras
        rows = []
        wall, frames = run_store(config, settings, folder / "local.duckdb")
        rows.append(("in-process", wall, frames))
        wall, frames = run_store(config, settings, folder / "workers.duckdb", workers=2)
        rows.append(("--workers 2", wall, frames))
        t0 = time.perf_counter()
        ray.init(
            num_cpus=cores,
            include_dashboard=False,
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
        )
        ray_start = time.perf_counter() - t0
        wall, frames = run_store(config, settings, folder / "ray.duckdb", executor=RayExecutor())
        rows.append((f"--executor ray (local, {cores} CPUs)", wall, frames))
        base = rows[0][1]
        table_a = pd.DataFrame(
            [(name, f"{w:.1f}", f"{f / w:.1f}", f"{base / w:.2f}") for name, w, f in rows],
            columns=["4 cameras", "wall s", "frames/s", "speed-up vs in-process"],
        )
        lines += [
            "### (a) 4-camera store (TUD-Campus, TUD-Stadtmitte, and both mirrored)",
            "",
            table_a.to_markdown(index=False),
            "",
            f"Starting the local Ray itself: {ray_start:.1f} s (not included).",
            "",
        ]
        ray_cost = rows[2][1] * cores / rows[2][2]  # core-seconds per frame, Ray run (start-up included)

        # (b) one long video
        seq = seqs["TUD-Stadtmitte"]
        video, gt = loop_video(seq / "TUD-Stadtmitte.mp4", seq / "gt" / "gt.txt", args.loops, folder)
        gt = every_nth(gt, args.stride)  # scored on the processed frames
        info = probe(video)
        task = VideoTask(
            1, CameraConfig("long", video, datetime(2026, 11, 20, 9)), info, settings, 100, False
        )
        results = []
        for n in [1, *args.segments]:
            executor = RayExecutor(n_segments=n if n > 1 else None)
            t0 = time.perf_counter()
            messages = list(executor([task]))
            wall = time.perf_counter() - t0
            scores = score_frames(gt, mot_rows(messages))
            results.append((n, wall, scores, executor.stitched.get("long", 0)))
            print(
                f"(b) {n} segment(s): {wall:.1f} s, HOTA {scores.hota:.2f}, IDF1 {scores.idf1:.2f}",
                file=sys.stderr,
            )
        ray.shutdown()
        unsplit_wall, unsplit = results[0][1], results[0][2]
        table_b = pd.DataFrame(
            [
                (
                    "unsplit" if n == 1 else f"{n} segments",
                    f"{w:.1f}",
                    f"{unsplit_wall / w:.2f}",
                    f"{s.hota:.2f}",
                    f"{s.hota - unsplit.hota:+.2f}",
                    f"{s.idf1:.2f}",
                    f"{s.idf1 - unsplit.idf1:+.2f}",
                    stitched,
                )
                for n, w, s, stitched in results
            ],
            columns=["long video", "wall s", "speed-up", "HOTA", "dHOTA", "IDF1", "dIDF1", "tracks stitched"],
        )
        lines += [
            f"### (b) one long video: TUD-Stadtmitte x {args.loops} ({info.n_frames} frames, 2 s overlap)",
            "",
            table_b.to_markdown(index=False),
            "",
        ]

    # (c) projection
    frames_day = STORES * CAMERAS * HOURS * 3600 * SAMPLE_FPS
    core_hours = frames_day * ray_cost / 3600
    cores_needed = core_hours / 24
    table_c = pd.DataFrame(
        [
            ("frames a day (50 x 8 x 12 h x 5 fps)", f"{frames_day:,.0f}"),
            ("measured cost, core-seconds per frame (a, Ray)", f"{ray_cost:.3f}"),
            ("core-hours a day", f"{core_hours:,.0f}"),
            ("cores to keep up (24 h a day, 100 % busy)", f"{cores_needed:,.0f}"),
            (f"{NODE_CORES}-core nodes to keep up", f"{math.ceil(cores_needed / NODE_CORES)}"),
            (
                f"{NODE_CORES}-core nodes to finish overnight (12 h)",
                f"{math.ceil(2 * cores_needed / NODE_CORES)}",
            ),
        ],
        columns=["projection", "value"],
    )
    lines += [
        "### (c) a chain: 50 stores x 8 cameras x 12 h a day at 5 fps",
        "",
        table_c.to_markdown(index=False),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
