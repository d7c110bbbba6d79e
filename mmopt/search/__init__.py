"""The sweep: an Optuna study driven (ask/tell) over an executor; see ``run_sweep``."""

from __future__ import annotations

from mmopt.search.driver import SweepResult, run_sweep
from mmopt.search.objective import PreparedShard, ShardOutcome, TaskOutcome, WorkSpec, evaluate
from mmopt.search.space import grid_values, suggest_params

__all__ = [
    "PreparedShard",
    "ShardOutcome",
    "SweepResult",
    "TaskOutcome",
    "WorkSpec",
    "evaluate",
    "grid_values",
    "run_sweep",
    "suggest_params",
]
