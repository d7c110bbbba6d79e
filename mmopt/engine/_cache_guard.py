"""Invalidate numba's on-disk cache when a source it silently depends on changes.

numba keys a cached function on its own file only, but the kernel inlines helpers from the other
engine modules and every strategy's decide inlines the helpers of strategies/context.py (and the
strategies' shared ``_*.py`` modules). Before anything is compiled or loaded, compare a hash of
those sources with the one recorded at the last check; when it differs, drop the cached machine
code of the package that depends on them (numba then recompiles once and caches again).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_STAMP = "mmopt-sources.sha256"


def _groups(root: Path) -> dict[str, list[Path]]:
    engine = sorted((root / "engine").glob("_*.py"))  # the numba modules
    engine += [root / "engine" / "layout.py", root / "engine" / "market.py"]  # their constants
    shared = [root / "engine" / "layout.py", root / "engine" / "_jit.py"]
    shared += sorted((root / "strategies").glob("_*.py"))
    shared.append(root / "strategies" / "context.py")
    return {"engine": engine, "strategies": shared}


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_fresh_cache() -> None:
    root = Path(__file__).resolve().parents[1]
    for package, sources in _groups(root).items():
        try:
            cache = root / package / "__pycache__"
            stamp = cache / _STAMP
            current = _digest(sources)
            if stamp.exists() and stamp.read_text() == current:
                continue
            for pattern in ("*.nbi", "*.nbc"):
                for path in cache.glob(pattern):
                    path.unlink(missing_ok=True)
            cache.mkdir(exist_ok=True)
            tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(current)
            tmp.replace(stamp)
        except OSError:  # read-only install: numba compiles in memory instead
            continue
