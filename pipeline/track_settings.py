"""What decides a tracking result: :class:`TrackSettings` (light to import: no model is loaded)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.autosize import AUTO
from pipeline.detector import DEFAULT_CONF

DEFAULT_EMBEDDER = "auto"


@dataclass(frozen=True)
class TrackSettings:
    """Everything that decides a tracking result (stored with each processed video)."""

    weights: str | None = None
    imgsz: int | str = AUTO  # "auto": chosen per video from the people it shows (pipeline.autosize)
    conf: float = DEFAULT_CONF
    embedder: str = DEFAULT_EMBEDDER
    reid_model: str | None = None
    stride: int = 1
    sample_fps: float | None = None
    device: str | None = None
    backend: str | None = None
    tiles: int = 1

    def __post_init__(self) -> None:
        if self.imgsz != AUTO and (
            isinstance(self.imgsz, bool) or not isinstance(self.imgsz, int) or not 32 <= self.imgsz <= 4096
        ):
            raise ValueError(f"imgsz must be 'auto' or an integer in [32, 4096], but got {self.imgsz!r}")

    def as_dict(self) -> dict:
        return asdict(self)
