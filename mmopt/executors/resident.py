"""Work inputs the workers read and prepare themselves, then keep (the driver sends a name).

A ``Resident`` passed as an argument of ``Executor.submit`` (or ``warm``) is small: where the
data is and how big it is on disk. The executor hands it to the worker that owns it, which
turns it into the prepared value (``prepare``) once, keeps it in its ``ShardCache`` and passes
the value to the called function in its place. ``Executor.put`` of a resident is the resident.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

__all__ = ["Resident", "residents_in"]


class Resident(ABC):
    """A named input read and prepared by the worker that runs the call."""

    @abstractmethod
    def cache_key(self) -> str:
        """Unique name of the prepared value (the same key is the same value)."""

    @abstractmethod
    def size_hint(self) -> int:
        """Bytes on disk: larger residents are dispatched first."""

    @abstractmethod
    def data_root(self) -> str:
        """Where the data lives (a local path or a ``pyarrow.fs`` URI), for error messages."""

    @abstractmethod
    def check_readable(self) -> None:
        """Raise (naming the path and the fix) unless this process can read the data."""

    @abstractmethod
    def prepare(self) -> tuple[Any, int]:
        """Read and prepare the value; returns it and its size in memory (bytes)."""


def residents_in(args: Sequence[Any]) -> list[Resident]:
    """The residents among the positional arguments of a call."""
    return [a for a in args if isinstance(a, Resident)]
