"""What a walk-forward tells a tracker and its report: per-fold rows, the stitched
out-of-sample result and the stability of each parameter across folds (plain values only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mmopt.tracking._shard_curve import ShardCurve

__all__ = ["FoldResult", "FoldTrial", "ParamStability", "WalkForwardSummary"]

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class FoldTrial:
    """One of a fold's in-sample top-K trials (or its chosen trial) re-run on its test dates."""

    number: int
    in_sample_rank: int  # 1 = best in-sample (feasible trials first)
    in_sample_value: float
    oos_value: float  # the objective on the fold's test dates (NaN when the re-run failed)
    params: tuple[tuple[str, Scalar], ...]
    oos_error: str | None = None


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fold: its dates, its study's counts, the chosen trial in and out of sample, and
    which of the in-sample top-K did best out of sample."""

    index: int
    study_name: str
    train_dates: tuple[str, ...]
    test_dates: tuple[str, ...]
    n_complete: int
    n_pruned: int
    n_failed: int
    top_k: int  # configured K (``len(rerun)`` may be smaller: fewer complete trials)
    rerun: tuple[FoldTrial, ...]  # in in-sample rank order; the chosen trial is always there
    chosen: int | None  # trial number chosen in-sample (``selection``), None: nothing complete
    chosen_feasible: bool = True
    oos_metrics: tuple[tuple[str, float], ...] = ()  # the chosen trial's, on the test dates

    def trial(self, number: int | None) -> FoldTrial | None:
        return next((t for t in self.rerun if t.number == number), None)

    @property
    def chosen_trial(self) -> FoldTrial | None:
        return self.trial(self.chosen)

    def oos_winner(self, maximize: bool) -> FoldTrial | None:
        """The re-run trial with the best out-of-sample value (ties: better in-sample rank)."""
        done = [t for t in self.rerun if not math.isnan(t.oos_value)]
        if not done:
            return None
        sign = 1.0 if maximize else -1.0
        return max(done, key=lambda t: (sign * t.oos_value, -t.in_sample_rank))


@dataclass(frozen=True, slots=True)
class ParamStability:
    """One parameter's chosen value in each fold; ``spread`` is (max - min) as a share of the
    search range for a number (log ranges in log space; 0 = the same everywhere, 1 = from one
    end to the other), the share of folds off the most common value for a categorical."""

    name: str
    values: tuple[Scalar, ...]  # one per fold with a chosen trial, in fold order
    spread: float
    mean: float | None = None  # numbers only
    std: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class WalkForwardSummary:
    """The whole walk-forward: folds in order and the chosen trials' test results stitched."""

    folds: tuple[FoldResult, ...]
    objective_name: str
    maximize: bool
    stitched_value: float  # the objective pooled over every fold's chosen trial's test shards
    stitched_metrics: tuple[tuple[str, float], ...]
    stability: tuple[ParamStability, ...]
    curves: tuple[tuple[int, ShardCurve], ...] = ()  # (fold, chosen trial on a test shard)
    selection: str = "best"
