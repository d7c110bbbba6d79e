"""Everything in this process: ``submit`` runs the call at once (tests, debugging)."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mmopt.executors._errors import TaskError

__all__ = ["LocalExecutor"]


@dataclass(slots=True)
class _Done:
    value: Any = None
    error: str | None = None


class LocalExecutor:
    """Runs each submitted call immediately, in-process; ``put`` is the identity."""

    name = "local"

    def __init__(self) -> None:
        self._warmed: set[Any] = set()

    @property
    def n_workers(self) -> int:
        return 1

    def put(self, value: Any) -> Any:
        return value

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Done:
        try:
            return _Done(value=fn(*args))
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
            fn(*args)
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
