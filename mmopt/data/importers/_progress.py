"""How an import reports progress: a small protocol the CLI implements (the library prints nothing).

An import has phases (``read``: input rows parsed and checked; ``write``: shard rows merged and
written). ``start`` opens a phase (``total`` rows when known), ``advance`` adds rows done.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["ImportProgress", "NullProgress"]


class ImportProgress(Protocol):
    """Receives the rows done per phase; implementations show a bar or print summary lines."""

    def start(self, phase: str, total: int | None = None) -> None: ...

    def advance(self, rows: int) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    """Shows nothing (the default of the library functions)."""

    def start(self, phase: str, total: int | None = None) -> None:
        return None

    def advance(self, rows: int) -> None:
        return None

    def finish(self) -> None:
        return None
