"""What decides a tracking result: :class:`TrackSettings` (light to import: no model is loaded)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.autosize import AUTO
from pipeline.detector import DEFAULT_CONF
from pipeline.embedders import DEFAULT_PRECISION, check_precision

DEFAULT_EMBEDDER = "auto"


@dataclass(frozen=True)
class TrackSettings:
    """Everything that decides a tracking result (stored with each processed video)."""

    weights: str | None = None
    imgsz: int | str = AUTO  # "auto": chosen per video from the people it shows (pipeline.autosize)
    conf: float = DEFAULT_CONF
    embedder: str = DEFAULT_EMBEDDER
    reid_model: str | None = None
    reid_precision: str = DEFAULT_PRECISION  # of the omz model: "int8" (quantised, cached) or "fp32"
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
        check_precision(self.reid_precision, "reid_precision")

    def as_dict(self) -> dict:
        return asdict(self)


# What a video tracked before a setting existed effectively ran with (stored settings lack the key).
_BEFORE_IT_EXISTED = {"reid_precision": "fp32"}  # the OMZ model ran as shipped until INT8 came


def tracked_alike(stored: dict, settings: TrackSettings, embedder_used: str | None) -> bool:
    """Whether a video tracked with ``stored`` settings (``as_dict()`` of this or an older version) would
    be tracked the same under ``settings``, so it need not be tracked again.

    A key missing from ``stored`` takes the value older versions ran with; ``reid_precision`` counts only
    where the ``omz`` model ran (``embedder_used``, the name the video's rows were stored under), so
    videos tracked with the histogram are not re-tracked for it.
    """
    old = {**settings.as_dict(), **_BEFORE_IT_EXISTED, **stored}
    new = settings.as_dict()
    if embedder_used != "omz":
        del old["reid_precision"]
        del new["reid_precision"]
    return old == new
