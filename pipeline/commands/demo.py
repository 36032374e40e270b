"""``python -m pipeline demo --db data/demo.duckdb [--shoppers N] [--seed S]``."""

from __future__ import annotations

import argparse
import time

NAME = "demo"
HELP = "Write a deterministic simulated store day (config, cameras, trajectories, sales) and analyse it."
ORDER = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default="data/demo.duckdb", help="database to (re)create (default data/demo.duckdb)"
    )
    parser.add_argument(
        "--shoppers", type=int, default=400, help="people to simulate, staff included (default 400)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--no-analyse", action="store_true", help="write the raw tables only")


def run(args: argparse.Namespace) -> int:
    from pipeline.errors import UserError
    from pipeline.simulate import build_demo

    t0 = time.perf_counter()
    try:
        truth = build_demo(args.db, args.shoppers, args.seed, analyse=not args.no_analyse)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    print(
        f"simulated {len(truth.labels)} people ({truth.n_points:,} trajectory points) into {args.db} "
        f"in {time.perf_counter() - t0:.1f} s; store config {truth.files['config']}"
    )
    return 0
