"""INT8 detector: our ``track`` defaults with the float and the INT8 OpenVINO detector, big and small people.

For each TUD sequence and its k x k mosaics (``tracking_small.py``: k^2 copies at 1/k scale, ground truth
copied; 2x2 puts people at 65-155 px, 3x3 at 43-103 px), runs the product's ``track`` defaults (``--imgsz
auto``, conf 0.1, faint tracks, gap filling; ``--embedder``, default the histogram) once with
``--backend openvino`` (the default) and once with ``--backend openvino-int8``, one right after the other,
and prints the size ``auto`` picked, HOTA / IDF1 / MOTA (TrackEval), fps (probe excluded) and the INT8
run's fps as a multiple of the float run's. The INT8 model is calibrated on photos that ship with the
installed packages (:mod:`pipeline.quantize`), not on this footage, and nothing was tuned on these runs.

    python benchmarks/int8.py [--mosaics 1 2 3] [--sequences TUD-Campus TUD-Stadtmitte] [--embedder hist]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from common import REPO, print_table
from run_helpers import run_ours
from tracking_small import add_mosaic_args, mosaic_sequences

from pipeline.evaluate import score_frames
from pipeline.track_settings import TrackSettings
from pipeline.track_video import load_components

BACKENDS = ("openvino", "openvino-int8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_mosaic_args(parser)
    parser.add_argument("--embedder", default="hist")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "int8.md")
    args = parser.parse_args()

    components = {}
    for backend in BACKENDS:
        settings = TrackSettings(imgsz="auto", embedder=args.embedder, backend=backend)
        components[backend] = (settings, load_components(settings))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for seq, k, video, gt in mosaic_sequences(args.sequences, args.mosaics, Path(work)):
            fps = {}
            for backend in BACKENDS:
                settings, comps = components[backend]
                run = run_ours(video, settings, comps)
                fps[backend] = run.fps
                s = score_frames(gt, run.rows)
                rows.append(
                    {
                        "sequence": seq.name,
                        "mosaic": f"{k}x{k}",
                        "backend": backend,
                        "imgsz": run.imgsz,
                        "HOTA": s.hota,
                        "IDF1": s.idf1,
                        "MOTA": s.mota,
                        "fps": fps[backend],
                        "x float fps": fps[backend] / fps[BACKENDS[0]],
                    }
                )
                print(
                    {k_: round(v, 2) if isinstance(v, float) else v for k_, v in rows[-1].items()}, flush=True
                )
    table = pd.DataFrame(rows)
    print(f"\nembedder {args.embedder}, --imgsz auto, conf 0.1\n")
    print_table(table, args.out, floatfmt=".2f")


if __name__ == "__main__":
    main()
