"""The one data type that flows through the pipeline: :class:`Detections`.

Every stage (detector, embedder, tracker, writer) takes a ``Detections`` and returns a new one
(``dataclasses.replace``); nothing mutates what it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

N_KEYPOINTS = 17

# Columns of a video's appearance-chunk table: what tracking hands the database for cross-camera re-ID
# (one row per track and time chunk; ``embedding`` is the chunk's L2-normalised mean feature or None).
CHUNK_COLUMNS = (
    "track_id",
    "chunk",
    "t_start",
    "t_end",
    "first_frame",
    "last_frame",
    "n_embedded",
    "embedding",
)


def _check(name: str, arr: np.ndarray, shape: tuple[int | None, ...]) -> None:
    """Raise ``ValueError`` unless ``arr`` is an ndarray with ``shape`` (``None`` = any size)."""
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{name} must be a np.ndarray, but got {type(arr).__name__}")
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, but got shape {arr.shape}")


@dataclass(frozen=True)
class Detections:
    """People found in one frame, as parallel arrays of length N.

    Attributes:
        xyxy: (N, 4) float32 boxes, pixel corners (x1, y1, x2, y2).
        confidence: (N,) float32 detector scores in [0, 1].
        keypoints: (N, 17, 3) float32 COCO keypoints (x, y, visibility) or ``None``.
        embedding: (N, D) float32 L2-normalised appearance features or ``None``.
        track_id: (N,) int64 track ids (-1 = not tracked) or ``None``.
        data: extra per-detection arrays of length N, keyed by name.
    """

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    keypoints: npt.NDArray[np.float32] | None = None
    embedding: npt.NDArray[np.float32] | None = None
    track_id: npt.NDArray[np.int64] | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check("xyxy", self.xyxy, (None, 4))
        n = len(self.xyxy)
        _check("confidence", self.confidence, (n,))
        if self.keypoints is not None:
            _check("keypoints", self.keypoints, (n, N_KEYPOINTS, 3))
        if self.embedding is not None:
            _check("embedding", self.embedding, (n, None))
        if self.track_id is not None:
            _check("track_id", self.track_id, (n,))
        for key, value in self.data.items():
            if not isinstance(value, np.ndarray) or len(value) != n:
                raise ValueError(f"data[{key!r}] must be a np.ndarray of length {n}")

    def __len__(self) -> int:
        return len(self.xyxy)

    @classmethod
    def empty(cls, embedding_dim: int | None = None) -> Detections:
        """No detections (optionally with a (0, D) embedding array)."""
        emb = None if embedding_dim is None else np.zeros((0, embedding_dim), np.float32)
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), embedding=emb)

    @classmethod
    def from_ultralytics(cls, result: Any, person_class: int = 0) -> Detections:
        """Adapt one Ultralytics ``Results`` object, keeping only the person class.

        Args:
            result: an ``ultralytics.engine.results.Results`` (detect or pose model).
            person_class: class index of "person" (0 in COCO).
        """
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return cls.empty()
        xyxy = boxes.xyxy.cpu().numpy().astype(np.float32)
        conf = boxes.conf.cpu().numpy().astype(np.float32)
        cls_ids = boxes.cls.cpu().numpy().astype(np.int64)
        keep = cls_ids == person_class
        keypoints = None
        kp = getattr(result, "keypoints", None)
        if kp is not None and kp.data is not None and kp.data.shape[1:] == (N_KEYPOINTS, 3):
            keypoints = kp.data.cpu().numpy().astype(np.float32)[keep]
        return cls(xyxy[keep], conf[keep], keypoints=keypoints)

    def __getitem__(self, index: npt.ArrayLike) -> Detections:
        """Select a subset by boolean mask or integer indices (always returns ``Detections``)."""
        idx = np.asarray(index)
        if idx.dtype != bool:
            idx = idx.astype(np.int64).reshape(-1)

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return Detections(
            xyxy=self.xyxy[idx],
            confidence=self.confidence[idx],
            keypoints=pick(self.keypoints),
            embedding=pick(self.embedding),
            track_id=pick(self.track_id),
            data={k: v[idx] for k, v in self.data.items()},
        )

    def with_embedding(self, embedding: npt.NDArray[np.float32]) -> Detections:
        return replace(self, embedding=np.asarray(embedding, np.float32))

    def with_track_id(self, track_id: npt.NDArray[np.int64]) -> Detections:
        return replace(self, track_id=np.asarray(track_id, np.int64))

    @property
    def tlwh(self) -> npt.NDArray[np.float32]:
        """(N, 4) boxes as (top-left x, top-left y, width, height)."""
        out = self.xyxy.copy()
        out[:, 2:] -= out[:, :2]
        return out

    @property
    def foot_point(self) -> npt.NDArray[np.float32]:
        """(N, 2) bottom-centre of each box: where the person stands, in image pixels."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1)


@dataclass(frozen=True)
class Frame:
    """One decoded video frame.

    Attributes:
        index: 0-based frame index in the source video.
        timestamp: seconds since the first frame, from the file's presentation timestamps (see
            :func:`pipeline.video.read_frames`).
        image: (H, W, 3) uint8 BGR pixels.
    """

    index: int
    timestamp: float
    image: npt.NDArray[np.uint8]
