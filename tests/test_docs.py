"""The documents in docs/: the strategy example runs, references resolve, nothing points outside.

* The complete strategy of docs/strategies.md is extracted, imported as a module, registered,
  and backtested on a small synthetic shard: it must quote and fill.
* Every ``docs/<name>.md`` named in a tracked file, and every relative link inside docs/ and
  README.md, names a file that exists.
* No tracked file names a path outside the repository: ``/tmp/...`` and ``/work/...`` never;
  ``../shared`` only as the real data's documented location ``../shared/data/binance``.
  ``ALLOWED_OUTSIDE`` lists the few runtime locations that are not references (with why).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

# Where tracked text lives (the package, its tests and tools, docs and the top-level files).
TRACKED_DIRS = ("mmopt", "tests", "benchmarks", "jobs", "docs", "docker", ".ci")
TRACKED_TOP = ("README.md", "Makefile", "pyproject.toml", "constraints.txt")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".sql", ".cfg", ".sh", ".ini"}
TEXT_NAMES = {"Dockerfile", "Makefile", "run"}

OUTSIDE = re.compile(r"(?<![\w.])/(?:tmp|work)/[\w.\-/<>]+")
SHARED = re.compile(r"\.\./shared(?:/[\w.\-]+)*")
SHARED_ALLOWED = ("../shared", "../shared/data", "../shared/data/binance")
OLD_DOCS = re.compile(r"\b(?:engine_api|tracking_api|hbt_semantics)\.md\b")
DOC_REF = re.compile(r"\bdocs/([\w\-]+\.md)\b")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")

# Runtime locations inside other machines or containers, not references to documents.
ALLOWED_OUTSIDE = {
    ("jobs/runtime_env.yaml", "/tmp/mmopt-numba-cache"): "numba's cache dir inside Ray workers",
}


def tracked_files(root: Path = REPO) -> Iterator[Path]:
    for name in TRACKED_TOP:
        if (root / name).is_file():
            yield root / name
    for top in TRACKED_DIRS:
        for path in sorted((root / top).rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
                yield path


def outside_references(path: Path, text: str) -> list[str]:
    """Every path outside the repository (or old document name) that ``text`` names."""
    rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for match in OUTSIDE.finditer(line):
            where = match.group(0).rstrip(".")  # a sentence's full stop is not part of it
            if (rel, where) not in ALLOWED_OUTSIDE:
                found.append(f"{rel}:{lineno}: {where}")
        for match in SHARED.finditer(line):
            if match.group(0).rstrip("/.") not in SHARED_ALLOWED:
                found.append(f"{rel}:{lineno}: {match.group(0)} (only ../shared/data/binance)")
        for match in OLD_DOCS.finditer(line):
            found.append(f"{rel}:{lineno}: {match.group(0)} (point into docs/ instead)")
    return found


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    found = [ref for path in tracked_files() if path.resolve() != this
             for ref in outside_references(path, path.read_text(errors="replace"))]
    assert not found, "paths outside the repository (docs/ holds the documents):\n" + "\n".join(
        found)


def test_the_checker_catches_each_kind(tmp_path: Path) -> None:
    team = "/tmp/" + "team/engine_api.md"  # split so that no grep for such paths hits this file
    text = (f'"""See {team}."""\n# /work/main/x.py\n'
            'ROOT = "../shared/data/binance"\n# ../shared/data/README.md\n')
    found = outside_references(REPO / "mmopt" / "x.py", text)
    assert [f.split(": ", 1)[1] for f in found] == [
        team, "engine_api.md (point into docs/ instead)", "/work/main/x.py",
        "../shared/data/README.md (only ../shared/data/binance)",
    ]


def test_every_named_docs_file_exists() -> None:
    missing = []
    for path in tracked_files():
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in DOC_REF.finditer(line):
                if not (DOCS / match.group(1)).is_file():
                    rel = path.relative_to(REPO).as_posix()
                    missing.append(f"{rel}:{lineno}: docs/{match.group(1)}")
    assert not missing, "docs/ files named but missing:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", [*sorted(DOCS.glob("*.md")), REPO / "README.md"],
                         ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    broken = [target for target in MD_LINK.findall(doc.read_text())
              if "://" not in target and not (doc.parent / target).exists()]
    assert not broken, f"{doc.name}: broken links {broken}"


def test_the_index_lists_every_document() -> None:
    index = (DOCS / "README.md").read_text()
    assert {p.name for p in DOCS.glob("*.md")} - {"README.md"} <= set(MD_LINK.findall(index))
    for heading in ("## Book", "## Clocks", "## Latency", "## Fees", "## Sessions"):
        assert f"\n{heading}\n" in (DOCS / "engine.md").read_text(), heading


# -- the strategy example of docs/strategies.md --------------------------------------------------


def _example_source() -> str:
    """The first ```python block of docs/strategies.md that registers a strategy."""
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "strategies.md").read_text(), re.S)
    sources = [b for b in blocks if "register_strategy(" in b]
    assert sources, "docs/strategies.md has no complete example (a block that registers one)"
    return sources[0]


def _import_example(tmp_path: Path) -> ModuleType:
    path = tmp_path / "doc_example_strategy.py"  # a file, so numba's cache=True can locate it
    path.write_text(_example_source())
    spec = importlib.util.spec_from_file_location("doc_example_strategy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_strategy_example_quotes_and_fills(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from mmopt.data.synth import generate_events
    from mmopt.engine import EngineConfig, run_backtest
    from mmopt.strategies import _registry, get_strategy, list_strategies

    list_strategies()  # the built-in ones first, then a private copy for the example's entry
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    monkeypatch.delitem(sys.modules, "doc_example_strategy", raising=False)
    _import_example(tmp_path)
    strategy = get_strategy("inside_quoter")
    assert "inside_quoter" in list_strategies()

    events, instrument = generate_events(3000, seed=1)
    result = run_backtest(events, instrument, strategy, {"offset_ticks": 0},
                          EngineConfig(step_ms=100.0, entry_latency_ns=1_000_000,
                                       response_latency_ns=1_000_000))
    assert result.n_submitted > 0, "the example never quoted"
    assert result.n_fills > 0, "the example never filled"
    limit = 5 * instrument.lot_size
    assert abs(result.equity["position"]).max() <= limit + 1e-9

    from mmopt.errors import ConfigError

    with pytest.raises(ConfigError, match=r"strategy\.params\.quote_lots"):
        strategy.make_params({"quote_lots": 0})
