"""The embedder interface: a person crop in, an L2-normalised appearance vector out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


@runtime_checkable
class Embedder(Protocol):
    """Turns person boxes in a frame into appearance features.

    Attributes:
        name: registry name.
        dim: feature length D.
    """

    name: str
    dim: int

    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Embed the (N, 4) xyxy boxes of one (H, W, 3) BGR frame.

        Returns:
            (N, D) float32 rows with unit L2 norm; (0, D) for no boxes.
        """
        ...


def l2_normalise(features: np.ndarray) -> npt.NDArray[np.float32]:
    """Scale each row to unit length (zero rows stay zero)."""
    features = np.asarray(features, np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)
