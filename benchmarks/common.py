"""Helpers shared by the benchmark scripts: locating ../shared and printing tables."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def shared_dir() -> Path:
    """``$SHOPPER_SHARED`` or ``../shared`` beside the repository; exit with a message if absent."""
    for candidate in (os.environ.get("SHOPPER_SHARED"), REPO.parent / "shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    sys.exit("shared data not found: put it at ../shared or set SHOPPER_SHARED")


def mot_sequences(names: list[str] | None = None) -> list[Path]:
    """Sequence folders under ``shared/data/mot15`` (each with ``NAME.mp4`` and ``gt/gt.txt``)."""
    root = shared_dir() / "data" / "mot15"
    seqs = sorted(p for p in root.iterdir() if (p / "gt" / "gt.txt").is_file())
    if names:
        seqs = [p for p in seqs if p.name in names]
    return seqs


def print_table(table: pd.DataFrame, out: Path | None = None, floatfmt: str = ".1f") -> None:
    """Print ``table`` as markdown (and write it to ``out`` when given)."""
    text = table.to_markdown(index=False, floatfmt=floatfmt)
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
