"""Ray tasks: a local runtime on this machine, or the cluster at ``executor.address``.

A local runtime (``executor.address`` null or ``local``) listens on 127.0.0.1 only, keeps its
files in ``executor.temp_dir`` and leaves no process behind (``ray_runtime``); joining a
cluster is the user's explicit choice and changes nothing there.

``put`` stores a value once in the object store; a reference passed to ``submit`` reaches the
task as the value itself, its numpy arrays read zero-copy from shared memory. Every task asks
for one CPU and is retried ``max_retries`` times when its worker dies.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from mmopt.cluster.first_result import timed
from mmopt.config import ExecutorConfig
from mmopt.errors import ConfigError
from mmopt.executors._errors import TaskError
from mmopt.executors.ray_runtime import LocalRuntime
from mmopt.redact import mask_secrets

__all__ = ["RayExecutor"]

_WARMED: set[str] = set()  # per worker process: functions already run by ``warm``


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return timed(fn, *args)  # the worker's first task prints its time to first result


def _warm_once(fn: Callable[..., Any], *args: Any) -> tuple[int, float]:
    """Run ``fn`` once in this worker process; returns (pid, seconds spent)."""
    key = f"{fn.__module__}.{fn.__qualname__}"
    start = time.perf_counter()
    if key not in _WARMED:
        timed(fn, *args)
        _WARMED.add(key)
    return os.getpid(), time.perf_counter() - start


class RayExecutor:
    """Ray tasks behind the ``Executor`` protocol (see the module docstring)."""

    name = "ray"

    def __init__(self, config: ExecutorConfig) -> None:
        import ray

        self._ray = ray
        self._owns_runtime = False
        self.runtime: LocalRuntime | None = None  # the local runtime this executor started
        self.warmed_pids: set[int] = set()  # worker processes ``warm`` ran in
        if not ray.is_initialized():
            self._init_runtime(config)
            self._owns_runtime = True
        self._remote = ray.remote(num_cpus=1, max_retries=config.max_retries)(_call)
        self._remote_warm = ray.remote(num_cpus=1, max_retries=config.max_retries)(_warm_once)

    def _init_runtime(self, config: ExecutorConfig) -> None:
        try:
            if config.address in (None, "local"):
                self.runtime = LocalRuntime.start(
                    self._ray, config.num_cpus or os.cpu_count() or 1, config.temp_dir)
            else:
                self._ray.init(address=config.address, include_dashboard=False,
                               log_to_driver=False, logging_level=logging.WARNING,
                               configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = mask_secrets(config.address or "a local runtime")
            raise ConfigError(
                f"executor.address: could not start or join Ray at {where}: "
                f"{mask_secrets(exc)} (fix: check the address, or use executor.address=null "
                "for a local runtime)"
            ) from None

    @property
    def n_workers(self) -> int:
        cpus = self._ray.cluster_resources().get("CPU", 1)
        return max(1, int(cpus))

    def put(self, value: Any) -> Any:
        return self._ray.put(value)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._remote.remote(fn, *args)

    def wait(self, pending: Sequence[Any], timeout_s: float) -> bool:
        if not pending:
            return True
        ready, _ = self._ray.wait(
            list(pending), num_returns=len(pending), timeout=timeout_s, fetch_local=False
        )
        return len(ready) == len(pending)

    def result(self, pending: Any) -> Any:
        from ray.exceptions import RayError, RayTaskError

        try:
            return self._ray.get(pending)
        except RayTaskError as exc:
            cause = exc.cause if exc.cause is not None else exc
            raise TaskError(f"{type(cause).__name__}: {cause}") from None
        except RayError as exc:
            raise TaskError(f"{type(exc).__name__}: {exc}") from None

    def warm(self, fn: Callable[..., Any], *args: Any) -> float:
        """Warm one worker first (on a fresh checkout it compiles the kernels and writes
        numba's cache), then one call per CPU at once, so that each worker process gets one
        (the others load the cache instead of compiling the same code side by side)."""
        start = time.perf_counter()
        try:
            for n in (1, self.n_workers):
                done = self._ray.get([self._remote_warm.remote(fn, *args) for _ in range(n)])
                self.warmed_pids.update(pid for pid, _ in done)
        except Exception as exc:
            raise TaskError(f"warming the Ray workers failed: {exc}") from None
        if self.runtime is not None:
            self.runtime.remember_processes()
        return time.perf_counter() - start

    def close(self) -> None:
        """Shut down a runtime this executor started (and reap its processes)."""
        if not (self._owns_runtime and self._ray.is_initialized()):
            return
        if self.runtime is not None:
            self.runtime.shutdown(self._ray)
        else:
            self._ray.shutdown()
