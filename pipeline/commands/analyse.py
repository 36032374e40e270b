"""``python -m pipeline analyse --db STORE.duckdb [--config STORE.yaml]``."""

from __future__ import annotations

import argparse

NAME = "analyse"
HELP = "Recompute store analytics (visits, metrics, queues, paths, heatmaps, flags) from the trajectories."
ORDER = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="store database (.duckdb)")
    parser.add_argument(
        "--config", help="store config YAML (default: the one saved in the database); saved into the database"
    )


def run(args: argparse.Namespace) -> int:
    import zones
    from pipeline.config import dump_config, load_config
    from pipeline.db.store_config import save_store_config
    from zones.geometry import build_zones
    from zones.store_db import open_store  # imported here: the CLI loads every command module

    config = load_config(args.config, check_files=False) if args.config else None
    if config is not None:
        build_zones(config)  # refuse it before it replaces the stored config
    conn = open_store(args.db)
    try:
        if config is not None:
            save_store_config(conn, dump_config(config))
        s = zones.analyse(conn, config)
    finally:
        conn.close()
    print(
        f"analysed {s['points']:,} points: {s['shoppers']} shoppers, {s['staff']} staff, {s['visits']} visits, "
        f"{s['flags']} flags in {s['seconds']:.2f} s"
    )
    return 0
