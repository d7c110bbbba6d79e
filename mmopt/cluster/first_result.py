"""How long a node takes to give its first result, printed once per worker process.

A Ray worker process calls ``timed`` around every task it runs (a one-line hook in
``mmopt.executors.ray``); the first call prints one line to the worker's stderr (Ray keeps it
in the node's ``logs/worker-*.err``; ``ray logs`` or the dashboard shows it)::

    mmopt first result: node 127.0.0.1 (3f2a9c01) pid 4242: first task to first result \
        0.41 s, numba cache: 14 loaded, 0 compiled     (one line)

"compiled" above zero on a node that joined mid-sweep means the numba cache did not reach it
(see ``mmopt.cluster.numba_cache``). The later calls only run the task.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mmopt.cluster.numba_cache import CacheStats, cache_stats

__all__ = ["PREFIX", "FirstResult", "parse_line", "timed"]

PREFIX = "mmopt first result:"
T = TypeVar("T")
_LINE = re.compile(
    re.escape(PREFIX) + r" node (?P<ip>\S+) \((?P<id>[^)]*)\) pid (?P<pid>\d+): first task to "
    r"first result (?P<s>[\d.]+) s, numba cache: (?P<loaded>\d+) loaded, "
    r"(?P<compiled>\d+) compiled")
_REPORTED: list[FirstResult] = []  # this process's line, once printed


@dataclass(frozen=True, slots=True)
class FirstResult:
    """A worker process's first task: where it ran, how long it took, what numba did."""

    node_ip: str
    node_id: str
    pid: int
    seconds: float
    cache: CacheStats

    def line(self) -> str:
        return (f"{PREFIX} node {self.node_ip} ({self.node_id[:8]}) pid {self.pid}: first task "
                f"to first result {self.seconds:.2f} s, numba cache: {self.cache.loaded} "
                f"loaded, {self.cache.compiled} compiled")


def parse_line(line: str) -> FirstResult | None:
    """The ``FirstResult`` a printed line describes (None for any other line)."""
    match = _LINE.search(line)
    if match is None:
        return None
    return FirstResult(node_ip=match["ip"], node_id=match["id"], pid=int(match["pid"]),
                       seconds=float(match["s"]),
                       cache=CacheStats(int(match["loaded"]), int(match["compiled"])))


def _node() -> tuple[str, str]:
    if "ray" not in sys.modules:
        return "local", "-"
    import ray

    if not ray.is_initialized():
        return "local", "-"
    return ray.util.get_node_ip_address(), ray.get_runtime_context().get_node_id()


def timed(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``; the first call in this process also prints its ``FirstResult`` line."""
    if _REPORTED:
        return fn(*args)
    start = time.perf_counter()
    result = fn(*args)
    node_ip, node_id = _node()
    first = FirstResult(node_ip, node_id, os.getpid(), time.perf_counter() - start,
                        cache_stats())
    _REPORTED.append(first)
    print(first.line(), file=sys.stderr, flush=True)
    return result
