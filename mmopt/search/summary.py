"""The end of a sweep: the best feasible trial(s) (else the best infeasible one, flagged), its
re-runs (curves, holdout dates)."""

from __future__ import annotations

import time
from typing import Any

import optuna

from mmopt.config import RunConfig
from mmopt.executors import Executor, TaskError
from mmopt.search._trials import record_from_frozen
from mmopt.search.inspect import best_trials
from mmopt.search.mirror import count_trials
from mmopt.search.objective import ParamSet, TaskOutcome, evaluate, replay
from mmopt.search.scoring import per_security, score
from mmopt.search.shards import ShardPlan, plan_shard_set
from mmopt.tracking import ShardCurve, SweepSummary, TrialRecord, kpi_shortfalls

__all__ = ["best_records", "best_shortfalls", "finish_summary", "run_holdout"]


def best_records(study: optuna.Study) -> tuple[tuple[TrialRecord, ...], bool]:
    """The best feasible trial (or the feasible Pareto front) as records, and True; when no
    complete trial is feasible, the best complete one(s) by objective alone, and False."""
    trials, feasible = best_trials(study)
    return tuple(record_from_frozen(t) for t in trials), feasible


def best_shortfalls(run: RunConfig, best: tuple[TrialRecord, ...]) -> tuple[str, ...]:
    """The KPI targets ``best[0]`` misses ("name value (target op x)"); () if none."""
    if not best or not run.objective.use_constraints:
        return ()
    return kpi_shortfalls(best[0].metrics_dict(), run.objective.kpi)


def finish_summary(
    run: RunConfig,
    study: optuna.Study,
    status: Any,
    error: str | None,
    elapsed_s: float,
    best: tuple[TrialRecord, ...],
    best_feasible: bool,
    shard_set: ShardPlan,
    executor: Executor,
    spec_ref: Any,
    shard_refs: list[Any],
    *,
    replay: bool,
) -> SweepSummary:
    counts = count_trials(study.get_trials(deepcopy=False, states=None))
    holdout = curves = None
    if replay and best:
        params = best[0].params
        if run.data.holdout_dates:
            holdout = run_holdout(run, executor, spec_ref, best[0].number, params)
        if run.tracking.name != "none":
            curves = _curves(executor, spec_ref, shard_set, shard_refs, params)
    return SweepSummary(
        status=status,
        n_complete=counts.complete,
        n_pruned=counts.pruned,
        n_failed=counts.failed,  # retried trials (lost with a stopped driver) are not failures
        elapsed_s=elapsed_s,
        best=best,
        holdout=holdout,
        best_curves=curves or (),
        study=study,
        error=error,
        best_feasible=best_feasible,
        best_kpi_failures=() if best_feasible else best_shortfalls(run, best),
    )


def run_holdout(run: RunConfig, executor: Executor, spec_ref: Any, number: int,
                params: ParamSet) -> TrialRecord:
    """``params`` evaluated on ``data.holdout_dates`` (same strategy, engine and objective)."""
    started_at, t0 = time.time(), time.perf_counter()
    holdout_set = plan_shard_set(run.data, holdout=True, engine=run.engine)
    handles = [executor.submit(evaluate, spec_ref, executor.put(s), (params,))
               for s in holdout_set.shards]
    shards, errors = [], []
    for handle in handles:
        try:
            outcome: TaskOutcome = executor.result(handle)
        except TaskError as exc:
            errors.append(str(exc))
            continue
        for shard in outcome.outcomes:
            if shard.metrics is not None:
                shards.append(shard.metrics)
            elif shard.error is not None:
                errors.append(shard.error)
    if errors or not shards:
        return TrialRecord(number, "FAIL", params, params, None, (), (), (), (), len(shards),
                           time.perf_counter() - t0, started_at,
                           error="; ".join(errors) or "no holdout shard")
    sc = score(shards, run.objective)
    return TrialRecord(number, "COMPLETE", params, params, sc.values,
                       tuple(sc.metrics.as_dict().items()), per_security(shards),
                       sc.constraints, (), len(shards), time.perf_counter() - t0, started_at)


def _curves(executor: Executor, spec_ref: Any, shard_set: ShardPlan, shard_refs: list[Any],
            params: ParamSet) -> tuple[ShardCurve, ...]:
    handles = [executor.submit(replay, spec_ref, ref, params) for ref in shard_refs]
    curves = []
    for shard, handle in zip(shard_set.shards, handles, strict=True):
        try:
            equity, fills = executor.result(handle)
        except TaskError:
            continue
        curves.append(ShardCurve(shard.security, shard.date, equity, fills))
    return tuple(curves)
