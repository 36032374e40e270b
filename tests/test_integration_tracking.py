"""The real detector and tracker on real footage, scored with TrackEval against MOT ground truth."""

from __future__ import annotations

import pytest

from pipeline.evaluate import score_files
from tests.test_cli import cli

# Measured on TUD-Campus at imgsz 960, conf 0.1 with the default tracker: see README "Measured results".
# The floors leave a few points for CPU/library numeric differences, far below what a broken tracker reaches.
FLOORS = {"hist": (50.0, 65.0)}


@pytest.mark.slow
@pytest.mark.parametrize("embedder", list(FLOORS))
def test_track_tud_campus_hota_floor(tmp_path, mot15, embedder):
    seq = mot15 / "TUD-Campus"
    out = tmp_path / "pred.txt"
    result = cli("track", str(seq / "TUD-Campus.mp4"), "--out", str(out), "--embedder", embedder)
    assert result.returncode == 0, result.stderr
    scores = score_files(seq / "gt" / "gt.txt", out)
    hota_floor, idf1_floor = FLOORS[embedder]
    assert scores.hota >= hota_floor, scores
    assert scores.idf1 >= idf1_floor, scores
    result = cli("evaluate", "--gt", str(seq / "gt" / "gt.txt"), "--pred", str(out))
    assert result.returncode == 0 and "HOTA" in result.stdout and f"{scores.hota:6.1f}" in result.stdout
