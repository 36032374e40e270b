"""A database the dashboard holds open: the CLI says so in words (it printed DuckDB's lock message and PID)."""

from __future__ import annotations

import subprocess
import sys

from tests.dashboard.dashboard_testkit import REPO, make_campus_db

# The dashboard's own connection code, holding the file like a running `make run` does.
HOLDER = (
    "import sys, time; from dashboard import data; data.connection(sys.argv[1]); print('open', flush=True); "
    "time.sleep(60)"
)


def test_analyse_on_a_database_the_dashboard_holds(data_dir):
    db = str(make_campus_db(data_dir / "campus.duckdb"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open", holder.stderr.read()
        run = subprocess.run(
            [sys.executable, "-m", "pipeline", "analyse", "--db", db],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode != 0
    assert "open in the dashboard" in run.stderr, run.stderr
    assert "PID" not in run.stderr and "Conflicting lock" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1  # one error line, no traceback
