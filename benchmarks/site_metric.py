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

End to end (``--multicam-work DIR``, the databases a ``multicam.py --work DIR`` run left): the metric is fitted
on every pair of tracked *boxes* of each layout's cameras (the 0.5 s chunks the product stores are far too
few on these clips), its threshold is the 1 % quantile of seen-together box distances with each half of
the tracks mapped by the metric fitted on the other half (cross-fitted), and the product's assignment runs
on the mapped tracklet embeddings; layouts with too few pairs keep cosine distance. Both variants are
scored on copies of the same databases, held out as in ``multicam.py``. See docs/benchmarks.md.

    python benchmarks/site_metric.py [--embedders hist osnet omz] [--out benchmarks/results/site_metric.md] \
        [--multicam-work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from itertools import product
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, mot_sequences, print_table, shared_dir  # noqa: E402
from reid import mot_eval  # noqa: E402

from pipeline.embedders.base import l2_normalise  # noqa: E402

DIMS = (8, 16, 32, 64)
MULTICAM_K, MULTICAM_SHRINK = 32, 0.1  # the middle of the grid, fixed before the multicam run
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


def pair_indices(
    ids: npt.NDArray[np.int64], frames: npt.NDArray[np.int64], fps: float
) -> tuple[npt.NDArray[np.int64], ...]:
    """``(same_i, same_j, diff_i, diff_j)``: one track's rows >= ``SAME_GAP_S`` apart, and two tracks' rows
    <= ``TOGETHER_S`` apart (seen together)."""
    i, j = np.triu_indices(len(ids), 1)
    gap = np.abs(frames[i] - frames[j]) / fps
    same = (ids[i] == ids[j]) & (gap >= SAME_GAP_S)
    diff = (ids[i] != ids[j]) & (gap <= TOGETHER_S)
    return i[same], j[same], i[diff], j[diff]


def training_pairs(
    feats: npt.NDArray[np.float64], ids: npt.NDArray[np.int64], frames: npt.NDArray[np.int64], fps: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Differences of the same-track and the seen-together pairs of :func:`pair_indices`."""
    si, sj, di, dj = pair_indices(ids, frames, fps)
    return feats[si] - feats[sj], feats[di] - feats[dj]


# ------------------------------------------------------------------ end to end: multicam hand-offs


def box_features(conn, videos: list[Path], embedder) -> pd.DataFrame:
    """One row per tracked box of camera ``cam{k}`` (video ``videos[k]``): camera, track, frame, feat."""
    from pipeline.db import tracks as db
    from pipeline.video import read_frames

    out = []
    for k, video in enumerate(videos):
        rows = db.camera_track_rows(conn, f"cam{k}", use_shopper_id=False)
        by_frame = {f: g for f, g in rows.groupby("frame")}
        for frame in read_frames(video):
            g = by_frame.get(frame.index + 1)  # MOT frames are 1-based
            if g is None:
                continue
            xyxy = g[["x", "y"]].to_numpy(np.float32)
            xyxy = np.hstack([xyxy, xyxy + g[["w", "h"]].to_numpy(np.float32)])
            feats = embedder.embed(frame.image, xyxy).astype(np.float64)
            out.append(
                pd.DataFrame(
                    {"camera": k, "track": g["id"].to_numpy(), "frame": frame.index + 1, "feat": list(feats)}
                )
            )
    return pd.concat(out, ignore_index=True)


def box_pair_indices(boxes: pd.DataFrame, fps: float) -> tuple[npt.NDArray[np.int64], ...]:
    """:func:`pair_indices` within each camera, as row positions of ``boxes``."""
    parts = []
    for _, g in boxes.groupby("camera"):
        pos = g.index.to_numpy()
        parts.append([pos[a] for a in pair_indices(g["track"].to_numpy(), g["frame"].to_numpy(), fps)])
    return tuple(np.concatenate([p[n] for p in parts]) for n in range(4))


def fit_box_metric(boxes: pd.DataFrame, fps: float):
    """``(mean, L)`` from every box pair, or ``None`` with too few pairs."""
    feats = np.stack(boxes["feat"].to_numpy())
    si, sj, di, dj = box_pair_indices(boxes, fps)
    if min(len(si), len(di)) < MULTICAM_K:
        return None
    return kissme(feats, feats[si] - feats[sj], feats[di] - feats[dj], MULTICAM_K, MULTICAM_SHRINK)


def crossfit_threshold(boxes: pd.DataFrame, fps: float, target: float) -> float | None:
    """The ``target`` quantile of seen-together box distances, each half of the tracks (by id parity) mapped
    by the metric fitted on the other half; ``None`` with fewer than 30 such distances."""
    dists = []
    for half in (0, 1):
        fit = boxes[boxes["track"] % 2 == half].reset_index(drop=True)
        test = boxes[boxes["track"] % 2 != half].reset_index(drop=True)
        metric = fit_box_metric(fit, fps) if len(fit) else None
        if metric is None or test.empty:
            continue
        _, _, di, dj = box_pair_indices(test, fps)
        z = l2_normalise((np.stack(test["feat"].to_numpy()) - metric[0]) @ metric[1])
        dists.append(1.0 - np.sum(z[di] * z[dj], axis=1))
    d = np.concatenate(dists) if dists else np.zeros(0)
    return float(np.quantile(d, target)) if len(d) >= 30 else None


@contextmanager
def mapped_reid(mean, lin, threshold: float):
    """Cross-camera assignment on mapped tracklet embeddings at ``threshold`` (the product has no such
    option: this swaps the store module's tracklet loader and config reader for the block)."""
    import pipeline.reid.store as store

    load, config = store.load_tracklets, store.stored_reid_config

    def mapped_load(conn, split=False):
        tracklets, rows = load(conn, split)
        return [
            t
            if t.embedding is None
            else replace(
                t, embedding=l2_normalise((np.asarray(t.embedding, np.float64) - mean)[None] @ lin)[0]
            )
            for t in tracklets
        ], rows

    store.load_tracklets = mapped_load
    store.stored_reid_config = lambda conn: replace(config(conn), match_threshold=threshold)
    try:
        yield
    finally:
        store.load_tracklets, store.stored_reid_config = load, config


def multicam_table(work: Path, embedders: dict) -> pd.DataFrame:
    """Held-out hand-off totals with cosine distance and with the box-level site metric, on the databases
    a ``multicam.py --work`` run left (each evaluated on a copy)."""
    import multicam

    from pipeline.db import connect
    from pipeline.mot_io import read_mot
    from pipeline.reid.calibrate import DEFAULT_TARGET
    from pipeline.video import probe

    rows = {"cosine": [], "site metric": []}
    fitted = {}
    for seq in mot_sequences():
        gt = read_mot(seq / "gt" / "gt.txt")
        n_frames = int(gt["frame"].max())
        for layout in multicam.LAYOUTS:
            crops = multicam.parse_crops(layout)
            folder = work / seq.name / "_".join(f"{a}-{b}" for a, b in crops)
            videos = [folder / f"cam{k}.mp4" for k in range(len(crops))]
            gt_split = multicam.split_gt(gt, crops)
            for name, embedder in embedders.items():
                db_path = folder / f"store-{name}.duckdb"
                if not db_path.is_file():
                    sys.exit(f"{db_path} not found: run benchmarks/multicam.py --work {work} first")
                conn = connect(db_path, read_only=True)
                try:
                    boxes = box_features(conn, videos, embedder)
                finally:
                    conn.close()
                fps = probe(videos[0]).fps
                metric = fit_box_metric(boxes, fps)
                threshold = crossfit_threshold(boxes, fps, DEFAULT_TARGET) if metric else None
                fitted[(seq.name, layout, name)] = threshold is not None
                with tempfile.TemporaryDirectory() as tmp:
                    for variant in rows:
                        copy = Path(tmp) / f"{variant}.duckdb"
                        shutil.copy(db_path, copy)
                        key = {
                            "sequence": seq.name,
                            "layout": layout,
                            "cameras": len(crops),
                            "embedder": name,
                        }
                        if variant == "site metric" and threshold is not None:
                            with mapped_reid(*metric, threshold):
                                scored = multicam.evaluate_modes(copy, gt_split, n_frames)
                        else:  # cosine, or too little footage for the metric: the product's own assignment
                            scored = multicam.evaluate_modes(copy, gt_split, n_frames)
                        rows[variant] += [{**key, **r} for r in scored]
                print(seq.name, layout, name, "metric fitted" if fitted[(seq.name, layout, name)] else "too few pairs",
                      f"threshold {threshold:.3f}" if threshold is not None else "", flush=True)  # fmt: skip
    out = []
    for variant, table in rows.items():
        summary = multicam.held_out_summary(multicam.held_out(pd.DataFrame(table)))
        for r in summary.to_dict("records"):
            n_fit = sum(
                v for (s, _, e), v in fitted.items() if s == r["sequence (held out)"] and e == r["embedder"]
            )
            out.append(
                {"distance": variant, **r, "layouts with the metric": n_fit if variant != "cosine" else 0}
            )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedders", nargs="*", default=["hist", "osnet", "omz"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "site_metric.md")
    parser.add_argument(
        "--multicam-work",
        type=Path,
        help="also score hand-offs end to end on the databases a `multicam.py --work DIR` run left there "
        "(table written beside --out, suffix _multicam)",
    )
    args = parser.parse_args()

    from pipeline.embedders import get_embedder
    from pipeline.embedders.batch import embed_crops
    from pipeline.training.evaluate import map_rank1
    from pipeline.video import probe

    models = shared_dir() / "models"
    model_files = {
        "hist": None,
        "osnet": models / "osnet_x0_25_msmt17.onnx",
        "omz": models / "person-reidentification-retail-0287" / "person-reidentification-retail-0287.xml",
    }
    seqs = mot_sequences()
    evals = {}
    for seq in seqs:
        fps = probe(seq / f"{seq.name}.mp4").fps
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
    if args.multicam_work:
        embedders = {name: get_embedder(name, model_files[name]) for name in args.embedders}
        print("\nEnd to end: held-out hand-offs, cosine distance vs the box-level site metric\n")
        print_table(
            multicam_table(args.multicam_work, embedders), args.out.with_name(args.out.stem + "_multicam.md")
        )


if __name__ == "__main__":
    main()
