"""One background thread that runs the tracker's MLflow calls in order, and what they cost.

The driver hands a batch over and goes back to Optuna and Ray at once; the calls run one at a
time, in submission order, on a single thread (so one SQLite connection at a time). ``wait``
blocks until everything submitted so far is done and re-raises nothing: a failing task is
reported by the task itself (the tracker warns), never by stopping the sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["SerialWorker", "TrackingStats"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TrackingStats:
    """What tracking cost so far (seconds of MLflow calls, on the worker thread)."""

    trials_logged: int
    trials_skipped: int  # already in the store (resume) or failed to log
    log_seconds: float  # create_run + log_batch + set_terminated for the child runs (wall)
    log_cpu_seconds: float  # the same, CPU time of the logging thread (in this process)
    start_seconds: float  # MLflow import, store creation/migration, the parent run
    finish_seconds: float  # report, artifacts, best trial on the parent
    submit_seconds: float  # time the driver spent handing batches over (its blocking cost)

    @property
    def ms_per_trial(self) -> float:
        """Mean MLflow time per logged child run, in milliseconds (NaN before any)."""
        if self.trials_logged == 0:
            return float("nan")
        return 1e3 * self.log_seconds / self.trials_logged

    @property
    def cpu_ms_per_trial(self) -> float:
        """Mean CPU time of the logging thread per child run, in milliseconds (NaN before any)."""
        if self.trials_logged == 0:
            return float("nan")
        return 1e3 * self.log_cpu_seconds / self.trials_logged


class SerialWorker:
    """Runs callables in order on one daemon-like thread, or inline when ``background`` is off."""

    def __init__(self, background: bool = True, name: str = "mmopt-tracking") -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name) if background else None
        self._last: Future[Any] | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(*args)``; inline mode runs it now. The future holds its result."""
        if self._pool is None:
            done: Future[T] = Future()
            try:
                done.set_result(fn(*args))
            except BaseException as exc:  # the caller decides (``result()`` re-raises)
                done.set_exception(exc)
            return done
        with self._lock:
            future = self._pool.submit(fn, *args)
            self._last = future
        return future

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every task submitted so far has run; False on timeout."""
        with self._lock:
            last = self._last
        if last is None:
            return True
        try:
            last.exception(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Let queued tasks finish and stop the thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
