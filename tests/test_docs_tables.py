"""The measured tables of docs/ are generated from benchmarks/results/ (benchmarks/render_docs.py)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Loaded from its file, not by putting benchmarks/ on sys.path: benchmarks/dashboard.py would then shadow
# the dashboard package for every later import (and for worker processes, which inherit sys.path).
_spec = importlib.util.spec_from_file_location("render_docs", ROOT / "benchmarks" / "render_docs.py")
render_docs = importlib.util.module_from_spec(_spec)
sys.modules["render_docs"] = render_docs  # its dataclass looks its module up there
_spec.loader.exec_module(render_docs)

PAGES = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_tables_are_the_recorded_results(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert render_docs.render(text) == text, f"{page.name} is stale: run `make docs`"


def test_every_results_file_is_on_a_page() -> None:
    """Each results file is shown (a results block) or linked (``results/NAME)``) somewhere in docs/."""
    texts = [p.read_text(encoding="utf-8") for p in PAGES]
    shown = set().union(*(render_docs.included_files(t) for t in texts))
    linked = {name for t in texts for name in re.findall(r"results/([\w.-]+\.md)\)", t)}
    files = sorted(f.name for f in (ROOT / "benchmarks" / "results").glob("*.md"))
    missing = [f for f in files if f not in shown | linked]
    assert not missing, f"results files neither shown nor linked in docs/: {missing}"


def test_benchmarks_page_has_no_hand_written_results_table() -> None:
    """Every table of the benchmarks page outside a results block is the script index (no figures)."""
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    outside = render_docs.BLOCK.sub("", text)
    headers = [line for line in outside.splitlines() if line.startswith("| ") and "---" not in line]
    tables = [h for h in headers if h.startswith("| script |")]
    rows = [h for h in headers if not h.startswith("| `benchmarks/") and not h.startswith("| script |")]
    assert tables and not rows, f"hand-written table rows on the benchmarks page: {rows[:3]}"


RESULTS = """\
Some text.

| sequence   | embedder   |   HOTA |
|:-----------|:-----------|-------:|
| A          | hist       |  59.91 |
| A          | omz        |  60.10 |
| B          | hist       |  64.09 |

| second | table |
|---|---|
| x | y |
"""


@pytest.fixture
def results(tmp_path: Path) -> Path:
    (tmp_path / "run.md").write_text(RESULTS)
    return tmp_path


def test_render_fills_a_block_with_rows_and_columns_selected(results: Path) -> None:
    page = 'Intro\n<!-- results: run.md | columns: sequence, HOTA | where: embedder == "hist" -->\nold\n<!-- /results -->\nEnd\n'
    out = render_docs.render(page, results)
    assert out == (
        'Intro\n<!-- results: run.md | columns: sequence, HOTA | where: embedder == "hist" -->\n'
        "| sequence | HOTA |\n|---|--:|\n| A | 59.91 |\n| B | 64.09 |\n<!-- /results -->\nEnd\n"
    )
    assert render_docs.render(out, results) == out  # idempotent


def test_render_picks_the_nth_table(results: Path) -> None:
    out = render_docs.render("<!-- results: run.md | table: 2 -->\n<!-- /results -->\n", results)
    assert "| x | y |" in out and "59.91" not in out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.md", "does not exist"),
        ("run.md | table: 3", "has 2 table"),
        ("run.md | columns: sequence, MOTA", "no column"),
        ('run.md | where: embedder == "vae"', "keeps no row"),
        ("run.md | colour: red", "unknown option 'colour'"),
        ("run.md | columns", "not 'key: value'"),
    ],
)
def test_a_bad_marker_names_what_is_wrong(results: Path, spec: str, message: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        render_docs.render(f"<!-- results: {spec} -->\n<!-- /results -->\n", results)
