"""``run_sweep``: one Optuna study driven over an executor, every trial told to a tracker.

Order of work: open (or resume) the study and take its driver lease, list the shards (the
catalog only: the workers that own the shards read and prepare them, docs/scale.md), warm every
worker (each checks it can read the data root), start the tracker and
hand it the study's finished trials (MLflow backfill on resume), run the ask/tell loop
(``_loop.SweepLoop``), then re-run the best trial (curves; holdout dates if configured),
``tracker.finish`` and return a ``SweepResult``. Shutdown order: stop asking, drain (or abandon)
the trials in flight, write every finished trial to the storage, finish the tracker, release
the lease, and only then close the executor (Ray). Ctrl-C stops cleanly: trials in flight are
failed and marked to be re-run, the study stays resumable. See docs/resume.md.
"""

from __future__ import annotations

import gc
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import optuna

from mmopt.config import RunConfig
from mmopt.errors import ConfigError
from mmopt.executors import Executor, make_executor
from mmopt.search._loop import LoopTimings, SweepLoop
from mmopt.search._records import RecordBuffer, sweep_info
from mmopt.search._trials import record_from_frozen
from mmopt.search.honesty import conclude
from mmopt.search.lease import LeaseLostError, heartbeat_s, make_lease
from mmopt.search.mirror import (
    StudyWriter,
    count_trials,
    counts_toward_total,
    load_working_study,
    take_over,
)
from mmopt.search.objective import WorkSpec, warm_worker
from mmopt.search.preflight import preflight
from mmopt.search.progress import Progress
from mmopt.search.report_writer import write_report_lazily
from mmopt.search.samplers import make_pruner, make_sampler
from mmopt.search.selection import chosen_records
from mmopt.search.shards import ShardPlan, plan_shard_set, rung_bounds
from mmopt.search.space import distribution, n_grid_points
from mmopt.search.storage import open_persistent_study
from mmopt.search.summary import finish_summary
from mmopt.tracking import SweepSummary, Tracker, TrialRecord, make_tracker
from mmopt.tracking.study_summary import StudySummary

__all__ = ["SweepResult", "run_sweep"]


@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """What a sweep did: counts over the whole study, the best trial(s), where things are."""

    study_name: str
    storage_url: str | None
    status: Literal["finished", "interrupted", "failed"]
    n_complete: int
    n_pruned: int
    n_failed: int
    n_run: int  # trials finished by this sweep
    best: tuple[TrialRecord, ...]  # best feasible; if none is, best by objective (see below)
    holdout: TrialRecord | None
    elapsed_s: float
    timings: LoopTimings
    tracker_s: float
    storage_write_s: float
    ui_command: str | None
    study: optuna.Study
    best_feasible: bool = True  # False: no complete trial meets the KPI targets
    best_kpi_failures: tuple[str, ...] = ()  # best[0]'s missed targets ("name value (target)")
    n_retried: int = 0  # FAIL trials lost with a stopped driver, their parameters re-run
    report: StudySummary | None = None  # overfitting statistics, verdict (summary.json)
    report_path: str | None = None  # RUN_DIR/STUDY/summary.json


def run_sweep(
    run: RunConfig,
    *,
    progress: bool = True,
    allow_config_change: bool = False,
    tracker: Tracker | None = None,
    executor: Executor | None = None,
) -> SweepResult:
    """Run (or resume) the sweep ``run`` describes; see the module docstring."""
    started = time.perf_counter()
    if run.validation.name == "walk_forward":
        raise ConfigError("validation.name: walk_forward runs one study per fold: call "
                          "mmopt.search.run_walk_forward (`mmopt sweep` does)")
    preflight(run, tracking=tracker is None, executor=executor is None)  # before any work
    _check_run_dir(run)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    n_target = _n_target(run)
    directions = run.objective.directions
    distributions = {p.name: distribution(p) for p in run.search.params}
    writer = None
    trials: list[optuna.trial.FrozenTrial] = []
    if run.study.storage is not None:
        trials, writer = _claim_study(run, run.study.storage, distributions,
                                      allow_config_change)
    own_executor = executor is None
    try:
        study, _ = load_working_study(trials, run.study.name, directions,
                                      make_sampler(run.study.sampler, run.search, len(trials)),
                                      make_pruner(run.study.pruner))
        phases = LoopTimings()
        t0 = time.perf_counter()
        shard_set = plan_shard_set(run.data, engine=run.engine)
        t1 = time.perf_counter()
        spec = _work_spec(run)
        executor = executor or make_executor(run.executor)
        phases.data_s, phases.executor_s = t1 - t0, time.perf_counter() - t1
        if tracker is None:
            tracker = make_tracker(run.tracking, run.run_dir, report_writer=write_report_lazily)
        return _drive(run, study, shard_set, spec, executor, tracker, writer, n_target,
                      progress, started, len(trials), phases)
    finally:
        _shut_down(writer, executor if own_executor else None)


def _claim_study(run: RunConfig, url: str, distributions: dict[str, Any],
                 allow_config_change: bool
                 ) -> tuple[list[optuna.trial.FrozenTrial], StudyWriter]:
    """Open the persistent study, take its driver lease, start the storage writer."""
    try:
        persistent = open_persistent_study(run, url, allow_config_change=allow_config_change)
        lease = make_lease(url, run.study.name, run.study.lease_timeout_s, persistent.url)
        try:
            trials = take_over(persistent, distributions, lease)
        except BaseException:
            lease.close()
            raise
    except Exception as exc:
        if "database is locked" not in str(exc):
            raise
        raise ConfigError(
            f"study.storage: {url} stayed locked by another process for 60 s (a driver paused "
            "or hung in the middle of a write holds SQLite's lock); find it (fuser FILE), "
            "resume or stop it, then run again"
        ) from None
    return trials, StudyWriter(persistent, lease, heartbeat_s(run.study.lease_timeout_s))


def _shut_down(writer: StudyWriter | None, executor: Executor | None) -> None:
    """Storage first (every finished trial written, the lease released), then the executor.

    The executor's object references held by the finished loop (shards, spec, task handles)
    are collected before it shuts down: a Ray reference freed after ``ray.shutdown`` aborts
    the process ("The core worker has already been shutdown").
    """
    try:
        if writer is not None:
            writer.close()
    finally:
        if executor is not None:
            gc.collect()
            executor.close()


def _n_target(run: RunConfig) -> int:
    if run.study.sampler.name == "grid":
        return min(run.study.n_trials, n_grid_points(run.search))
    return run.study.n_trials


def _work_spec(run: RunConfig) -> WorkSpec:
    return WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)


def _drive(
    run: RunConfig,
    study: optuna.Study,
    shard_set: ShardPlan,
    spec: WorkSpec,
    executor: Executor,
    tracker: Tracker,
    writer: StudyWriter | None,
    n_target: int,
    progress_on: bool,
    started: float,
    n_existing: int,
    phases: LoopTimings,
) -> SweepResult:
    t0 = time.perf_counter()
    spec_ref = executor.put(spec)
    shard_refs = [executor.put(s) for s in shard_set.shards]
    phases.data_s += time.perf_counter() - t0
    first_params = tuple((p.name, _default(run, p.name)) for p in run.search.params)
    phases.warm_s = executor.warm(warm_worker, spec, shard_set.sample, first_params)
    n_done = sum(counts_toward_total(t) for t in study.get_trials(deepcopy=False))
    buffer = RecordBuffer(tracker, run.tracking.log_batch_size)
    tracker.start(sweep_info(run, shard_set, n_existing))
    _backfill(tracker, study)
    bar = Progress(n_target, n_done, enabled=progress_on, study_name=run.study.name)
    _seed_best(study, bar)

    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE

    def on_record(record: TrialRecord) -> None:
        if len(study.directions) == 1:
            _update_best(bar, record, maximize)
        bar.trial_done(record.state)
        before = buffer.seconds
        buffer.add(record)  # (flushes while waiting for workers count as waiting)
        loop.timings.tracker_s += buffer.seconds - before

    def tick() -> None:
        bar.tick()
        buffer.flush_if_due()

    loop = SweepLoop(run, study, executor, spec_ref, shard_refs,
                     rung_bounds(len(shard_set.shards), run.study.pruner), spec, on_record,
                     writer, tick)
    for name in ("data_s", "executor_s", "warm_s"):
        setattr(loop.timings, name, getattr(phases, name))
    deadline = None if run.study.timeout_s is None else time.time() + run.study.timeout_s
    status: Literal["finished", "interrupted", "failed"] = "finished"
    failure: Exception | None = None
    try:
        loop.run_until(n_target, n_done, deadline)
    except KeyboardInterrupt:
        status = "interrupted"
        for record in loop.abandon("interrupted (Ctrl-C); its parameters are re-run on resume"):
            buffer.add(record)
    except LeaseLostError as exc:  # another driver owns the study now: touch nothing shared
        loop.release()
        raise exc from None
    except Exception as exc:
        status, failure = "failed", exc
        for record in loop.abandon(f"the sweep stopped: {type(exc).__name__}: {exc}"):
            buffer.add(record)
    finally:
        bar.close()
    loop.release()  # every task is done: drop the executor's references before it closes
    if writer is not None:
        writer.flush()  # every finished trial is in the storage before the tracker finishes
    buffer.flush()
    error = None if failure is None else f"{type(failure).__name__}: {failure}"
    t_finish = time.perf_counter()
    summary = _finish_tracker(tracker, run, study, status, error, started,
                                            shard_set, executor, spec_ref, shard_refs, buffer,
                                            replay=status == "finished")
    del spec_ref, shard_refs
    loop.timings.finish_s = time.perf_counter() - t_finish
    if failure is not None:
        raise failure
    counts = _counts(study)
    return SweepResult(run.study.name, run.study.storage, status, *counts,
                       n_run=loop.timings.n_told, best=summary.best, holdout=summary.holdout,
                       elapsed_s=time.perf_counter() - started, timings=loop.timings,
                       tracker_s=buffer.seconds,
                       storage_write_s=writer.write_s if writer is not None else 0.0,
                       ui_command=tracker.ui_command(), study=study,
                       best_feasible=summary.best_feasible,
                       best_kpi_failures=summary.best_kpi_failures,
                       n_retried=_n_retried(study),
                       report=summary.report, report_path=summary.report_path)


def _backfill(tracker: Tracker, study: optuna.Study) -> None:
    """Hand the tracker every finished trial already in the study (a resume): the ones a
    crashed driver never logged get their run; the tracker skips trial numbers it has."""
    done = [record_from_frozen(t) for t in study.get_trials(deepcopy=False)
            if t.state.is_finished()]
    if done:
        tracker.log_trials(done)


def _finish_tracker(tracker: Tracker, run: RunConfig, study: optuna.Study, status: Any,
                    error: str | None, started: float, shard_set: ShardPlan, executor: Executor,
                    spec_ref: Any, shard_refs: list[Any], buffer: RecordBuffer,
                    *, replay: bool) -> SweepSummary:
    best, feasible = chosen_records(run, study)  # validation.selection: best or robust
    summary = finish_summary(run, study, status, error, time.perf_counter() - started, best,
                             feasible, shard_set, executor, spec_ref, shard_refs, replay=replay)
    summary = conclude(run, study, summary)  # overfitting statistics, RUN_DIR/STUDY/summary.json
    t0 = time.perf_counter()
    tracker.finish(summary)
    buffer.seconds += time.perf_counter() - t0
    return summary


def _counts(study: optuna.Study) -> tuple[int, int, int]:
    counts = count_trials(study.get_trials(deepcopy=False))
    return counts.complete, counts.pruned, counts.failed


def _n_retried(study: optuna.Study) -> int:
    return count_trials(study.get_trials(deepcopy=False)).retried


def _seed_best(study: optuna.Study, bar: Progress) -> None:
    if len(study.directions) > 1:
        return
    try:
        best = study.best_trial
    except ValueError:
        return
    bar.best(best.value, best.number)


def _update_best(bar: Progress, record: TrialRecord, maximize: bool) -> None:
    """What ``_seed_best`` would now show (the best feasible complete trial), from the record
    alone: ``study.best_trial`` scans and copies every trial, about 2 ms per trial told."""
    if record.state != "COMPLETE" or not record.values or not record.feasible:
        return
    value, current = record.values[0], bar.best_so_far
    if current is None or (value > current[0] if maximize else value < current[0]):
        bar.best(value, record.number)


def _default(run: RunConfig, name: str) -> Any:
    params = run.strategy.params_dict()
    if name in params:
        return params[name]
    spec = next(p for p in run.search.params if p.name == name)
    if spec.type == "categorical":
        assert spec.choices is not None
        return spec.choices[0]
    return spec.low


def _check_run_dir(run: RunConfig) -> Path:
    path = Path(run.run_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"run_dir: {path} exists and is not a directory (fix: pick another)")
    path.mkdir(parents=True, exist_ok=True)
    return path
