"""Dashboard render time on a store with 10 M trajectory points (first load and cached reruns).

Builds the simulated demo store (``pipeline.simulate.build_demo``), copies its day of trajectories onto
consecutive days with fresh shopper ids until ``--points`` is reached, analyses it (``zones.analyse``),
then renders every page through ``streamlit.testing.v1.AppTest`` — the same code path as the server —
twice per period: the first render fills the query caches, the second is what users see afterwards.

    python benchmarks/dashboard.py [--points 10000000] [--db /tmp/bench_dashboard.duckdb] [--out FILE.md]
    python benchmarks/dashboard.py --reuse --db STORE.duckdb   # time the pages of an existing store
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
from common import REPO, print_table

PAGES = ["overview", "heatmap", "sections", "paths", "queues", "flags", "reports", "footage", "store_setup"]


def build(db: Path, points: int) -> dict:
    import duckdb

    import zones
    from pipeline.db import connect
    from pipeline.simulate import build_demo

    if db.exists():
        db.unlink()
    build_demo(db, shoppers=400, seed=7, analyse=False)
    conn = connect(db)
    try:
        base, max_id = conn.execute("SELECT count(*), max(shopper_id) FROM trajectory").fetchone()
        copies = max(1, -(-points // base))
        conn.execute("BEGIN TRANSACTION")
        conn.execute("CREATE TEMP TABLE day0 AS SELECT * FROM trajectory")
        conn.execute("CREATE TEMP TABLE shoppers0 AS SELECT * FROM shoppers")
        for k in range(1, copies):
            shift = timedelta(days=k)
            conn.execute(
                "INSERT INTO trajectory SELECT shopper_id + ?, camera, video_id, frame, ts + ?, x, y, space FROM day0",
                [k * max_id, shift],
            )
            conn.execute(
                "INSERT INTO shoppers SELECT shopper_id + ?, first_ts + ?, last_ts + ?, is_staff, staff_source FROM shoppers0",
                [k * max_id, shift, shift],
            )
        conn.execute("COMMIT")
        total = conn.execute("SELECT count(*) FROM trajectory").fetchone()[0]
        t0 = time.perf_counter()
        summary = zones.analyse(conn)
        analyse_s = time.perf_counter() - t0
    finally:
        conn.close()
    del duckdb
    return {"points": total, "days": copies, "analyse_s": analyse_s, "shoppers": summary["shoppers"]}


def render_times(db: Path, whole_range: bool) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    os.environ["SHOPPER_DB"] = str(db)
    os.environ["SHOPPER_DATA_DIR"] = str(db.parent)
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=600).run()
    assert not at.exception, at.exception
    if whole_range:
        from dashboard import data

        first, last = data.day_range(str(db.resolve()))
        at.sidebar.date_input[0].set_value((first, last)).run()
    rows = []
    for page in PAGES:
        at.switch_page(f"dashboard/pages/{page}.py")
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
            assert not at.exception, (page, at.exception)
        rows.append(
            {
                "page": page,
                "period": "all days" if whole_range else "one day",
                "first_s": times[0],
                "cached_s": min(times[1:]),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--db", default="/tmp/bench_dashboard/bench.duckdb")
    parser.add_argument("--reuse", action="store_true", help="reuse --db if it exists (skip building)")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args(argv)
    db = Path(args.db).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and db.exists()):
        info = build(db, args.points)
        print(
            f"built {info['points']:,} trajectory points over {info['days']} days "
            f"({info['shoppers']:,} shoppers); analysed in {info['analyse_s']:.1f} s"
        )
    rows = render_times(db, whole_range=False) + render_times(db, whole_range=True)
    print_table(pd.DataFrame(rows), args.out, floatfmt=".2f")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
