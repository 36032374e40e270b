"""TrackChunks: per-chunk and per-track mean appearance from one pass over the boxes."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.track_video import TrackChunks
from pipeline.types import Detections


def boxes(embedding: np.ndarray | None, track_ids: list[int]) -> Detections:
    n = len(track_ids)
    dets = Detections(np.zeros((n, 4), np.float32), np.ones(n, np.float32), embedding=embedding)
    return dets.with_track_id(np.array(track_ids))


@pytest.mark.parametrize(
    ("rows", "n_tracks", "means"),
    [
        ([], 0, {}),
        ([(None, [1])], 1, {}),  # no embedder: tracks counted, no means
        ([([[0, 0, 0]], [1])], 1, {}),  # only unembedded (low-confidence) boxes: no mean
        ([([[1, 0, 0]], [1]), ([[0, 1, 0]], [1]), ([[0, 1, 0]], [1])], 1, {1: [1 / 5**0.5, 2 / 5**0.5, 0]}),
        (
            [([[1, 0, 0], [0, 0, 1]], [1, 2]), ([[0, 0, 0], [0, 0, 1]], [1, 2])],
            2,
            {1: [1, 0, 0], 2: [0, 0, 1]},
        ),
    ],
)
def test_means_and_track_count(rows, n_tracks, means):
    chunks = TrackChunks(seconds=0.5)
    for frame, (emb, ids) in enumerate(rows):
        chunks.add(frame, frame * 0.4, boxes(None if emb is None else np.asarray(emb, np.float32), ids))
    assert chunks.n_tracks == n_tracks
    got = chunks.means()
    assert sorted(got) == sorted(means)
    for tid, expected in means.items():
        np.testing.assert_allclose(got[tid], expected, atol=1e-6)
    table = chunks.table()
    # 0.4 s per frame, 0.5 s chunks: frames 0-1 share a chunk, frame 2 starts the next.
    assert len(table) == sum(1 if len(rows) < 3 else 2 for _ in range(n_tracks))
