"""The small protocol the sweep driver runs its work through (local process or Ray tasks).

Work is a module-level function called with some arguments; large, shared arguments (the
market data of a shard) are ``put`` once and passed as the returned reference, which the
executor resolves to the value inside the worker (Ray: zero-copy from the object store).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["Executor", "Pending"]


class Pending(Protocol):
    """A submitted call; ``Executor.result`` gives its value or raises its error."""


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn(*args)`` somewhere; the driver is the only caller, from one thread."""

    name: str

    @property
    def n_workers(self) -> int:
        """Processes that run calls at once (CPUs of the Ray cluster, 1 in-process)."""

    def put(self, value: Any) -> Any:
        """Store a large argument once; returns what to pass to ``submit`` instead of it."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Pending:
        """Start ``fn(*args)``; ``fn`` must be a module-level function (picklable by name)."""

    def wait(self, pending: Sequence[Pending], timeout_s: float) -> bool:
        """Block until every call in ``pending`` is done or ``timeout_s`` passed; True if done."""

    def result(self, pending: Pending) -> Any:
        """The value of a finished call, or raise ``TaskError`` with the worker's message."""

    def warm(self, fn: Callable[..., Any], *args: Any) -> float:
        """Run ``fn(*args)`` once in every worker process (compile and warm kernels); seconds."""

    def close(self) -> None:
        """Release the workers (a Ray runtime this executor started is shut down)."""
