"""Training tests reuse the embedder tests' fixtures (shared folder locator, tiny models)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_embedder_fixtures", Path(__file__).resolve().parents[1] / "embedders" / "conftest.py"
)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

shared_dir = _fixtures.shared_dir
shared = _fixtures.shared
models_dir = _fixtures.models_dir
reid_models_env = _fixtures.reid_models_env
market_train = _fixtures.market_train
trained_models = _fixtures.trained_models
