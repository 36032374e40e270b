"""``merge --db STORE.duckdb PART.duckdb ...``: combine cameras processed on several machines.

The path to many machines: run ``process`` for each camera's config on its own machine (one database
per camera, ``--reid-mode independent``), copy the databases to one place, then ``merge`` them: the
finished videos are copied in, cross-camera identity runs over all cameras, and the analytics are
recomputed. Merging the same part twice replaces its videos instead of duplicating them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import dump_config, load_config
from pipeline.db import connect
from pipeline.db.merge import merge_part
from pipeline.db.tracks import save_store_config
from pipeline.errors import UserError
from pipeline.reid.settings import REID_MODES

NAME = "merge"
HELP = "Merge per-camera databases (e.g. processed on several machines) into one store and re-identify."
ORDER = 36


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("parts", nargs="+", help="processed store databases to merge in")
    parser.add_argument("--db", required=True, help="store database to create or update")
    parser.add_argument("--config", help="store config YAML (zones, reid settings) to save in the store")
    parser.add_argument("--reid-mode", default="full", choices=REID_MODES, help="cross-camera identity mode")
    parser.add_argument("--no-analyse", action="store_true", help="skip recomputing the analytics")


def run(args: argparse.Namespace) -> int:
    from pipeline.reid.store import run_reid

    parts = [Path(p) for p in args.parts]
    for part in parts:
        if part.resolve() == Path(args.db).resolve():
            raise UserError(f"cannot merge {part} into itself")
        connect(part, read_only=True).close()  # missing file or other schema version -> clear error
    config = load_config(args.config, check_files=False) if args.config else None
    if config is not None:
        from zones.geometry import build_zones

        build_zones(config)  # refuse it before it replaces the stored config
    conn = connect(args.db)
    try:
        if config is not None:
            save_store_config(conn, dump_config(config))
        merged = 0
        for part in parts:
            n = merge_part(conn, part)
            merged += n
            print(f"{part}: {n} video(s) merged")
        # New footage refits the on-site cross-camera threshold, as `process` does.
        summary = run_reid(
            conn, config.reid if config else None, mode=args.reid_mode, calibrate=True if merged else None
        )
        print(f"{summary.n_tracklets} tracklets -> {summary.n_shoppers} shoppers ({args.reid_mode})")
        if not args.no_analyse:
            import zones

            zones.analyse(conn, config)
            print("analytics recomputed")
    finally:
        conn.close()
    return 0
