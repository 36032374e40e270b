"""Fill the result tables of the pages under ``docs/`` from ``benchmarks/results/``.

The prose of the pages is written by hand; their measured tables are not. Every such table sits between
a marker naming the results file it comes from and an end marker::

    <!-- results: tracking.md | columns: sequence, tracker, HOTA | where: imgsz == "640" -->
    (generated table)
    <!-- /results -->

Options, all optional, separated by ``|``:

- ``table: N``: the N-th table of the file (1-based; default 1).
- ``columns: a, b, c``: keep these columns, in this order.
- ``where: EXPR``: keep the rows where the pandas query ``EXPR`` holds. Every cell is a string, as
  written in the results file, so compare with quoted values (``embedder == "hist"``); backticks
  quote column names with spaces.

Usage::

    python benchmarks/render_docs.py            # rewrite the pages in place
    python benchmarks/render_docs.py --check    # exit 1 if a page is not what the results give

``make docs`` runs the first; the test suite runs the check, so a results file re-written by a
benchmark and a page that still shows the old table cannot both be committed.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"

BLOCK = re.compile(r"(<!-- results: (?P<spec>.*?) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


@dataclass(frozen=True)
class Include:
    """One marker: which table of which results file, and which of its rows and columns."""

    file: str
    table: int = 1
    columns: tuple[str, ...] = ()
    where: str | None = None


def parse_spec(spec: str) -> Include:
    """The marker's text after ``results:`` as an :class:`Include` (``ValueError`` naming a bad option)."""
    file, *options = [part.strip() for part in spec.split("|")]
    if not file:
        raise ValueError(f"results marker without a file name: {spec!r}")
    table, columns, where = 1, (), None
    for option in options:
        key, sep, value = option.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise ValueError(f"{file}: option {option!r} is not 'key: value'")
        if key == "table":
            table = int(value)
        elif key == "columns":
            columns = tuple(c.strip() for c in value.split(","))
        elif key == "where":
            where = value
        else:
            raise ValueError(f"{file}: unknown option {key!r} (table, columns, where)")
    return Include(file, table, columns, where)


def read_tables(text: str) -> list[pd.DataFrame]:
    """Every pipe table of a markdown text, cells as stripped strings."""
    tables: list[list[list[str]]] = []
    previous_was_row = False
    for line in text.splitlines():
        is_row = line.startswith("|")
        if is_row:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not previous_was_row:
                tables.append([])
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                tables[-1].append(cells)
        previous_was_row = is_row
    return [pd.DataFrame(rows[1:], columns=rows[0], dtype=str) for rows in tables]


def _right_aligned(values: pd.Series) -> bool:
    return bool(len(values)) and bool(
        values.map(lambda v: v == "" or re.fullmatch(r"[-+]?[\d.,]+ ?%?|nan|–", v) is not None).all()
    )


def to_markdown(table: pd.DataFrame) -> str:
    """A pipe table with numeric columns right-aligned."""
    rules = ["--:" if _right_aligned(table[c]) else "---" for c in table.columns]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "|".join(rules) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def render_include(include: Include, results: Path = RESULTS) -> str:
    """The table an include marker stands for."""
    path = results / include.file
    if not path.is_file():
        raise FileNotFoundError(f"results file {path} named in the benchmarks page does not exist")
    tables = read_tables(path.read_text())
    if not 1 <= include.table <= len(tables):
        raise ValueError(
            f"{include.file} has {len(tables)} table(s), the page asks for table {include.table}"
        )
    table = tables[include.table - 1]
    if include.where:
        table = table.query(include.where)
    if include.columns:
        missing = [c for c in include.columns if c not in table.columns]
        if missing:
            raise ValueError(f"{include.file}: no column {missing} (columns: {list(table.columns)})")
        table = table[list(include.columns)]
    if table.empty:
        raise ValueError(f"{include.file}: the selection {include} keeps no row")
    return to_markdown(table.replace("nan", "–"))  # a cell the run did not measure


def render(page: str, results: Path = RESULTS) -> str:
    """``page`` with every results block filled from ``results``."""

    def fill(match: re.Match) -> str:
        include = parse_spec(match["spec"])
        return match.group(1) + render_include(include, results) + match.group(4)

    return BLOCK.sub(fill, page)


def included_files(page: str) -> set[str]:
    """The results files a page includes."""
    return {parse_spec(m["spec"]).file for m in BLOCK.finditer(page)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a page is stale")
    parser.add_argument("pages", type=Path, nargs="*", help="default: every page under docs/")
    args = parser.parse_args(argv)
    stale = []
    for page in args.pages or sorted(DOCS.glob("*.md")):
        current = page.read_text()
        fresh = render(current)
        if fresh == current:
            continue
        if args.check:
            stale.append(page)
        else:
            page.write_text(fresh)
            print(f"rewrote {page}")
    for page in stale:
        print(f"{page} is stale: run `make docs` (python benchmarks/render_docs.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
