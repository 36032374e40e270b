"""A lead, not a product feature: an appearance metric learned on site, without labels (KISSME).

The product compares appearance by the cosine distance of the embedder's features. A store's own footage
holds weak labels for free (the pairs :mod:`pipeline.reid.calibrate` already uses): two moments of one
camera-local tracklet show the same person, two tracklets one camera sees at the same moment show two
different people. KISSME (Koestinger et al., CVPR 2012) turns those pairs into a Mahalanobis metric,
``M = inv(cov(same-pair differences)) - inv(cov(different-pair differences))``, here in the top-``k``
principal components of the site's features, with both covariances shrunk towards a multiple of the
identity and ``M`` clipped to its non-negative eigenvalues; features are then mapped through ``M``'s square
root and compared by cosine distance as before.

Protocol (no identity labels used for learning, nothing scored that the metric was fitted on):

- crops of the MOT15 ground-truth boxes (``reid.py``'s ``mot_eval``, 40 per person and half): query = first
  half of the sequence, gallery = second half;
- training pairs from the *first half only*, with the ground-truth tracks standing in for camera-local
  tracklets (an ideal tracker): same person = one track's crops at least 1 s apart, different people = two
  tracks' crops at most 0.2 s apart (seen together). No pair spans the two halves, so no query-gallery
  pair is ever a training pair;
- ``k`` and the shrinkage are chosen on one sequence and reported on the other (held out).

Why it is not in the product yet: it needs far more footage than the shared clips hold. The multicam
layouts' camera-local tracklets have 0-2 same-person pairs of 0.5 s appearance chunks on TUD-Campus and
~160 on TUD-Stadtmitte, and even the threshold calibration falls back to the fixed table on every layout
(``multicam.md``, column ``calibrated``), so no end-to-end hand-off figure could be measured here. See
docs/benchmarks.md.

    python benchmarks/site_metric.py [--embedders hist osnet omz] [--out benchmarks/results/site_metric.md]
"""

from __future__ import annotations

import argparse
import sys
from itertools import product
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, mot_sequences, print_table, shared_dir  # noqa: E402
from reid import mot_eval  # noqa: E402

from pipeline.embedders.base import l2_normalise  # noqa: E402

DIMS = (8, 16, 32, 64)
SHRINK = (0.01, 0.1, 0.3)
SAME_GAP_S = 1.0
TOGETHER_S = 0.2
PER_WINDOW = 40


def kissme(
    features: npt.NDArray[np.float64],
    same: npt.NDArray[np.float64],
    diff: npt.NDArray[np.float64],
    k: int,
    shrink: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(mean, L)``: map features as ``l2_normalise((x - mean) @ L)``.

    Args:
        features: (N, D) the site's features (principal components and mean).
        same, diff: (P, D) and (Q, D) differences of same-person and different-person feature pairs.
        k: principal components kept (at most D).
        shrink: weight of the identity (scaled to the covariance's mean variance) in each covariance.
    """
    mean = features.mean(axis=0)
    k = min(k, features.shape[1])
    basis = np.linalg.svd(features - mean, full_matrices=False)[2][:k].T

    def covariance(d: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        z = d @ basis
        c = z.T @ z / len(z)
        return (1 - shrink) * c + shrink * np.trace(c) / k * np.eye(k)

    w, v = np.linalg.eigh(np.linalg.inv(covariance(same)) - np.linalg.inv(covariance(diff)))
    return mean, basis @ v @ np.diag(np.sqrt(np.clip(w, 0, None)))


def training_pairs(
    feats: npt.NDArray[np.float64], ids: npt.NDArray[np.int64], frames: npt.NDArray[np.int64], fps: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Differences of same-track pairs >= ``SAME_GAP_S`` apart and of two tracks' pairs <= ``TOGETHER_S`` apart."""
    i, j = np.triu_indices(len(ids), 1)
    gap = np.abs(frames[i] - frames[j]) / fps
    same = (ids[i] == ids[j]) & (gap >= SAME_GAP_S)
    diff = (ids[i] != ids[j]) & (gap <= TOGETHER_S)
    return feats[i[same]] - feats[j[same]], feats[i[diff]] - feats[j[diff]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedders", nargs="*", default=["hist", "osnet", "omz"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "site_metric.md")
    args = parser.parse_args()

    from pipeline.embedders import get_embedder
    from pipeline.embedders.batch import embed_crops
    from pipeline.training.evaluate import map_rank1

    models = shared_dir() / "models"
    model_files = {
        "hist": None,
        "osnet": models / "osnet_x0_25_msmt17.onnx",
        "omz": models / "person-reidentification-retail-0287" / "person-reidentification-retail-0287.xml",
    }
    seqs = mot_sequences()
    evals = {}
    for seq in seqs:
        cap = cv2.VideoCapture(str(seq / f"{seq.name}.mp4"))
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        cap.release()
        evals[seq.name] = (mot_eval(shared_dir(), seq.name, per_window=PER_WINDOW), fps)
    grid = list(product(DIMS, SHRINK))
    rows = []
    for name in args.embedders:
        embedder = get_embedder(name, model_files[name])
        scores: dict[str, dict] = {}
        for seq, (data, fps) in evals.items():
            q = embed_crops(embedder, data["q"]).astype(np.float64)
            g = embed_crops(embedder, data["g"]).astype(np.float64)
            same, diff = training_pairs(q, data["qid"], data["qframe"], fps)

            def score(mean, lin, q=q, g=g, data=data):
                m, r1 = map_rank1(
                    l2_normalise((q - mean) @ lin), data["qid"], data["qcam"],
                    l2_normalise((g - mean) @ lin), data["gid"], data["gcam"],
                )  # fmt: skip
                return 100 * m, 100 * r1

            plain = score(np.zeros(q.shape[1]), np.eye(q.shape[1]))
            fitted = {(k, s): score(*kissme(q, same, diff, k, s)) for k, s in grid}
            scores[seq] = {"plain": plain, "fitted": fitted, "pairs": (len(same), len(diff))}
        for seq in evals:
            others = [s for s in evals if s != seq]
            # Held out: the (k, shrinkage) with the best mean mAP on the other sequence(s).
            k, s = max(grid, key=lambda c: np.mean([scores[o]["fitted"][c][0] for o in others]))
            own = scores[seq]
            best = max(grid, key=lambda c: own["fitted"][c][0])
            rows.append(
                {
                    "embedder": name,
                    "sequence": seq,
                    "same / different pairs": f"{own['pairs'][0]} / {own['pairs'][1]}",
                    "cosine mAP": own["plain"][0],
                    "cosine R1": own["plain"][1],
                    "k, shrinkage (chosen on the other)": f"{k}, {s}",
                    "site metric mAP": own["fitted"][(k, s)][0],
                    "site metric R1": own["fitted"][(k, s)][1],
                    "worst of grid mAP": min(v[0] for v in own["fitted"].values()),
                    "best of grid mAP (tuned on itself)": own["fitted"][best][0],
                }
            )
            print(
                {k2: (round(v, 1) if isinstance(v, float) else v) for k2, v in rows[-1].items()}, flush=True
            )
    print_table(pd.DataFrame(rows), args.out)


if __name__ == "__main__":
    main()
