"""The on-site metric lead (benchmarks/site_metric.py): KISSME from unlabelled pairs."""

from __future__ import annotations

import numpy as np

from benchmarks.site_metric import kissme, training_pairs
from pipeline.embedders.base import l2_normalise


def _people(rng, n_people: int = 8, per: int = 30):
    """Features whose dimensions 0-2 tell people apart and 3-4 are large same-person noise."""
    ids = np.repeat(np.arange(n_people), per)
    codes = rng.normal(0, 1.0, (n_people, 3))
    feats = np.zeros((len(ids), 6))
    feats[:, :3] = codes[ids] + rng.normal(0, 0.05, (len(ids), 3))
    feats[:, 3:5] = rng.normal(0, 5.0, (len(ids), 2))  # pose / light: varies within one person
    feats[:, 5] = rng.normal(0, 0.05, len(ids))
    frames = np.tile(np.arange(per) * 5, n_people)
    return feats, ids, frames


def _fit(seed: int, k: int, shrink: float):
    feats, ids, frames = _people(np.random.default_rng(seed))
    same, diff = training_pairs(feats, ids, frames, fps=25.0)
    return feats, ids, *kissme(feats, same, diff, k=k, shrink=shrink)


def test_training_pairs_take_one_track_far_apart_and_two_tracks_seen_together():
    feats = np.arange(8, dtype=float)[:, None]
    ids = np.array([1, 1, 1, 2, 2, 3, 3, 3])
    frames = np.array([0, 10, 30, 0, 30, 2, 60, 100])
    same, diff = training_pairs(feats, ids, frames, fps=25.0)
    # same: (0, 2) of id 1 (30 frames = 1.2 s), (3, 4) of id 2, (5, 6), (5, 7), (6, 7) of id 3.
    assert sorted(abs(same[:, 0]).tolist()) == [1, 1, 1, 2, 2]
    # different, within 0.2 s (5 frames): (0, 3), (0, 5), (3, 5), (2, 4).
    assert sorted(abs(diff[:, 0]).tolist()) == [2, 2, 3, 5]


def test_kissme_weights_the_dimension_that_tells_people_apart():
    feats, ids, mean, lin = _fit(0, k=6, shrink=0.1)
    assert lin.shape == (6, 6)
    mapped = l2_normalise((feats - mean) @ lin)
    raw = l2_normalise(feats)

    def nearest_other_is_same_person(x):
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return float(np.mean(ids[np.argmax(sim, axis=1)] == ids))

    assert nearest_other_is_same_person(mapped) > 0.95
    assert nearest_other_is_same_person(raw) < 0.8
    # The noisy dimensions are shrunk relative to the telling ones.
    assert np.linalg.norm(lin[3:5], axis=1).max() < 0.2 * np.linalg.norm(lin[:3], axis=1).min()


def test_kissme_keeps_at_most_k_components():
    *_, lin = _fit(1, k=2, shrink=0.3)
    assert lin.shape == (6, 2)
    assert np.all(np.isfinite(lin))


def test_box_pairs_stay_within_one_camera():
    import pandas as pd

    from benchmarks.site_metric import box_pair_indices

    # Camera 0: tracks 1 and 2 together at frame 1, track 1 again at frame 40; camera 1: track 1 at frame 1.
    boxes = pd.DataFrame({"camera": [0, 0, 0, 1], "track": [1, 2, 1, 1], "frame": [1, 1, 40, 1]})
    si, sj, di, dj = box_pair_indices(boxes, fps=25.0)
    assert sorted(zip(si.tolist(), sj.tolist())) == [(0, 2)]  # one track, 1.56 s apart
    # Seen together: only the two tracks of camera 0 (camera 1's box is another camera's track 1).
    assert sorted(zip(di.tolist(), dj.tolist())) == [(0, 1)]
