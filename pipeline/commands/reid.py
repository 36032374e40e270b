"""``reid --db STORE.duckdb [--mode full]``: recompute global shopper ids on a processed store.

Fast (no video is read): joins the finished tracklets of every camera into shoppers again, e.g. after
changing the ``reid:`` settings or to compare modes. Uses the store config saved in the database, or
``--config`` to use another file's ``reid:`` settings (not saved).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.db import connect
from pipeline.errors import UserError
from pipeline.reid.settings import REID_MODES

NAME = "reid"
HELP = "Recompute cross-camera shopper ids of a processed store (no video is re-read)."
ORDER = 35


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="processed store database")
    parser.add_argument(
        "--mode",
        default="full",
        choices=REID_MODES,
        help="independent (one shopper per track), appearance (gallery), full (gallery + space/time "
        "+ offline refinement; default)",
    )
    parser.add_argument(
        "--no-refine", action="store_true", help="mode full: skip the offline refinement pass"
    )
    parser.add_argument(
        "--config", help="store config YAML whose reid: settings to use (default: the saved one)"
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="refit the match threshold on this store's footage (no labels needed) before assigning; "
        "otherwise the stored calibration is reused (reid.match_threshold in the config always wins)",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.reid.store import run_reid

    if not Path(args.db).is_file():
        raise UserError(f"database not found: {args.db} (run `process` first)")
    config = load_config(args.config, check_files=False).reid if args.config else None
    conn = connect(args.db)
    try:
        summary = run_reid(
            conn,
            config,
            mode=args.mode,
            refine=False if args.no_refine else None,
            calibrate=True if args.calibrate else None,
        )
    finally:
        conn.close()
    how = args.mode + (" + refinement" if summary.refined else "")
    print(
        f"{summary.n_tracklets} tracklets from {summary.cameras} camera(s) -> {summary.n_shoppers} shoppers "
        f"({how}; online gallery: {summary.online_shoppers})"
    )
    if summary.match_threshold is not None and args.mode != "independent":
        where = summary.calibration.note if summary.calibration else "set in the config or built in"
        print(f"match threshold {summary.match_threshold:.3f}: {where}")
    return 0
