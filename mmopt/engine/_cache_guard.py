"""Invalidate numba's on-disk cache when any engine / strategy source changes.

numba keys a cached function on its own file only; the kernel inlines helpers from other
modules, so an edit there would leave a stale kernel in the cache. Before anything is compiled
or loaded, compare a hash of every source under mmopt/engine and mmopt/strategies with the one
recorded at the last check; if it differs, drop the cached machine code of both packages.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_PACKAGES = ("engine", "strategies")
_STAMP = "mmopt-sources.sha256"


def _source_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_fresh_cache() -> None:
    root = Path(__file__).resolve().parents[1]
    try:
        current = _source_hash(root)
        stamp = root / "engine" / "__pycache__" / _STAMP
        if stamp.exists() and stamp.read_text() == current:
            return
        for package in _PACKAGES:
            cache = root / package / "__pycache__"
            for pattern in ("*.nbi", "*.nbc"):
                for path in cache.glob(pattern):
                    path.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(current)
        tmp.replace(stamp)
    except OSError:  # read-only install: numba falls back to compiling in memory
        return
