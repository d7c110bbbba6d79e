"""Where the sweep's work runs: in this process (``local``) or on Ray (``ray``)."""

from __future__ import annotations

from mmopt.config import ExecutorConfig
from mmopt.executors._errors import TaskError
from mmopt.executors._protocol import Executor, Pending
from mmopt.executors.local import LocalExecutor
from mmopt.executors.resident import Resident
from mmopt.executors.shard_cache import CacheStats, ShardCache

__all__ = ["CacheStats", "Executor", "LocalExecutor", "Pending", "Resident", "ShardCache",
           "TaskError", "make_executor"]


def make_executor(config: ExecutorConfig) -> Executor:
    """``executor=local`` -> LocalExecutor; ``executor=ray`` -> RayExecutor (starts or joins)."""
    if config.name == "local":
        return LocalExecutor(config.shard_cache_mb)
    from mmopt.executors.ray import RayExecutor

    return RayExecutor(config)
