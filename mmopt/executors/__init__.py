"""Where the sweep's work runs: in this process (``local``) or on Ray (``ray``)."""

from __future__ import annotations

from mmopt.config import ExecutorConfig
from mmopt.executors._errors import TaskError
from mmopt.executors._protocol import Executor, Pending
from mmopt.executors.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "Pending", "TaskError", "make_executor"]


def make_executor(config: ExecutorConfig) -> Executor:
    """``executor=local`` -> LocalExecutor; ``executor=ray`` -> RayExecutor (starts or joins)."""
    if config.name == "local":
        return LocalExecutor()
    from mmopt.executors.ray import RayExecutor

    return RayExecutor(config)
