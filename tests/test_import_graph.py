"""mmopt's import graph has no circles, between modules or between subpackages.

The graph is read from the source (AST), with every import counted: module level, inside
functions (a deferred import is still a dependency) and under ``TYPE_CHECKING`` (a type-only
import is still a dependency of the design). The layers it keeps, bottom up: errors, data,
engine, strategies, metrics, config, executors / tracking, report, search, cli.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mmopt"


@dataclass(frozen=True, slots=True)
class ImportEdge:
    """``source`` imports ``target`` at ``line`` of the source's file."""

    source: str
    target: str
    line: int


def _module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under ``package``."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The module that ``name`` (a module, or a name inside one) belongs to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported_names(module: str, path: Path, tree: ast.AST) -> Iterator[tuple[str, int]]:
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno  # a submodule or a name in ``base``


def import_edges(package: Path = PACKAGE) -> list[ImportEdge]:
    """Every import of one mmopt module by another."""
    modules = _module_files(package)
    edges = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for name, line in _imported_names(module, path, tree):
            if name.split(".")[0] != package.name:
                continue
            target = _owner(name, modules)
            if target is not None and target != module:
                edges.append(ImportEdge(module, target, line))
    return edges


def _subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def find_cycles(edges: list[ImportEdge]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return cycles


def _explain(cycle: list[str], edges: list[ImportEdge], level: str) -> str:
    members = set(cycle)
    lines = [
        f"  {e.source}:{e.line} imports {e.target}"
        for e in edges
        if _key(e.source, level) in members and _key(e.target, level) in members
        and _key(e.source, level) != _key(e.target, level)
    ]
    return f"{' <-> '.join(cycle)}:\n" + "\n".join(sorted(set(lines)))


def _key(module: str, level: str) -> str:
    return _subpackage(module) if level == "subpackage" else module


@pytest.mark.parametrize("level", ["module", "subpackage"])
def test_no_import_cycles(level: str) -> None:
    edges = import_edges()
    keyed = [ImportEdge(_key(e.source, level), _key(e.target, level), e.line) for e in edges]
    keyed = [e for e in keyed if e.source != e.target]
    cycles = find_cycles(keyed)
    assert not cycles, (
        f"import cycles between {level}s (move the shared piece down a layer, or pass it in):\n"
        + "\n".join(_explain(c, edges, level) for c in cycles)
    )


def test_the_checker_finds_a_cycle(tmp_path: Path) -> None:
    """The graph reader sees deferred, TYPE_CHECKING and relative imports."""
    pkg = tmp_path / "mmopt"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from .x import f\n")
    (pkg / "a" / "x.py").write_text("def f():\n    from mmopt.b import g\n    return g\n")
    (pkg / "b" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mmopt.a.x import f\n"
        "def g(): ...\n"
    )
    edges = import_edges(pkg)
    pairs = {(e.source, e.target) for e in edges}
    assert pairs == {("mmopt.a", "mmopt.a.x"), ("mmopt.a.x", "mmopt.b"), ("mmopt.b", "mmopt.a.x")}
    assert find_cycles(edges) == [["mmopt.a.x", "mmopt.b"]]


def test_config_asks_registries_not_importlib() -> None:
    """Config validation looks names up in the strategy registry and the engine's options
    through ordinary imports (visible to the graph above), never through importlib."""
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted((PACKAGE / "config").rglob("*.py"))
        if "importlib" in path.read_text()
    ]
    assert not offenders, f"importlib in the config layer: {offenders}"
