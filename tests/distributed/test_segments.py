"""Time segments of one video: planning, stitching at the seams, and reassembly (no Ray needed)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from pipeline.config import CameraConfig
from pipeline.distributed.segments import (
    Segment,
    VideoAssembler,
    plan_segments,
    segmented_messages,
    segments_for,
    stitch_tracks,
)
from pipeline.evaluate import score_frames
from pipeline.mot_io import read_mot
from pipeline.process import VideoMessage, VideoTask, video_messages
from pipeline.track_video import TrackSettings, load_components
from pipeline.video import probe


@pytest.mark.parametrize(
    ("n_frames", "n_segments", "overlap", "step", "expected", "error"),
    [
        (0, 3, 2, 1, [Segment(0, 0, None, 0, None)], None),  # empty video: one segment
        (100, 1, 10, 1, [Segment(0, 0, None, 0, None)], None),
        (100, 2, 10, 1, [Segment(0, 0, 60, 0, 50), Segment(1, 40, None, 50, None)], None),
        # Cuts and read starts on the stride's grid: a segment processes exactly the unsplit run's frames.
        (100, 2, 10, 3, [Segment(0, 0, 58, 0, 48), Segment(1, 36, None, 48, None)], None),
        (
            90,
            3,
            5,
            1,
            [Segment(0, 0, 35, 0, 30), Segment(1, 25, 65, 30, 60), Segment(2, 55, None, 60, None)],
            None,
        ),
        (15, 2, 10, 1, [Segment(0, 0, None, 0, None)], None),  # too short to split
        (  # too short for 8
            30,
            8,
            10,
            1,
            [Segment(0, 0, 20, 0, 10), Segment(1, 0, 30, 10, 20), Segment(2, 10, None, 20, None)],
            None,
        ),
        (100, 0, 10, 1, None, "n_segments must be >= 1"),
        (100, 2, -1, 1, None, "overlap must be >= 0"),
        (100, 2, 10, 0, None, "step must be >= 1"),
        (-5, 2, 10, 1, None, "n_frames must be >= 0"),
    ],
)
def test_plan_segments(n_frames, n_segments, overlap, step, expected, error):
    if error:
        with pytest.raises(ValueError, match=error):
            plan_segments(n_frames, n_segments, overlap, step)
        return
    segments = plan_segments(n_frames, n_segments, overlap, step)
    assert segments == expected
    # Owned ranges tile the video without gaps or overlap.
    assert segments[0].own_start == 0 and segments[-1].own_end is None
    assert all(a.own_end == b.own_start for a, b in pairwise(segments))


def rows(*boxes: tuple[int, int, float]) -> pd.DataFrame:
    """Track points ``(frame, track_id, x)`` of 10 x 20 px boxes at ``(x, 0)``."""
    frame, tid, x = (np.array(v) for v in zip(*boxes)) if boxes else ([], [], [])
    x = np.asarray(x, float)
    return pd.DataFrame({"frame": frame, "track_id": tid, "x1": x, "y1": 0.0, "x2": x + 10, "y2": 20.0})


def walk(track_id: int, x0: float, frames: range) -> list[tuple[int, int, float]]:
    return [(f, track_id, x0 + f) for f in frames]


E1, E2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])


@pytest.mark.parametrize(
    ("prev", "nxt", "prev_emb", "next_emb", "expected"),
    [
        (rows(), rows(), None, None, {}),  # Nothing to match.
        (rows(*walk(4, 0, range(5))), rows(), None, None, {}),
        # Same boxes, other ids: stitched both ways round.
        (
            rows(*walk(4, 0, range(5)), *walk(9, 100, range(5))),
            rows(*walk(1, 100, range(5)), *walk(2, 0, range(5))),
            None,
            None,
            {1: 9, 2: 4},
        ),
        # A person who left before the other side's tracker saw them: no pair.
        (rows(*walk(4, 0, range(5))), rows(*walk(1, 300, range(5))), None, None, {}),
        # One coinciding frame is not enough evidence.
        (rows(*walk(4, 0, range(1))), rows(*walk(1, 0, range(1))), None, None, {}),
        # Boxes agree on 2 of 5 frames only (the later tracker's id switched mid-window).
        (
            rows(*walk(4, 0, range(5))),
            rows(*walk(1, 0, range(2)), *walk(1, 200, range(2, 5))),
            None,
            None,
            {},
        ),
        # Appearance: same boxes but different-looking people are not stitched; alike ones are.
        (rows(*walk(4, 0, range(5))), rows(*walk(1, 0, range(5))), {4: E1}, {1: E2}, {}),
        (rows(*walk(4, 0, range(5))), rows(*walk(1, 0, range(5))), {4: E1}, {1: E1}, {1: 4}),
        # Two people side by side (boxes overlapping a little): each keeps its own id.
        (
            rows(*walk(4, 0, range(6)), *walk(5, 4, range(6))),
            rows(*walk(7, 4, range(6)), *walk(8, 0, range(6))),
            None,
            None,
            {7: 5, 8: 4},
        ),
    ],
)
def test_stitch_tracks(prev, nxt, prev_emb, next_emb, expected):
    assert stitch_tracks(prev, nxt, prev_emb, next_emb) == expected


def points(frames: range, ids: dict[int, float]) -> pd.DataFrame:
    """Track point rows (subset of the stored columns) for ``ids`` (track id -> x) in every frame."""
    return rows(*[(f, tid, x) for f in frames for tid, x in ids.items()]).assign(video_id=1, camera="c")


def chunks(ids: list[int], frames: range) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "track_id": ids,
            "chunk": 0,
            "t_start": float(frames.start),
            "t_end": float(frames.stop - 1),
            "first_frame": frames.start,
            "last_frame": frames.stop - 1,
            "n_embedded": 2,
            "embedding": [[1.0, 0.0]] * len(ids),
        }
    )


def test_assembler_renumbers_trims_and_orders_segments():
    segments = plan_segments(40, 2, 5)  # own [0, 20) and [20, end); read [0, 25) and [15, end)
    # Segment 0 tracks A (x=0) and B (x=100); segment 1 tracks A as 1, a new person C as 2 (x=300), B as 3.
    first = [
        VideoMessage("c", points(range(0, 10), {0: 0, 1: 100}), 10),
        VideoMessage(
            "c",
            points(range(10, 25), {0: 0, 1: 100}),
            25,
            True,
            {0: np.ones(2) / 2**0.5},
            2,
            "hist",
            chunks([0, 1], range(0, 20)),
        ),
    ]
    second = [
        VideoMessage("c", points(range(15, 30), {1: 0, 3: 100}), 30),
        VideoMessage(
            "c",
            points(range(30, 40), {1: 0, 2: 300, 3: 100}),
            40,
            True,
            {1: np.ones(2) / 2**0.5},
            3,
            "hist",
            chunks([1, 2, 3], range(20, 40)),
            "truncated",
        ),
    ]
    assembler = VideoAssembler(segments)
    assert assembler.add(1, second) == []  # waits for segment 0
    out = assembler.add(0, first)
    assert assembler.done and assembler.stitched == 2
    assert [m.final for m in out] == [False, False, False, True]
    assert [m.frames_done for m in out] == [10, 20, 30, 40]  # never beyond the owned range, never backwards
    table = pd.concat([m.rows for m in out])
    assert table.duplicated(["frame", "track_id"]).sum() == 0 and sorted(table["frame"].unique()) == list(
        range(40)
    )
    ids = table.groupby("x1")["track_id"].unique().to_dict()  # first frame's x per person
    by_person = {x: set(v.tolist()) for x, v in ids.items()}
    assert by_person[0.0] == {0} and by_person[100.0] == {1}  # continued across the seam
    assert table[table["frame"] >= 30].query("x1 >= 300")["track_id"].unique().tolist() == [2]  # fresh id
    final = out[-1]
    assert final.n_tracks == 3 and final.warning == "segment 1: truncated"
    assert sorted(final.chunks["track_id"].tolist()) == [0, 0, 1, 1, 2]
    assert final.chunks.query("track_id == 0")["chunk"].tolist() == [0, 1]  # renumbered per track
    assert np.linalg.norm(final.embeddings[0]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([], "must end with a final one"),
        ([VideoMessage("c", points(range(0), {}), 0)], "must end with a final"),
    ],
)
def test_assembler_refuses_unfinished_segments(messages, error):
    with pytest.raises(ValueError, match=error):
        VideoAssembler(plan_segments(40, 2, 5)).add(0, messages)


def mot_rows(messages: list[VideoMessage]) -> pd.DataFrame:
    table = pd.concat([m.rows for m in messages if len(m.rows)])
    return pd.DataFrame(
        {
            "frame": table["frame"] + 1,
            "id": table["track_id"],
            "x": table["x1"],
            "y": table["y1"],
            "w": table["x2"] - table["x1"],
            "h": table["y2"] - table["y1"],
            "score": table["score"],
        }
    )


@pytest.mark.slow
def test_two_segments_score_like_the_unsplit_video(mot15):
    seq = mot15 / "TUD-Campus"
    settings = TrackSettings(imgsz=320, conf=0.1, embedder="hist")
    components = load_components(settings)
    info = probe(seq / "TUD-Campus.mp4")
    task = VideoTask(
        1, CameraConfig("campus", info.path, datetime(2026, 11, 20, 9)), info, settings, 20, False
    )
    gt = read_mot(seq / "gt" / "gt.txt")
    unsplit = list(video_messages(task, components))
    # 1 s each side of the cut (the default, 2 s, is the tracker's max_age: too long for this 3 s clip).
    segments = segments_for(info, n_segments=2, overlap_seconds=1.0)
    assert len(segments) == 2
    split = list(segmented_messages(task, segments, components))
    base, seg = score_frames(gt, mot_rows(unsplit)), score_frames(gt, mot_rows(split))
    assert abs(seg.hota - base.hota) <= 0.5 and abs(seg.idf1 - base.idf1) <= 0.5, (base, seg)
    assert seg.hota > 40  # a real result, not two empty runs
    # Every frame once, ids unique per video (no id reused by another person after the seam).
    table = pd.concat([m.rows for m in split])
    assert table.duplicated(["frame", "track_id"]).sum() == 0
    assert split[-1].n_tracks == table["track_id"].nunique() and split[-1].final
