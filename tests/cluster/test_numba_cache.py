"""numba's cache found by a second copy of the source tree at another path (what a Ray node
that unpacks the job's working_dir elsewhere sees): nothing compiled there, all loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmopt.cluster.first_result import FirstResult, parse_line, timed
from mmopt.cluster.numba_cache import (
    CACHE_DIR_ENV,
    LOCATOR_ENV,
    CacheStats,
    PackageCacheLocator,
    locator_setting,
    package_subpath,
)

REPO = Path(__file__).resolve().parents[2]

KERNEL = """
from numba import njit


@njit(cache=True)
def step(x):
    return x * 2 + 1
"""
# import the copy's kernel in a fresh process, call it, print what numba did
CALL = """
import json
from mmopt.cluster.numba_cache import cache_stats
import pkg.kernel as kernel
assert kernel.step(20) == 41
stats = cache_stats("pkg")
print(json.dumps({"loaded": stats.loaded, "compiled": stats.compiled, "file": kernel.__file__}))
"""


def _copy_tree(target: Path) -> Path:
    (target / "pkg").mkdir(parents=True)
    (target / "pkg" / "__init__.py").write_text("")
    (target / "pkg" / "kernel.py").write_text(KERNEL)
    return target


def _call(tree: Path, cache: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(REPO)]),
           CACHE_DIR_ENV: str(cache), LOCATOR_ENV: locator_setting()}
    done = subprocess.run([sys.executable, "-c", CALL], env=env, capture_output=True,
                          text=True, timeout=300, cwd=tree)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_second_copy_of_the_tree_loads_what_the_first_compiled(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    first = _call(_copy_tree(tmp_path / "node-a"), cache)
    second = _call(_copy_tree(tmp_path / "node-b" / "deeper"), cache)
    assert str(tmp_path / "node-a") in str(first["file"])  # each ran its own copy
    assert str(tmp_path / "node-b") in str(second["file"])
    assert (first["loaded"], first["compiled"]) == (0, 1)
    assert (second["loaded"], second["compiled"]) == (1, 0)
    assert list((cache / "pkg").glob("kernel.step-*.nbi"))  # keyed on the package path
    assert not list(cache.glob("pkg_*"))  # numba's own key: <folder>_<hash of abs path>


def test_the_locator_keys_on_the_path_inside_the_package(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    assert package_subpath(tmp_path / "pkg" / "sub" / "kernel.py") == Path("pkg/sub")
    assert package_subpath(tmp_path / "script.py") is None
    setting = locator_setting().split(",")
    assert setting[0] == f"{PackageCacheLocator.__module__}.PackageCacheLocator"
    from numba.core import caching  # numba resolves the other names in this module

    assert all(hasattr(caching, name) for name in setting[1:])


def test_the_first_result_line_is_printed_once_and_reads_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert timed(lambda x: x + 1, 1) == 2
    assert timed(lambda x: x * 3, 2) == 6
    lines = [line for line in capsys.readouterr().err.splitlines() if parse_line(line)]
    assert len(lines) <= 1  # once per process (none if an earlier test already timed one)
    line = FirstResult("127.0.0.1", "3f2a9c01abcd", 42, 0.41, CacheStats(14, 0)).line()
    assert parse_line(f"(raylet) {line}") == FirstResult(
        "127.0.0.1", "3f2a9c01", 42, 0.41, CacheStats(14, 0))
