"""The worker side of ``executor=ray``: a long-lived process that owns shards.

``ShardOwner`` is made a Ray actor by ``RayExecutor`` (one per CPU of the cluster). It reads and
prepares the shards it is sent (``Resident`` arguments) and keeps them in its ``ShardCache``
within ``executor.shard_cache_mb``; every call of the same shard then finds it prepared.
``warm`` checks first that this node can read the data (the error names the node and the
path), then runs the warm-up function once in this process.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from mmopt.cluster.first_result import timed
from mmopt.errors import DataError
from mmopt.executors.resident import residents_in
from mmopt.executors.shard_cache import CacheStats, ShardCache

__all__ = ["ShardOwner", "node_name"]


def node_name() -> str:
    """This node as ``IP (hostname)``, for messages."""
    try:
        import ray

        ip = ray.util.get_node_ip_address()
    except Exception:  # outside Ray
        ip = "127.0.0.1"
    return f"{ip} ({socket.gethostname()})"


class ShardOwner:
    """One worker process: its shard cache, the functions it ran ``warm`` for."""

    def __init__(self, budget_bytes: int | None) -> None:
        self.cache = ShardCache(budget_bytes)
        self.warmed: set[str] = set()

    def node(self) -> str:
        return node_name()

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return timed(fn, *self.cache.resolve(args))  # the first prints its time to result

    def warm(self, fn: Callable[..., Any], *args: Any) -> tuple[int, float, str]:
        """Check the data is readable here, run ``fn`` once; (pid, seconds, node)."""
        start = time.perf_counter()
        for resident in residents_in(args):
            try:
                resident.check_readable()
            except (DataError, OSError) as exc:
                raise DataError(f"node {node_name()} cannot read the data root "
                                f"{resident.data_root()}: {exc}") from None
        key = f"{fn.__module__}.{fn.__qualname__}"
        if key not in self.warmed:
            timed(fn, *self.cache.resolve(args))
            self.warmed.add(key)
        return os.getpid(), time.perf_counter() - start, node_name()

    def stats(self) -> tuple[str, CacheStats]:
        return node_name(), self.cache.stats()
