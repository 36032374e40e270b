"""Re-ID retrieval metrics under the standard Market-1501 protocol."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def map_rank1(
    query: npt.NDArray[np.float32],
    query_ids: npt.NDArray[np.int64],
    query_cams: npt.NDArray[np.int64],
    gallery: npt.NDArray[np.float32],
    gallery_ids: npt.NDArray[np.int64],
    gallery_cams: npt.NDArray[np.int64],
) -> tuple[float, float]:
    """mAP and Rank-1 (both in [0, 1]) of cosine-similarity retrieval.

    For each query, gallery items of the same id *and* same camera are excluded (they are trivially
    easy); queries with no remaining true match are skipped.

    Args:
        query, gallery: (Q, D) and (G, D) L2-normalised features.
        *_ids, *_cams: person id and camera (or time window) of each row.
    """
    if len(query) == 0 or len(gallery) == 0:
        return 0.0, 0.0
    sim = query @ gallery.T
    aps, hits = [], []
    for i in range(len(query)):  # Q is small (one loop per query, not per pair)
        keep = ~((gallery_ids == query_ids[i]) & (gallery_cams == query_cams[i]))
        order = np.argsort(-sim[i, keep], kind="stable")
        match = (gallery_ids[keep] == query_ids[i])[order]
        if not match.any():
            continue
        ranks = np.flatnonzero(match) + 1
        aps.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
        hits.append(bool(match[0]))
    if not aps:
        return 0.0, 0.0
    return float(np.mean(aps)), float(np.mean(hits))
