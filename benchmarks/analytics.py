"""Benchmark the store analytics end to end on synthetic trajectories.

    python benchmarks/analytics.py                 # 1 M and 10 M points
    python benchmarks/analytics.py --points 2e6    # any sizes

For each size it writes a DuckDB file with the demo store's zones and N floor points (1 Hz random walks
between zone targets, ~1,000 points per shopper), then runs ``zones.analyse`` (visits, staff rule, metrics,
queues, paths, heatmaps, flags, all tables written in one transaction) in a fresh child process, and prints
points/s, per-stage seconds and the child's peak RSS (memory including DuckDB's, from ``getrusage``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import print_table  # noqa: E402

from pipeline.db import (  # noqa: E402
    connect,
    simulated,  # noqa: E402
    transaction,
)
from pipeline.db.store_config import save_store_config  # noqa: E402
from pipeline.simulate.layout import DAY_START, FLOOR_H, FLOOR_W, ZONES, store_config_dict  # noqa: E402

POINTS_PER_SHOPPER = 1000


def generate(path: Path, n_points: int, seed: int = 0) -> None:
    """Write ``n_points`` floor points (and their shoppers) into a fresh database at ``path``."""
    rng = np.random.default_rng(seed)
    n_shoppers = max(1, n_points // POINTS_PER_SHOPPER)
    sizes = np.full(n_shoppers, n_points // n_shoppers)
    sizes[: n_points - sizes.sum()] += 1
    # shoppers head for customer zones (not the staff room or stockroom); 30 % of targets are anywhere
    rects = np.array(
        [[z.x0, z.y0, z.x1, z.y1] for z in ZONES if not {"restricted", "staff_only"} & set(z.kinds)]
    )
    parts_x, parts_y = [], []
    for size in sizes:
        k = max(2, size // 60)  # a target every ~minute: walk there, browse
        pick = rng.integers(0, len(rects), k)
        r = rects[pick]
        tx = rng.uniform(r[:, 0] + 0.3, r[:, 2] - 0.3)
        ty = rng.uniform(r[:, 1] + 0.3, r[:, 3] - 0.3)
        roam = rng.random(k) < 0.3
        tx[roam], ty[roam] = rng.uniform(0, FLOOR_W, roam.sum()), rng.uniform(0, FLOOR_H, roam.sum())
        knots_t = np.sort(rng.uniform(0, size - 1, k))
        knots_t[0], knots_t[-1] = 0, size - 1
        t = np.arange(size)
        parts_x.append(np.interp(t, knots_t, tx) + rng.normal(0, 0.05, size))
        parts_y.append(np.interp(t, knots_t, ty) + rng.normal(0, 0.05, size))
    shopper = np.repeat(np.arange(1, n_shoppers + 1, dtype=np.int32), sizes)
    starts = rng.uniform(0, 11 * 3600, n_shoppers).astype(np.int64)
    offset = np.arange(n_points) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    t_s = np.repeat(starts, sizes) + offset
    ts = pd.Timestamp(DAY_START) + pd.to_timedelta(t_s, unit="s")
    traj = pd.DataFrame({"shopper_id": shopper, "camera": "cam1", "frame": (t_s * 25).astype(np.int32), "ts": ts,
                         "x": np.concatenate(parts_x), "y": np.concatenate(parts_y)})  # fmt: skip
    first = starts
    shoppers = pd.DataFrame({
        "shopper_id": np.arange(1, n_shoppers + 1, dtype=np.int32),
        "first_ts": pd.Timestamp(DAY_START) + pd.to_timedelta(first, unit="s"),
        "last_ts": pd.Timestamp(DAY_START) + pd.to_timedelta(first + sizes - 1, unit="s"),
        "is_staff": rng.random(n_shoppers) < 0.02, "staff_source": None,
    })  # fmt: skip
    shoppers.loc[shoppers["is_staff"], "staff_source"] = "manual"
    cameras = pd.DataFrame({"name": ["cam1"], "homography": [np.eye(3).ravel().tolist()], "width": 1280,
                            "height": 720, "path": ["simulated://cam1"], "fps": 25.0, "n_frames": 0,
                            "start_time": DAY_START})  # fmt: skip
    empty_tp = pd.DataFrame({c: pd.Series(dtype=d) for c, d in [
        ("camera", "object"), ("frame", "int64"), ("t_sec", "float64"), ("ts", "datetime64[us]"),
        ("track_id", "int32"), ("shopper_id", "int32"), ("x1", "float64"), ("y1", "float64"), ("x2", "float64"),
        ("y2", "float64"), ("score", "float64"), ("foot_u", "float64"), ("foot_v", "float64"),
        ("floor_x", "float64"), ("floor_y", "float64"), ("keypoints", "object")]})  # fmt: skip
    path.unlink(missing_ok=True)
    conn = connect(path)
    conn.execute("SET enable_progress_bar = false")
    with transaction(conn):
        save_store_config(conn, yaml.safe_dump(store_config_dict(), sort_keys=False))
        simulated.write_simulated_store(conn, "benchmark", "{}", cameras, shoppers, traj, empty_tp)
    conn.close()


def analyse_child(db: str) -> None:
    """Run in a fresh process: analyse ``db`` and print one JSON line."""
    import zones

    conn = connect(db)
    t0 = time.perf_counter()
    summary = zones.analyse(conn)
    seconds = time.perf_counter() - t0
    conn.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = usage.ru_maxrss / 1024
    print(json.dumps({"points": summary["points"], "seconds": seconds, "visits": summary["visits"],
                      "flags": summary["flags"], "timings": summary["timings"], "peak_rss_mib": peak_mib,
                      "cpu_s": usage.ru_utime + usage.ru_stime}))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=float, nargs="+", default=[1e6, 1e7], help="sizes (default 1e6 1e7)")
    parser.add_argument("--runs", type=int, default=2, help="analyse runs per size; the best is reported")
    parser.add_argument("--dir", help="folder for the benchmark databases (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        analyse_child(args.child)
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.dir or tmp)
        for n in (int(p) for p in args.points):
            db = folder / f"bench_{n}.duckdb"
            t0 = time.perf_counter()
            generate(db, n)
            print(f"{n:>12,} points generated in {time.perf_counter() - t0:.1f} s")
            best = None
            for _ in range(args.runs):
                out = subprocess.run([sys.executable, __file__, "--child", str(db)], check=True,
                                     capture_output=True, text=True).stdout  # fmt: skip
                result = json.loads(out.strip().splitlines()[-1])
                if best is None or result["seconds"] < best["seconds"]:
                    best = result
            stages = ", ".join(f"{k} {v:.2f}" for k, v in best["timings"].items() if k != "total")
            print(
                f"{n:>12,} points analysed in {best['seconds']:.2f} s = {n / best['seconds']:,.0f} points/s; "
                f"peak RSS {best['peak_rss_mib']:,.0f} MiB; process CPU {best['cpu_s']:.1f} s (incl. start-up); "
                f"{best['visits']:,} visits, {best['flags']} flags"
            )
            print(f"{'':>12}   stages (s): {stages}")
            rows.append(
                {
                    "points": f"{n:,}",
                    "wall time (s)": best["seconds"],
                    "points/s (M)": n / best["seconds"] / 1e6,
                    "peak RSS (MiB)": round(best["peak_rss_mib"]),
                    "visits": f"{best['visits']:,}",
                    "flags": f"{best['flags']:,}",
                    "stages (s)": stages,
                }
            )
            db.unlink(missing_ok=True)
    print()
    print_table(pd.DataFrame(rows), args.out, floatfmt=".2f")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
