"""INT8 vs float OMZ re-ID models: mAP / Rank-1 on the re-ID sets and time per crop, in one run.

The INT8 models are what ``--reid-precision int8`` (the default) builds: NNCF post-training quantisation
calibrated on crops of the people in the street photos that ship with Ultralytics, never on these sets
(``pipeline.embedders.int8``), so every row is held out. Eval sets as in ``benchmarks/reid.py``
(market1501-mini query vs test; TUD-Campus / TUD-Stadtmitte GT crops, first half vs second half).

    python benchmarks/reid_int8.py [--shared ../shared]

``ms/crop`` is the whole ``embed_crops`` call (resize + model) over the eval set; ``model ms/crop @8``
the model alone on batches of 8 (a busy frame). Written to ``benchmarks/results/reid_int8.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, print_table  # noqa: E402
from reid import SEQUENCES, default_shared, evaluate, market_eval, mot_eval  # noqa: E402

from pipeline.embedders.omz import INPUT_HW, OMZEmbedder  # noqa: E402

VARIANTS = ("0287", "0288")


def model_ms_per_crop(embedder: OMZEmbedder, batch: int = 8, repeats: int = 30) -> float:
    """Milliseconds per crop of the compiled model alone on random (batch, 3, 256, 128) inputs."""
    x = np.random.default_rng(0).integers(0, 256, (batch, 3, *INPUT_HW)).astype(np.float32)
    for _ in range(3):
        embedder.model(x)
    start = time.perf_counter()
    for _ in range(repeats):
        embedder.model(x)
    return (time.perf_counter() - start) * 1000 / (repeats * batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=default_shared())
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "reid_int8.md")
    args = parser.parse_args(argv)
    models = args.shared / "models"
    if not models.is_dir():
        print(f"shared folder not found: {args.shared} (set SHOPPER_SHARED)", file=sys.stderr)
        return 2
    evals = {"market": market_eval(args.shared)}
    evals.update({key: mot_eval(args.shared, seq) for key, seq in SEQUENCES.items()})
    rows = []
    for variant in VARIANTS:
        for precision in ("fp32", "int8"):
            embedder = OMZEmbedder(models / f"person-reidentification-retail-{variant}", precision=precision)
            row: dict[str, object] = {"model": f"omz-{variant}", "precision": precision}
            total_ms = []
            for key, data in evals.items():
                m, r1, ms = evaluate(embedder, data)
                row[f"{key} mAP"], row[f"{key} R1"] = 100 * m, 100 * r1
                total_ms.append(ms)
            row["ms/crop"] = float(np.mean(total_ms))
            row["model ms/crop @8"] = model_ms_per_crop(embedder)
            rows.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    fp = table[table["precision"] == "fp32"].set_index("model")["model ms/crop @8"]
    table["x fp32 speed (model)"] = [fp[m] / t for m, t in zip(table["model"], table["model ms/crop @8"])]
    print_table(table, args.out, floatfmt=".2f")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
