"""The README and docs/: every relative link resolves to a file, and the README stays short."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250
# [text](target) and [text](target "title"); images too. Reference-style links are not used.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def relative_links(path: Path) -> list[str]:
    """Link targets in ``path`` that point into the repository (no scheme, no mail, no bare anchor)."""
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    targets = LINK.findall(text)
    return [t for t in targets if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t) and not t.startswith("#")]


def test_docs_exist() -> None:
    assert (ROOT / "docs" / "README.md").is_file()
    assert len(DOCS) > 2


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    broken = []
    for target in relative_links(path):
        if "#" in target:
            broken.append(f"{target} (anchors break silently when a heading changes: link the file)")
        elif not (path.parent / target).resolve().is_file():
            broken.append(f"{target} (no such file)")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_same_page_anchors(path: Path) -> None:
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    anchors = [t for t in LINK.findall(text) if t.startswith("#")]
    assert not anchors, f"{path.relative_to(ROOT)}: anchor links {anchors}"


def test_readme_is_short_and_has_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    assert "make run" in text
    assert "make test" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("[a](docs/x.md) and [b](https://example.com)", ["docs/x.md"]),
        ("![img](pic.png) [m](mailto:a@b.c) [top](#intro)", ["pic.png"]),
        ('[t](cli.md "the CLI")', ["cli.md"]),
        ("`[not](a-link.md)`\n```\n[nor](this.md)\n```\n", []),
    ],
)
def test_relative_links_parser(tmp_path: Path, text: str, expected: list[str]) -> None:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    assert relative_links(page) == expected
