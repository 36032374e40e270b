from __future__ import annotations

import numpy as np
import pytest

from pipeline.types import Detections


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"xyxy": np.zeros((0, 4), np.float32), "confidence": np.zeros(0, np.float32)}, None),
        ({"xyxy": np.zeros((2, 4), np.float32), "confidence": np.zeros(2, np.float32)}, None),
        (
            {"xyxy": np.zeros((3,), np.float32), "confidence": np.zeros(3, np.float32)},
            r"xyxy must have shape \(N, 4\), but got shape \(3,\)",
        ),
        (
            {"xyxy": np.zeros((2, 4), np.float32), "confidence": np.zeros(3, np.float32)},
            r"confidence must have shape \(2\)",
        ),
        ({"xyxy": [[0, 0, 1, 1]], "confidence": np.zeros(1, np.float32)}, "xyxy must be a np.ndarray"),
        (
            {
                "xyxy": np.zeros((2, 4), np.float32),
                "confidence": np.zeros(2, np.float32),
                "keypoints": np.zeros((2, 5, 3)),
            },
            r"keypoints must have shape \(2, 17, 3\)",
        ),
        (
            {
                "xyxy": np.zeros((2, 4), np.float32),
                "confidence": np.zeros(2, np.float32),
                "embedding": np.zeros((1, 8)),
            },
            r"embedding must have shape \(2, N\)",
        ),
        (
            {
                "xyxy": np.zeros((2, 4), np.float32),
                "confidence": np.zeros(2, np.float32),
                "track_id": np.zeros(3, np.int64),
            },
            r"track_id must have shape \(2\)",
        ),
    ],
)
def test_detections_validation(kwargs, error):
    if error is None:
        assert len(Detections(**kwargs)) == len(kwargs["xyxy"])
    else:
        with pytest.raises(ValueError, match=error):
            Detections(**kwargs)


def test_detections_is_frozen_and_subsets_are_new_objects():
    dets = Detections(
        np.array([[0, 0, 10, 20], [5, 5, 15, 45]], np.float32), np.array([0.9, 0.4], np.float32)
    )
    with pytest.raises(AttributeError):
        dets.xyxy = np.zeros((0, 4))  # type: ignore[misc]
    sub = dets[dets.confidence > 0.5]
    assert len(sub) == 1 and len(dets) == 2
    tracked = dets.with_track_id(np.array([3, 4]))
    assert dets.track_id is None and tracked.track_id.tolist() == [3, 4]
    np.testing.assert_allclose(dets.tlwh[1], [5, 5, 10, 40])
    np.testing.assert_allclose(dets.foot_point[0], [5, 20])
    assert len(dets[np.array([], dtype=np.int64)]) == 0
