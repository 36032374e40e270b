"""MOT Challenge text files: ``frame,id,x,y,w,h,score,-1,-1,-1`` (1-based frames, pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import UserError

MOT_COLUMNS = ["frame", "id", "x", "y", "w", "h", "score", "cx", "cy", "cz"]


def read_mot(path: str | Path) -> pd.DataFrame:
    """Read a MOT file into a DataFrame with ``MOT_COLUMNS`` (missing trailing columns = -1).

    Raises:
        UserError: missing file or rows that are not numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"MOT file not found: {path}")
    if path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in MOT_COLUMNS})
    try:
        table = pd.read_csv(path, header=None, sep=r"[,\s]+", engine="python")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not a MOT text file: {exc}") from exc
    if table.shape[1] < 6:
        raise UserError(f"{path}: MOT rows need at least 6 columns (frame,id,x,y,w,h), got {table.shape[1]}")
    table = table.iloc[:, :10]
    for missing in range(table.shape[1], 10):
        table[missing] = 1.0 if missing == 6 else -1.0
    table.columns = MOT_COLUMNS
    bad = table.apply(pd.to_numeric, errors="coerce").isna().any(axis=1)
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise UserError(f"{path}: line {line} is not numeric")
    return table.astype(float)


def write_mot(path: str | Path, rows: pd.DataFrame) -> None:
    """Write rows with columns ``frame, id, x, y, w, h, score`` (others are written as -1).

    ``frame`` must already be 1-based. Rows are sorted by frame then id.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = rows[["frame", "id", "x", "y", "w", "h", "score"]].copy()
    out = out.sort_values(["frame", "id"], kind="stable")
    with path.open("w", encoding="ascii") as fh:
        for frame, tid, x, y, w, h, score in out.itertuples(index=False):
            fh.write(f"{int(frame)},{int(tid)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{score:.4f},-1,-1,-1\n")
