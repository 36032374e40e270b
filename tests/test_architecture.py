"""The house plan, checked: no import circle, a light config import, a dashboard free of the models.

The import graph is read with ``ast`` from the source of every module under ``pipeline/``, ``zones/`` and
``dashboard/``. Every ``import`` counts as an edge, also one inside a function (a lazy import hides a
circle, it does not remove it); only imports under ``if TYPE_CHECKING:`` are left out (they never run).
Importing ``a.b.c`` also runs ``a`` and ``a.b``, so those are edges too, except the importing module's own
parent packages (already initialised when it runs).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "zones", "dashboard")
# What the dashboard must not import: it submits jobs to pipeline.jobs and never wires models itself.
MODEL_MODULES = ("pipeline.process", "pipeline.track_video", "pipeline.detector", "pipeline.reid")


def _modules() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of :data:`PACKAGES`."""
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every dotted name an import statement of ``module`` may load (``from a import b`` gives a and a.b)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skipped.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of :data:`PACKAGES` that importing it runs directly."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        parts = module.split(".")
        own_packages = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        edges = set()
        for name in _imported_names(
            ast.parse(path.read_text(encoding="utf-8")), module, path.stem == "__init__"
        ):
            pieces = name.split(".")
            for i in range(1, len(pieces) + 1):
                target = ".".join(pieces[:i])
                if target in modules and target not in own_packages:
                    edges.add(target)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-loop), each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({}, []),
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"a"}}, [["a"]]),
    ],
)
def test_find_cycles(graph, expected):
    assert find_cycles(graph) == expected


def test_the_graph_sees_lazy_and_package_imports():
    graph = import_graph()
    assert len(graph) > 50
    assert "pipeline.store.geometry" in graph["pipeline.config"]
    assert "pipeline.config" in graph["zones.analyse"]
    # zones.analyse imports zones.flags, not its own package `zones` (already initialised when it runs).
    assert "zones.flags" in graph["zones.analyse"] and "zones" not in graph["zones.analyse"]


def test_no_import_cycle():
    assert find_cycles(import_graph()) == []


def _loaded_after(code: str) -> set[str]:
    """Top-level modules loaded by running ``code`` in a fresh interpreter at the repository root."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


SAMPLE_CONFIG = """
name: Corner shop
floor_plan: {width: 20, height: 12}
cameras:
  - {name: entrance, start_time: 2026-11-20T09:00:00, homography: [[0.02, 0, -1], [0, 0.03, 2], [0, 0.0001, 1]]}
zones:
  - {name: Till, kind: checkout, polygon: [[2, 2], [8, 2], [8, 6], [2, 6]]}
  - {name: Door, kind: entrance, polygon: [[100, 100], [200, 100], [200, 200]], camera: entrance}
analytics: {min_dwell_s: 4, queues: {Till: Till}}
flags: {long_dwell: {threshold_s: 200}}
reid: {max_walking_speed: 2.5}
"""


def test_parsing_a_config_loads_neither_duckdb_nor_pandas(tmp_path):
    path = tmp_path / "store.yaml"
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    loaded = _loaded_after(
        textwrap.dedent(f"""
        from pipeline.config import load_config
        config = load_config({str(path)!r}, check_files=False)
        assert [z.name for z in config.zones] == ["Till", "Door"]
        """)
    )
    assert {"duckdb", "pandas"} & loaded == set()


DASHBOARD_MODULES = sorted(
    f"dashboard.{p.stem}" for p in (REPO / "dashboard").glob("*.py") if p.stem != "__init__"
)


def test_dashboard_modules_load_neither_torch_nor_ultralytics():
    loaded = _loaded_after("\n".join(["import dashboard"] + [f"import {m}" for m in DASHBOARD_MODULES]))
    assert {"torch", "ultralytics"} & loaded == set()


def test_dashboard_imports_no_model_module():
    graph = import_graph()
    offenders = {
        module: sorted(t for t in targets if any(t == m or t.startswith(m + ".") for m in MODEL_MODULES))
        for module, targets in graph.items()
        if module.split(".")[0] == "dashboard"
    }
    assert {m: t for m, t in offenders.items() if t} == {}
