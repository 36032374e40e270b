"""Identity-switch splitting: cut a camera-local track where its appearance changes to another person's.

A tracker may follow one person and then, at an occlusion or a crop edge, another. Such a track is in
two places at once for the true people, so space/time constraints refuse to join it with either one's
other tracklets and the hand-off is lost. Before cross-camera assignment each track's appearance
chunks (mean embedding per ~0.5 s, ``tracklet_chunks``) are scanned in time order: a new part starts at
a chunk whose cosine distance to the mean of the current part exceeds the threshold, when the next
embedded chunk is far from the current part too: one odd chunk (a partial occlusion, or a track's last
half second) is not a switch. Each part is then matched as a tracklet of its own.

A change of look alone is not a switch. A tracker moves to another person only where that person's box
meets the track's (a crossing, an occlusion) or where one person leaves the view at its border and
another comes in; a shopper walking alone from a lit shop onto a dim gallery changes colour, not
identity. So a split is made only where the caller says a switch was possible (``allowed``: in the store,
a box of the chunk or the one before touched another track's box or the frame border); elsewhere the
part goes on, and later chunks are compared with its new look.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

# Max cosine distance between a chunk and the mean of its part, per embedder (chunk means of one person
# in one camera sit well inside the cross-camera match thresholds, EMBEDDER_THRESHOLDS).
SPLIT_THRESHOLDS = {"omz": 0.40, "osnet": 0.20, "hist": 0.15, "mobilenet": 0.10}


def split_threshold(embedder: str | None) -> float | None:
    """The split threshold of ``embedder``; ``None`` (never split) for embedders not measured."""
    return SPLIT_THRESHOLDS.get(embedder or "")


def _distance(mean: npt.NDArray[np.float64], emb: npt.NDArray[np.float64]) -> float:
    return 1.0 - float(mean @ emb) / max(float(np.linalg.norm(mean) * np.linalg.norm(emb)), 1e-12)


def split_chunks(
    embeddings: Sequence[npt.ArrayLike | None],
    threshold: float,
    allowed: Callable[[int], bool] | None = None,
) -> list[int]:
    """Indices of the chunks that start a part (``[0]`` when unsplit, ``[]`` without chunks).

    Args:
        embeddings: per chunk in time order, its mean embedding or ``None`` (no embedded box; such a
            chunk stays in the part before it).
        threshold: max cosine distance of a chunk to its part's mean appearance.
        allowed: whether a switch was possible at chunk ``i`` (``None``: everywhere); where it was not,
            a confirmed change of look does not start a part, and later chunks compare with the new look.
    """
    if len(embeddings) == 0:
        return []
    starts = [0]
    embedded = [
        (i, np.asarray(e, np.float64)) for i, e in enumerate(embeddings) if e is not None and np.any(e)
    ]
    total: npt.NDArray[np.float64] | None = None
    for k, (i, emb) in enumerate(embedded):
        if total is None:
            total = emb.copy()
            continue
        if _distance(total, emb) > threshold:
            confirmed = k + 1 < len(embedded) and _distance(total, embedded[k + 1][1]) > threshold
            if not confirmed:
                continue  # an odd chunk does not enter the part's mean
            if allowed is None or allowed(i):
                starts.append(i)
            total = emb.copy()  # a new part, or the same person's new look: later chunks compare with it
            continue
        total += emb
    return starts
