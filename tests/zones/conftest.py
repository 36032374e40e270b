"""Fixtures of the zones tests; the builders live in ``zones_testkit.py`` so test modules can import them."""

import sys
from pathlib import Path

# This folder is not a package and pytest may run in importlib mode, which leaves sys.path alone.
sys.path.insert(0, str(Path(__file__).parent))

from zones_testkit import store  # noqa: E402, F401  (fixture)
