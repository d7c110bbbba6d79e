"""The sweep: an Optuna study driven (ask/tell) over an executor; see ``run_sweep``."""

from __future__ import annotations

from mmopt.search.driver import SweepResult, run_sweep
from mmopt.search.objective import PreparedShard, ShardOutcome, TaskOutcome, WorkSpec, evaluate
from mmopt.search.space import grid_values, suggest_params
from mmopt.search.walk_forward import WalkForwardResult, run_walk_forward

__all__ = [
    "PreparedShard",
    "ShardOutcome",
    "SweepResult",
    "TaskOutcome",
    "WalkForwardResult",
    "WorkSpec",
    "evaluate",
    "grid_values",
    "run_sweep",
    "run_walk_forward",
    "suggest_params",
]
