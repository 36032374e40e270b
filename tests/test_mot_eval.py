from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import UserError
from pipeline.evaluate import score_files, score_frames
from pipeline.mot_io import read_mot, write_mot

GT = pd.DataFrame(
    [(f, i, 10 + 5 * f + 100 * i, 20, 30, 60, 1) for f in range(1, 11) for i in (1, 2)],
    columns=["frame", "id", "x", "y", "w", "h", "score"],
)


def test_round_trip(tmp_path):
    write_mot(tmp_path / "a.txt", GT)
    lines = (tmp_path / "a.txt").read_text().splitlines()
    assert lines[0] == "1,1,115.00,20.00,30.00,60.00,1.0000,-1,-1,-1"
    back = read_mot(tmp_path / "a.txt")
    assert (
        back[["frame", "id", "x", "y", "w", "h"]].to_numpy().tolist()
        == GT[["frame", "id", "x", "y", "w", "h"]].to_numpy(float).tolist()
    )


@pytest.mark.parametrize(
    ("text", "rows", "error"),
    [
        ("", 0, None),
        ("1,2,3,4,5,6\n", 1, None),
        ("1,2,3\n", 0, "at least 6 columns"),
        ("1,2,a,4,5,6\n", 0, "line 1 is not numeric"),
    ],
)
def test_read_mot_table(tmp_path, text, rows, error):
    path = tmp_path / "m.txt"
    path.write_text(text)
    if error:
        with pytest.raises(UserError, match=error):
            read_mot(path)
    else:
        table = read_mot(path)
        assert len(table) == rows
        if rows:
            assert table["score"].iloc[0] == 1.0  # missing conf column defaults to 1


@pytest.mark.parametrize(
    ("pred", "expect"),
    [
        (GT, {"hota": 100.0, "idf1": 100.0, "mota": 100.0, "idsw": 0, "fp": 0, "fn": 0}),
        (GT.iloc[0:0], {"hota": 0.0, "idf1": 0.0, "fn": 20, "fp": 0}),
        (GT[GT["id"] == 1], {"fn": 10, "fp": 0, "idf1": pytest.approx(100 * 2 * 10 / 30)}),
        # Swap ids halfway: one identity switch per person.
        (
            GT.assign(id=GT["id"].where(GT["frame"] <= 5, 3 - GT["id"])),
            {"idsw": 2, "mota": 90.0, "idf1": 50.0},
        ),
    ],
)
def test_scores_against_known_answers(pred, expect):
    scores = score_frames(GT.assign(cx=-1), pred)
    for key, value in expect.items():
        assert getattr(scores, key) == value, key


def test_score_files(tmp_path):
    write_mot(tmp_path / "gt.txt", GT)
    assert score_files(tmp_path / "gt.txt", tmp_path / "gt.txt").hota == pytest.approx(100.0)
