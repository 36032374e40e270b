"""Cross-camera match thresholds checked on labelled crops the MOT benchmarks never see.

The re-ID match threshold (``EMBEDDER_THRESHOLDS``) decides when a tracklet joins a known shopper. This
script measures, on all 96 market1501-mini crops (32 people, each seen by two cameras), the cosine
distances of every crop pair:

- same person, different cameras: the hand-offs a threshold should accept (TAR = share accepted);
- different people: what it must refuse (FAR = share accepted).

It prints, per embedder, both distributions, TAR / FAR at the shipped threshold, and the distance at
which FAR reaches 0.5 % and 1 %. Single crops are noisier than the mean of a tracklet's boxes, so these
are crop-level bounds: a tracklet's mean sits closer to its person's other views than one crop does.

    python benchmarks/thresholds.py [--embedders hist osnet omz mobilenet]

Writes ``benchmarks/results/thresholds.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, print_table, shared_dir  # noqa: E402

from pipeline.embedders import get_embedder  # noqa: E402
from pipeline.embedders.batch import embed_crops  # noqa: E402
from pipeline.reid.settings import EMBEDDER_THRESHOLDS  # noqa: E402
from pipeline.training.dataset import MARKET_NAME, read_market_folder  # noqa: E402

FOLDERS = ("query", "bounding_box_test", "bounding_box_train")


def market_crops(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All crops of the three folders with their person ids and cameras (ids from the file names)."""
    crops, pids, cams = [], [], []
    for sub in FOLDERS:
        crop_set = read_market_folder(root / sub)
        names = sorted(p.name for p in (root / sub).iterdir() if MARKET_NAME.match(p.name))
        ids = [int(MARKET_NAME.match(n).group(1)) for n in names if int(MARKET_NAME.match(n).group(1)) > 0]
        if len(ids) != len(crop_set.crops):
            raise RuntimeError(f"{root / sub}: {len(ids)} names but {len(crop_set.crops)} crops")
        crops.append(crop_set.crops)
        pids += ids
        cams.append(crop_set.cameras)
    return np.concatenate(crops), np.asarray(pids), np.concatenate(cams)


def pair_distances(features: np.ndarray, pids: np.ndarray, cams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances of (same person, different camera) pairs and of different-person pairs."""
    f = features / np.linalg.norm(features, axis=1, keepdims=True).clip(1e-12)
    dist = 1.0 - f @ f.T
    iu = np.triu_indices(len(f), 1)
    same = (pids[:, None] == pids[None])[iu]
    other_cam = (cams[:, None] != cams[None])[iu]
    d = dist[iu]
    return np.sort(d[same & other_cam]), np.sort(d[~same])


def row(name: str, same: np.ndarray, other: np.ndarray) -> dict:
    shipped = EMBEDDER_THRESHOLDS.get(name, float("nan"))
    return {
        "embedder": name,
        "same-person median": np.median(same),
        "same-person p90": np.quantile(same, 0.9),
        "other-person min": other.min(),
        "other-person median": np.median(other),
        "d at FAR 0.5%": np.quantile(other, 0.005),
        "d at FAR 1%": np.quantile(other, 0.01),
        "shipped threshold": shipped,
        "TAR % at shipped": 100.0 * np.mean(same <= shipped),
        "FAR % at shipped": 100.0 * np.mean(other <= shipped),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedders", nargs="*", default=["hist", "mobilenet", "osnet", "omz"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "thresholds.md")
    args = parser.parse_args()
    shared = shared_dir()
    os.environ.setdefault("SHOPPER_REID_MODELS", str(shared / "models"))  # where osnet / omz are found
    crops, pids, cams = market_crops(shared / "data" / "reid" / "market1501-mini")
    rows = []
    for name in args.embedders:
        features = np.asarray(embed_crops(get_embedder(name), crops), np.float64)
        same, other = pair_distances(features, pids, cams)
        rows.append(row(name, same, other))
        print(f"{name}: {len(same)} same-person pairs, {len(other)} other-person pairs", flush=True)
    print_table(pd.DataFrame(rows), args.out, floatfmt=".3f")


if __name__ == "__main__":
    main()
