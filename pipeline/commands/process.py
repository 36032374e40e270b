"""``process STORE.yaml --db STORE.duckdb``: run every camera of a store and write the database."""

from __future__ import annotations

import argparse

from pipeline.commands._outputs import output_file
from pipeline.commands.track import add_tracking_arguments, settings_from_args
from pipeline.config import load_config
from pipeline.db import connect
from pipeline.jobs import process_store
from pipeline.process import BATCH_FRAMES, check_settings, check_videos, load_checked
from pipeline.reid.settings import REID_MODES

NAME = "process"
HELP = (
    "Process every camera of a store config into a DuckDB database (resumable, no duplicates): tracks, "
    "cross-camera shopper ids, then the analytics"
)
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="store config YAML")
    parser.add_argument("--db", required=True, help="DuckDB file to create or update")
    parser.add_argument("--force", action="store_true", help="reprocess videos that are already done")
    parser.add_argument(
        "--batch-frames",
        type=int,
        default=BATCH_FRAMES,
        help=f"processed frames committed per transaction (default {BATCH_FRAMES})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="camera videos tracked in parallel processes (default 1; try the number of CPU cores)",
    )
    parser.add_argument(
        "--reid-mode",
        default="full",
        choices=REID_MODES,
        help="cross-camera identity: independent (one shopper per track), appearance (gallery), "
        "full (gallery + space/time constraints + offline refinement; default)",
    )
    parser.add_argument(
        "--no-analyse",
        action="store_true",
        help="stop after the shopper ids (run `analyse` later, e.g. after drawing zones)",
    )
    parser.add_argument(
        "--executor",
        default="local",
        choices=("local", "ray"),
        help="where videos are tracked: local (this machine; default) or ray (a Ray cluster, see "
        "docs/scale-out.md); the database is written by this process either way",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="with --executor ray: the cluster to join (e.g. HEAD:6379); default $RAY_ADDRESS or a local Ray",
    )
    parser.add_argument(
        "--segment-seconds",
        type=float,
        default=None,
        help="with --executor ray: split each video into segments of about this many seconds, tracked in "
        "parallel and stitched (default: one task per video)",
    )
    add_tracking_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # Everything that can fail is checked before the database is created or touched: config, options,
    # videos, the database path, and (unless the database may already hold everything) the models.
    config = load_config(args.config)
    settings = settings_from_args(args)
    if args.batch_frames < 1:
        raise ValueError(f"--batch-frames must be >= 1, but got {args.batch_frames}")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, but got {args.workers}")
    executor = None
    if args.executor == "ray":
        if args.workers != 1:
            raise ValueError("--workers is for --executor local; Ray runs one worker per CPU of the cluster")
        from pipeline.distributed.ray_executor import RayExecutor

        executor = RayExecutor(address=args.ray_address, segment_seconds=args.segment_seconds)
    elif args.ray_address is not None or args.segment_seconds is not None:
        raise ValueError("--ray-address and --segment-seconds need --executor ray")
    infos = check_videos(config)
    check_settings(config, settings, infos)
    if executor is not None:
        from pipeline.distributed.ray_executor import check_footage

        executor.connect()
        check_footage(sorted({str(info.path) for info in infos.values()}))  # every node reads every file
    db_path = output_file(args.db, "--db")
    first = next(iter(infos.values()))
    components = None if db_path.exists() else load_checked(settings, first)
    conn = connect(db_path)
    try:
        outcomes = process_store(
            config,
            conn,
            settings,
            components or (lambda: load_checked(settings, first)),
            force=args.force,
            batch_frames=args.batch_frames,
            workers=args.workers,
            reid_mode=args.reid_mode,
            executor=executor,
            analyse=not args.no_analyse,
        )
    finally:
        conn.close()
    for o in outcomes:
        what = (
            "already processed, skipped" if o.status == "skipped" else f"{o.frames} frames, {o.tracks} tracks"
        )
        if o.status == "failed":
            what = f"failed: {o.warning}"
        print(f"{o.camera}: {what}")
    if not args.no_analyse:
        print("analytics recomputed")
    print(f"database: {args.db}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0
