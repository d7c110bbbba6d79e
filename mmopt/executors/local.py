"""Everything in this process: ``submit`` runs the call at once (tests, debugging).

Shards (``Resident`` arguments) are read and prepared here on first use and kept in a
``ShardCache`` within ``executor.shard_cache_mb``, exactly as a Ray shard owner does.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mmopt.executors._errors import TaskError
from mmopt.executors.resident import residents_in
from mmopt.executors.shard_cache import ShardCache, budget_bytes

__all__ = ["LocalExecutor"]


@dataclass(slots=True)
class _Done:
    value: Any = None
    error: str | None = None


class LocalExecutor:
    """Runs each submitted call immediately, in-process; ``put`` is the identity."""

    name = "local"

    def __init__(self, shard_cache_mb: float | None = None) -> None:
        self.cache = ShardCache(budget_bytes(shard_cache_mb))

    @property
    def n_workers(self) -> int:
        return 1

    def put(self, value: Any) -> Any:
        return value

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Done:
        try:
            return _Done(value=fn(*self.cache.resolve(args)))
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            return _Done(error=_describe(exc))

    def wait(self, pending: Sequence[Any], timeout_s: float) -> bool:
        return True

    def result(self, pending: Any) -> Any:
        if not isinstance(pending, _Done):
            raise TypeError(f"not a LocalExecutor call: {pending!r}")
        if pending.error is not None:
            raise TaskError(pending.error)
        return pending.value

    def warm(self, fn: Callable[..., Any], *args: Any) -> float:
        start = time.perf_counter()
        try:
            for resident in residents_in(args):
                resident.check_readable()
            fn(*self.cache.resolve(args))
        except Exception as exc:
            raise TaskError(f"warming up failed: {_describe(exc)}") from exc
        return time.perf_counter() - start

    def close(self) -> None:
        return None


def _describe(exc: BaseException) -> str:
    """``Type: message`` plus the innermost frame (where it was raised)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
