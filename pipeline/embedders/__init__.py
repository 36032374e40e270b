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

__all__ = ["Embedder", "available_embedders", "get_embedder", "l2_normalise", "self_contained_embedders"]


def _hist(**_: object) -> Embedder:
    from pipeline.embedders.hist import HistEmbedder

    return HistEmbedder()


def _mobilenet(device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.mobilenet import MobileNetEmbedder

    return MobileNetEmbedder(device=device)


def _osnet(model_path: str | Path | None = None, **_: object) -> Embedder:
    from pipeline.embedders.osnet import OSNetEmbedder

    return OSNetEmbedder(model_path)


def _omz(model_path: str | Path | None = None, **_: object) -> Embedder:
    from pipeline.embedders.omz import OMZEmbedder

    return OMZEmbedder(model_path)


def _siamese(model_path: str | Path | None = None, device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.siamese import SiameseEmbedder

    return SiameseEmbedder(model_path, device=device)


def _vae(model_path: str | Path | None = None, device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.vae import VAEEmbedder

    return VAEEmbedder(model_path, device=device)


def _auto(model_path: str | Path | None = None, device: str = "cpu", **_: object) -> Embedder:
    from pipeline.embedders.auto import auto_embedder

    return auto_embedder(model_path, device=device)


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


def get_embedder(name: str, model_path: str | Path | None = None, device: str = "cpu") -> Embedder:
    """Build the embedder registered as ``name``.

    Raises:
        ValueError: unknown name (the message lists the valid ones).
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise UnknownEmbedderError(
            f"unknown embedder {name!r}; valid names: {', '.join(available_embedders())}"
        )
    return factory(model_path=model_path, device=device)
