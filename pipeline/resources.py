"""Files shipped inside installed packages (default model weights), located without importing them, and
the user cache that derived models (exports, INT8 quantisations) go to."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from pipeline.errors import WeightsError


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """A model weights file is missing."""


def package_file(package: str, relative: str | Path, missing_package: str) -> Path:
    """``relative`` inside the installed ``package`` (its import would be slow or, for some, broken).

    Raises:
        WeightsNotFoundError: the package is not installed (``missing_package`` says what to do) or
            it lacks the file.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError(missing_package)
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise WeightsNotFoundError(
            f"{Path(relative).name} not found in the installed {package} package ({path})"
        )
    return path


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/shopper-reid`` (``~/.cache/shopper-reid`` without the variable)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "shopper-reid"
