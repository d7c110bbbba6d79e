"""What the sweep driver tells a tracker, and the Tracker protocol it calls.

The driver is the only caller, from one thread, in this order::

    tracker.start(info)                    # once, before the first trial
    tracker.log_trials(records)            # many times, batches of finished trials
    tracker.finish(summary)                # once, at the end (also after Ctrl-C / an error)
    tracker.ui_command()                   # printed by the CLI, any time after start

Everything passed is a frozen dataclass of plain values (numbers, strings, tuples, numpy arrays
for curves); the Optuna study object is passed in ``SweepSummary.study`` for Optuna's plots.
A tracker must not raise on a trial it cannot log (warn instead): tracking never stops a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from mmopt.tracking._shard_curve import ShardCurve
from mmopt.tracking.study_summary import StudySummary

if TYPE_CHECKING:
    from mmopt.config import RunConfig
    from mmopt.tracking._folds import WalkForwardSummary

__all__ = [
    "SecurityMetrics",
    "ShardCurve",
    "SweepInfo",
    "SweepSummary",
    "Tracker",
    "TrialRecord",
    "TrialState",
]

TrialState = Literal["COMPLETE", "PRUNED", "FAIL"]
Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class SweepInfo:
    """Everything known when a sweep starts (the MLflow parent run's params and tags)."""

    run: RunConfig  # the resolved config; ``mmopt.config.to_dict(run)`` is its YAML shape
    config_id: str  # ``run.config_id`` (hash of what the sweep computes)
    config_yaml: str  # the resolved config as YAML text (log it as an artifact)
    study_name: str
    storage_url: str | None  # Optuna storage (None = in memory)
    data_root: str
    data_fingerprint: str  # ShardCatalog.fingerprint of the swept shards
    securities: tuple[str, ...]
    dates: tuple[str, ...]
    n_shards: int
    holdout_dates: tuple[str, ...]
    directions: tuple[str, ...]  # "maximize" / "minimize", one per objective
    objective_names: tuple[str, ...]  # one per objective, same order as TrialRecord.values
    code_version: str  # mmopt version + git commit if known, e.g. "0.1.0+g1a2b3c4"
    run_dir: str  # the sweep's directory (storage, reports); write artifacts under it
    resumed: bool  # True when the study already had trials (same name, same storage)
    n_existing_trials: int  # trials already in the study when this sweep started
    started_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class SecurityMetrics:
    """One security's metrics within one trial (aggregate over that security's shards)."""

    security: str
    metrics: tuple[tuple[str, float], ...]  # same names as TrialRecord.metrics

    def as_dict(self) -> dict[str, float]:
        return dict(self.metrics)


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One finished trial (complete, pruned or failed), as told to Optuna.

    ``metrics`` are ``mmopt.metrics.METRIC_NAMES`` aggregated over the shards the trial
    evaluated (all of them when COMPLETE; the rungs it reached when PRUNED; empty when it
    FAILED before any rung). Log per-security metrics with a prefix, e.g. ``SYN0.net_pnl``.
    """

    number: int  # Optuna trial number
    state: TrialState
    params: tuple[tuple[str, Scalar], ...]  # the sampled parameters (search space only)
    strategy_params: tuple[tuple[str, Scalar], ...]  # every strategy parameter used
    values: tuple[float, ...] | None  # objective values told (None unless COMPLETE)
    metrics: tuple[tuple[str, float], ...]
    per_security: tuple[SecurityMetrics, ...]
    constraints: tuple[float, ...]  # Optuna constraint values (<= 0 = satisfied); () = none
    intermediate: tuple[tuple[int, float], ...]  # (step = shards evaluated, value) per rung
    n_shards: int  # shards evaluated
    duration_s: float  # wall time from submit to tell
    started_at: float  # epoch seconds
    error: str | None = None  # FAIL: the message (also the Optuna user attr "error")
    fold: int | None = None  # walk-forward: the fold whose study ran the trial (None: a sweep)
    out_of_sample: bool = False  # the trial's parameters re-run on out-of-sample dates

    @property
    def key(self) -> str:
        """Unique within one sweep: ``"7"``, ``"fold1.7"``, ``"fold1.7.oos"`` (trial numbers
        repeat across the folds' studies, and a re-run is a run of its own)."""
        base = str(self.number) if self.fold is None else f"fold{self.fold}.{self.number}"
        return f"{base}.oos" if self.out_of_sample else base

    @property
    def in_sample_key(self) -> str:
        """The key of the in-sample trial this record re-runs (its own key if in-sample)."""
        return str(self.number) if self.fold is None else f"fold{self.fold}.{self.number}"

    @property
    def feasible(self) -> bool:
        return all(c <= 0.0 for c in self.constraints)

    def params_dict(self) -> dict[str, Scalar]:
        return dict(self.params)

    def metrics_dict(self) -> dict[str, float]:
        return dict(self.metrics)


@dataclass(frozen=True, slots=True, eq=False)
class SweepSummary:
    """The end of a sweep: counts, the best trial(s), curves and the study for the plots."""

    status: Literal["finished", "interrupted", "failed"]
    n_complete: int  # in the whole study (resumed trials included)
    n_pruned: int
    n_failed: int
    elapsed_s: float  # this sweep's wall time
    # The best feasible trial (the feasible Pareto front if multi-objective); when no complete
    # trial is feasible, the best complete trial(s) by objective alone and best_feasible=False.
    best: tuple[TrialRecord, ...]
    holdout: TrialRecord | None  # best[0]'s parameters re-run on data.holdout_dates
    best_curves: tuple[ShardCurve, ...]  # best[0] re-run on the swept shards (may be empty)
    study: Any = field(default=None)  # the optuna.Study (for optuna.visualization plots)
    error: str | None = None  # status "failed": what stopped the sweep
    best_feasible: bool = True  # False: ``best`` misses KPI targets (see best_kpi_failures)
    best_kpi_failures: tuple[str, ...] = ()  # best[0]'s missed targets, "name value (target)"
    # validation=walk_forward: the folds and the stitched out-of-sample result (``best`` is
    # then the last fold's chosen trial, ``study`` the last fold's study)
    walk_forward: WalkForwardSummary | None = None
    # The study's conclusion (overfitting statistics, verdict) and where its summary.json is.
    report: StudySummary | None = None
    report_path: str | None = None


@runtime_checkable
class Tracker(Protocol):
    """Called by the sweep driver only; see the module docstring for the order of calls."""

    def start(self, info: SweepInfo) -> None:
        """Open the parent run (or find it again when ``info.resumed``)."""

    def log_trials(self, records: Sequence[TrialRecord]) -> None:
        """Log a batch of finished trials (one child run each), in one round trip if possible."""

    def finish(self, summary: SweepSummary) -> None:
        """Tag the best trial on the parent, write the artifacts, close the parent run."""

    def ui_command(self) -> str | None:
        """The shell command that opens the results (``mlflow ui --backend-store-uri ...``)."""
