"""Appearance embedders, chosen by name.

    >>> from pipeline.embedders import get_embedder
    >>> emb = get_embedder("hist")
    >>> emb.embed(frame, detections.xyxy).shape   # (N, emb.dim)

New embedders register a factory in ``_FACTORIES``; factories import lazily so that choosing ``hist``
never loads torch models or ONNX runtimes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.embedders.base import Embedder, l2_normalise
from pipeline.errors import UserError

__all__ = [
    "DEFAULT_PRECISION",
    "PRECISIONS",
    "Embedder",
    "available_embedders",
    "check_precision",
    "get_embedder",
    "l2_normalise",
    "self_contained_embedders",
]

# Numeric precision of the learned re-ID model where the runtime offers a choice (today: ``omz``; the
# others run as shipped). ``int8``: quantised once with NNCF and cached (pipeline.embedders.int8).
PRECISIONS = ("int8", "fp32")
DEFAULT_PRECISION = "int8"


def check_precision(precision: str, name: str = "reid precision") -> None:
    """Raise ``ValueError`` unless ``precision`` is one of :data:`PRECISIONS`."""
    if precision not in PRECISIONS:
        raise ValueError(f"{name} must be one of {', '.join(PRECISIONS)}, but got {precision!r}")


def _hist(**_: object) -> Embedder:
    from pipeline.embedders.hist import HistEmbedder

    return HistEmbedder()


def _mobilenet(device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.mobilenet import MobileNetEmbedder

    return MobileNetEmbedder(device=device)


def _osnet(model_path: str | Path | None = None, **_: object) -> Embedder:
    from pipeline.embedders.osnet import OSNetEmbedder

    return OSNetEmbedder(model_path)


def _omz(model_path: str | Path | None = None, precision: str = DEFAULT_PRECISION, **_: object) -> Embedder:
    from pipeline.embedders.omz import OMZEmbedder

    return OMZEmbedder(model_path, precision=precision)


def _siamese(model_path: str | Path | None = None, device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.siamese import SiameseEmbedder

    return SiameseEmbedder(model_path, device=device)


def _vae(model_path: str | Path | None = None, device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.vae import VAEEmbedder

    return VAEEmbedder(model_path, device=device)


def _auto(
    model_path: str | Path | None = None, device: str = "cpu", precision: str = DEFAULT_PRECISION, **_: object
) -> Embedder:
    from pipeline.embedders.auto import auto_embedder

    return auto_embedder(model_path, device=device, precision=precision)


_FACTORIES: dict[str, Callable[..., Embedder]] = {
    "hist": _hist,
    "mobilenet": _mobilenet,
    "osnet": _osnet,
    "omz": _omz,
    "siamese": _siamese,
    "vae": _vae,
    "auto": _auto,
}


# Embedders that run without a model file being named: their weights ship with an installed package (or
# they need none), and ``auto`` falls back to ``hist``. The others take ``model_path``.
_SELF_CONTAINED = ("auto", "hist", "mobilenet")


class UnknownEmbedderError(UserError, ValueError):
    """No embedder is registered under the requested name."""


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Add an embedder factory under ``name`` (used by plug-in modules)."""
    _FACTORIES[name] = factory


def available_embedders() -> list[str]:
    """Names accepted by :func:`get_embedder`."""
    return sorted(_FACTORIES)


def self_contained_embedders() -> list[str]:
    """Registered names that run without a model file (what a settings form can offer as a plain choice)."""
    return [name for name in _SELF_CONTAINED if name in _FACTORIES]


def get_embedder(
    name: str, model_path: str | Path | None = None, device: str = "cpu", precision: str = DEFAULT_PRECISION
) -> Embedder:
    """Build the embedder registered as ``name``.

    Args:
        precision: one of :data:`PRECISIONS`, for the embedders that offer a choice (see above).

    Raises:
        ValueError: unknown name (the message lists the valid ones) or precision.
    """
    check_precision(precision)
    factory = _FACTORIES.get(name)
    if factory is None:
        raise UnknownEmbedderError(
            f"unknown embedder {name!r}; valid names: {', '.join(available_embedders())}"
        )
    return factory(model_path=model_path, device=device, precision=precision)
