"""numba's on-disk cache, shared by every copy of the same source tree.

numba keys its cache folder on the *absolute* folder of the source file. A Ray job ships the
source tree as its ``working_dir`` and every node unpacks it somewhere of its own (under the
node's session folder), so a cache built anywhere else (another node, the image at build time,
an installed ``mmopt``) is never found there and every fresh node compiles the kernels again.

``PackageCacheLocator`` keys the folder on the path *inside the package* instead
(``<NUMBA_CACHE_DIR>/mmopt/engine/``); numba already checks the source by content (a hash of
the file, not its time stamp), so any copy of the same source finds the same compiled code.
numba picks it up from ``NUMBA_CACHE_LOCATOR_CLASSES`` (its documented setting, read when a
``cache=True`` function is decorated); ``locator_setting()`` gives the value, which
``jobs/runtime_env.yaml`` sets for every Ray worker. Files outside a package fall through to
numba's own locators. The numba names this needs are in one place here, tested in
``tests/cluster/test_numba_cache.py``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from numba.core import config as numba_config
from numba.core.caching import UserProvidedCacheLocator

__all__ = [
    "CACHE_DIR_ENV",
    "LOCATOR_ENV",
    "CacheStats",
    "PackageCacheLocator",
    "cache_stats",
    "locator_setting",
    "package_subpath",
    "ship_in_tree_cache",
]

CACHE_DIR_ENV = "NUMBA_CACHE_DIR"
LOCATOR_ENV = "NUMBA_CACHE_LOCATOR_CLASSES"
# numba's own chain, after ours (the names numba resolves in numba.core.caching)
NUMBA_LOCATORS = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator",
                  "IPythonCacheLocator", "ZipCacheLocator")


def _cache_dir() -> str:
    """numba's ``NUMBA_CACHE_DIR`` as numba read it ("" when unset)."""
    return str(getattr(numba_config, "CACHE_DIR", "") or "")


def package_subpath(py_file: str | Path) -> Path | None:
    """The folder of ``py_file`` relative to its top package (``mmopt/engine`` for
    ``.../mmopt/engine/_kernel.py``); None when the file is not inside a package."""
    folder = Path(py_file).resolve().parent
    parts: list[str] = []
    while (folder / "__init__.py").is_file():
        parts.append(folder.name)
        folder = folder.parent
    return Path(*reversed(parts)) if parts else None


class PackageCacheLocator(UserProvidedCacheLocator):
    """``UserProvidedCacheLocator`` (``NUMBA_CACHE_DIR``) keyed on the package path."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        super().__init__(py_func, py_file)
        subpath = package_subpath(py_file)
        assert subpath is not None  # from_function checked it
        self._cache_path = str(Path(os.path.abspath(_cache_dir())) / subpath)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> PackageCacheLocator | None:
        if not _cache_dir() or package_subpath(py_file) is None:
            return None
        found: PackageCacheLocator | None = super().from_function(py_func, py_file)
        return found


def ship_in_tree_cache(package: Path, cache_dir: Path) -> int:
    """Copy what numba compiled in the package's own ``__pycache__`` folders (its default,
    in-tree cache) into ``cache_dir`` where ``PackageCacheLocator`` finds it; returns the
    number of files copied. The files carry their source's hash, so a copy for other
    sources is simply not used."""
    copied = 0
    for path in sorted(package.rglob("__pycache__/*.nb[ic]")):
        target = cache_dir / package.name / path.parent.parent.relative_to(package) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied += 1
    return copied


def locator_setting() -> str:
    """The value of ``NUMBA_CACHE_LOCATOR_CLASSES``: this locator, then numba's own."""
    return ",".join([f"{__name__}.{PackageCacheLocator.__qualname__}", *NUMBA_LOCATORS])


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Over the compiled functions of a package in this process: signatures numba loaded from
    its cache and signatures it compiled (nothing cached for them)."""

    loaded: int
    compiled: int


def _dispatchers(modules: list[ModuleType]) -> Iterator[Any]:
    from numba.core.dispatcher import Dispatcher

    seen: set[int] = set()
    for module in modules:
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and id(value) not in seen:
                seen.add(id(value))
                yield value


def cache_stats(package: str = "mmopt") -> CacheStats:
    """Cache hits and misses of the package's ``cache=True`` functions loaded in this process
    (numba's ``Dispatcher.stats``)."""
    import sys

    modules = [m for name, m in list(sys.modules.items())
               if m is not None and (name == package or name.startswith(f"{package}."))]
    loaded = compiled = 0
    for dispatcher in _dispatchers(modules):
        stats = dispatcher.stats
        loaded += sum(stats.cache_hits.values())
        compiled += sum(stats.cache_misses.values())
    return CacheStats(loaded, compiled)
