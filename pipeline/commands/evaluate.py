"""``evaluate --gt GT.txt --pred RESULT.txt``: HOTA, IDF1, MOTA... with TrackEval."""

from __future__ import annotations

import argparse

from pipeline.evaluate import score_files

NAME = "evaluate"
HELP = "Score MOT predictions against ground truth (TrackEval HOTA, CLEAR, Identity)."
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, help="ground-truth MOT file")
    parser.add_argument("--pred", required=True, help="predicted MOT file")


def run(args: argparse.Namespace) -> int:
    row = score_files(args.gt, args.pred).as_row()
    print("  ".join(f"{k:>6}" for k in row))
    print("  ".join(f"{v:6.1f}" if isinstance(v, float) else f"{v:6d}" for v in row.values()))
    return 0
