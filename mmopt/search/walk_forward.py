"""``run_walk_forward``: one study per fold, all folds through one executor at once.

Order of work: plan the folds from the swept dates (a clear error if none fits), open (or
resume) each fold's study ``<study>-fold<k>`` in the same storage, load and prepare every shard
of every fold once and put it in the executor once, warm the workers, then go round the folds:
each fold's ``FoldLoop`` asks, submits and tells what is ready, so trials x shards of every
fold are in flight together. A fold whose study is done at once submits its in-sample top-K
(plus its chosen trial) on its test shards. At the end: each fold's row, the chosen trials'
test results stitched into one out-of-sample result, parameter stability across folds, the
stitched equity curves (when tracking), ``RUN_DIR/STUDY/folds.json`` and the tracker's parent
run with the report. The tracker gets every fold's trials as they finish (``TrialRecord.fold``
set: one child run each, like a plain sweep's) and each fold's out-of-sample re-runs
(``out_of_sample=True``); each fold's study keeps the detail too (``mmopt show <study>-fold<k>``).
"""

from __future__ import annotations

import dataclasses
import gc
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.trial import FrozenTrial, TrialState

from mmopt.config import RunConfig
from mmopt.errors import ConfigError
from mmopt.executors import Executor, TaskError, make_executor
from mmopt.metrics import ShardMetrics
from mmopt.search._fold_loop import FoldLoop
from mmopt.search._loop import POLL_S, LoopTimings
from mmopt.search._records import RecordBuffer, sweep_info
from mmopt.search.fold_results import (
    FOLDS_FILE,
    fold_trials,
    in_sample_ranking,
    oos_value,
    param_set,
    stitch,
    write_folds_json,
)
from mmopt.search.folds import Fold, fold_study_name, plan_folds
from mmopt.search.honesty import build_study_summary
from mmopt.search.lease import heartbeat_s, make_lease
from mmopt.search.mirror import StudyWriter, counts_toward_total, load_working_study, take_over
from mmopt.search.objective import WorkSpec, evaluate, replay, warm_worker
from mmopt.search.preflight import preflight
from mmopt.search.progress import Progress
from mmopt.search.report_writer import write_report_lazily
from mmopt.search.samplers import make_pruner, make_sampler
from mmopt.search.selection import choose
from mmopt.search.shards import ShardPlan, ShardSource, order_for_rungs, plan_shard_set, rung_bounds
from mmopt.search.space import distribution
from mmopt.search.storage import open_persistent_study
from mmopt.search.summary import run_holdout
from mmopt.tracking import (
    FoldResult,
    ShardCurve,
    SweepSummary,
    Tracker,
    TrialRecord,
    WalkForwardSummary,
    make_tracker,
)
from mmopt.tracking.study_summary import (
    FoldRow,
    StudySummary,
    summary_path,
    write_summary_json,
)

__all__ = ["WalkForwardResult", "run_walk_forward"]

Status = Literal["finished", "interrupted", "failed"]


@dataclass(frozen=True, slots=True, eq=False)
class WalkForwardResult:
    """What a walk-forward did: the folds, the stitched out-of-sample result, where things are."""

    study_name: str
    storage_url: str | None
    status: Status
    summary: WalkForwardSummary
    chosen: TrialRecord | None  # the last fold's chosen trial (the parameters to use next)
    holdout: TrialRecord | None  # ``chosen`` re-run on data.holdout_dates
    n_run: int  # trials finished by this run, over every fold
    elapsed_s: float
    timings: LoopTimings
    folds_json: Path | None
    ui_command: str | None
    report: StudySummary | None = None  # summary.json: overfitting statistics, fold rows
    report_path: str | None = None  # RUN_DIR/STUDY/summary.json


@dataclass(slots=True, eq=False)
class _FoldState:
    fold: Fold
    run: RunConfig
    study: optuna.Study
    loop: FoldLoop
    test: list[ShardSource]
    test_refs: list[Any]
    writer: StudyWriter | None
    ranked: list[FrozenTrial] = field(default_factory=list)
    chosen: FrozenTrial | None = None
    chosen_feasible: bool = True
    rerun: list[FrozenTrial] = field(default_factory=list)
    pending: list[Any] = field(default_factory=list)
    shards: dict[int, list[ShardMetrics]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    finished: bool = False
    rerun_started_at: float = 0.0  # epoch seconds, when the re-runs were submitted
    rerun_s: float = 0.0  # wall time from submitting the re-runs to collecting them


def fold_run(run: RunConfig, fold: Fold) -> RunConfig:
    """The config of one fold's study: its own name, its train dates only."""
    return dataclasses.replace(
        run,
        study=dataclasses.replace(run.study, name=fold_study_name(run.study.name, fold.index)),
        data=dataclasses.replace(run.data, dates=fold.train),
    )


def run_walk_forward(
    run: RunConfig,
    *,
    progress: bool = True,
    allow_config_change: bool = False,
    tracker: Tracker | None = None,
    executor: Executor | None = None,
) -> WalkForwardResult:
    """Run (or resume) the walk-forward ``run`` describes; see the module docstring."""
    started = time.perf_counter()
    if run.validation.name != "walk_forward":
        raise ConfigError(f"validation.name: {run.validation.name}, not walk_forward "
                          "(use mmopt.search.run_sweep)")
    preflight(run, tracking=tracker is None, executor=executor is None)  # before any work
    Path(run.run_dir).mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    from mmopt.config import open_shards

    folds = plan_folds(run.validation, open_shards(run.data).dates)  # errors before any work
    runs = [fold_run(run, f) for f in folds]
    writers: list[StudyWriter | None] = []
    own_executor = executor is None
    try:
        studies, n_existing = _open_studies(runs, allow_config_change, writers)
        if len(writers) < len(runs):
            writers = [None] * len(runs)  # in memory (study.storage: null)
        phases = LoopTimings()
        t0 = time.perf_counter()
        days = sorted({d for f in folds for d in (*f.train, *f.test)})
        shard_set = plan_shard_set(dataclasses.replace(run.data, dates=tuple(days)))
        t1 = time.perf_counter()
        executor = executor or make_executor(run.executor)
        phases.data_s, phases.executor_s = t1 - t0, time.perf_counter() - t1
        if tracker is None:
            tracker = make_tracker(run.tracking, run.run_dir, report_writer=write_report_lazily)
        return _drive(run, folds, runs, studies, writers, shard_set, executor, tracker,
                      progress, started, n_existing, phases)
    finally:
        _shut_down(writers, executor if own_executor else None)


def _shut_down(writers: list[StudyWriter | None], executor: Executor | None) -> None:
    """Storage first (every finished trial written, every fold's lease released), then the
    executor, after its references held by the loops are collected (see driver._shut_down)."""
    try:
        for writer in writers:
            if writer is not None:
                writer.close()
    finally:
        if executor is not None:
            gc.collect()
            executor.close()


def _open_studies(runs: list[RunConfig], allow_config_change: bool,
                  writers: list[StudyWriter | None]) -> tuple[list[optuna.Study], int]:
    """Each fold's working study; a fold's writer goes into ``writers`` as soon as its lease
    is taken, so that the caller releases every lease taken if a later fold fails."""
    studies: list[optuna.Study] = []
    n_existing = 0
    for fr in runs:
        trials: list[FrozenTrial] = []
        if fr.study.storage is not None:
            distributions = {p.name: distribution(p) for p in fr.search.params}
            persistent = open_persistent_study(fr, fr.study.storage,
                                               allow_config_change=allow_config_change)
            lease = make_lease(fr.study.storage, fr.study.name, fr.study.lease_timeout_s,
                               persistent.url)
            try:
                trials = take_over(persistent, distributions, lease)
            except BaseException:
                lease.close()
                raise
            writers.append(StudyWriter(persistent, lease, heartbeat_s(fr.study.lease_timeout_s)))
        n_existing += len(trials)
        study, _ = load_working_study(trials, fr.study.name, fr.objective.directions,
                                      make_sampler(fr.study.sampler, fr.search, len(trials)),
                                      make_pruner(fr.study.pruner))
        studies.append(study)
    return studies, n_existing


def _drive(run: RunConfig, folds: tuple[Fold, ...], runs: list[RunConfig],
           studies: list[optuna.Study], writers: list[StudyWriter | None], shard_set: ShardPlan,
           executor: Executor, tracker: Tracker, progress_on: bool, started: float,
           n_existing: int, phases: LoopTimings) -> WalkForwardResult:
    spec = WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)
    t0 = time.perf_counter()
    spec_ref = executor.put(spec)
    by_key = {(s.security, s.date): (s, executor.put(s)) for s in shard_set.shards}
    phases.data_s += time.perf_counter() - t0
    first = tuple((p.name, _default(run, p.name)) for p in run.search.params)
    phases.warm_s = executor.warm(warm_worker, spec, shard_set.sample, first)
    tracker.start(sweep_info(run, shard_set, n_existing))
    buffer = RecordBuffer(tracker, run.tracking.log_batch_size)
    for fold, study in zip(folds, studies, strict=True):  # a resume: the tracker skips the
        _backfill(buffer, study, fold.index)               # trials it has already logged
    n_done = [sum(counts_toward_total(t) for t in s.get_trials(deepcopy=False)) for s in studies]
    bar = Progress(run.study.n_trials * len(folds), sum(n_done), enabled=progress_on,
                   study_name=f"{run.study.name} ({len(folds)} folds)", show_best=False)

    def on_record(index: int) -> Any:
        def told(record: TrialRecord) -> None:
            bar.trial_done(record.state)
            buffer.add(dataclasses.replace(record, fold=index))
        return told

    def tick() -> None:
        bar.tick()
        buffer.flush_if_due()

    deadline = None if run.study.timeout_s is None else time.time() + run.study.timeout_s
    states = []
    for fold, fr, study, writer, done in zip(folds, runs, studies, writers, n_done, strict=True):
        train = order_for_rungs([r for r in shard_set.catalog if r.date in fold.train])
        refs = [by_key[(r.security, r.date)][1] for r in train]
        test = [by_key[(r.security, r.date)] for r in shard_set.catalog if r.date in fold.test]
        loop = FoldLoop(fr, study, executor, spec_ref, refs, rung_bounds(len(refs),
                        fr.study.pruner), spec, on_record(fold.index), writer, tick)
        loop.begin(fr.study.n_trials, done, deadline)
        states.append(_FoldState(fold, fr, study, loop, [s for s, _ in test],
                                 [r for _, r in test], writer))
    status: Status = "finished"
    failure: Exception | None = None
    try:
        _schedule(states, executor, spec_ref, tick)
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as exc:
        status, failure = "failed", exc
    finally:
        bar.close()
        if status != "finished":
            for st in states:
                for record in st.loop.abandon(
                        f"the walk-forward stopped ({status}); re-run on resume"):
                    buffer.add(dataclasses.replace(record, fold=st.fold.index))
    for st in states:
        for record in _oos_records(st, run):
            buffer.add(record)
    buffer.flush()
    t_finish = time.perf_counter()
    results = [_fold_result(st, run) for st in states]
    curves = _curves(states, executor, spec_ref) if (
        status == "finished" and run.tracking.name != "none") else ()
    summary = stitch(results, {st.fold.index: st.shards.get(st.chosen.number, [])
                               for st in states if st.chosen is not None}, run, curves)
    last = states[-1] if states else None
    chosen = _record(last) if last is not None else None
    holdout = None
    if status == "finished" and chosen is not None and run.data.holdout_dates:
        holdout = run_holdout(run, executor, spec_ref, chosen.number, chosen.params)
    folds_json = write_folds_json(Path(run.run_dir) / run.study.name / FOLDS_FILE, summary,
                                  run.study.name)
    report, report_path = _study_summary(run, last, summary, holdout, status)
    for st in states:  # drop the executor's references before it closes
        st.loop.release()
        st.test_refs, st.pending = [], []
    _finish_tracker(tracker, states, results, summary, chosen, holdout, status, failure,
                    started, report, report_path)
    timings = _timings(states, phases)
    timings.finish_s = time.perf_counter() - t_finish
    if failure is not None:
        raise failure
    return WalkForwardResult(run.study.name, run.study.storage, status, summary, chosen,
                             holdout, timings.n_told, time.perf_counter() - started, timings,
                             folds_json, tracker.ui_command(), report, report_path)


def _backfill(buffer: RecordBuffer, study: optuna.Study, fold: int) -> None:
    from mmopt.search._trials import record_from_frozen

    for t in study.get_trials(deepcopy=False):
        if t.state.is_finished():
            buffer.add(dataclasses.replace(record_from_frozen(t), fold=fold))
    buffer.flush()


def _schedule(states: list[_FoldState], executor: Executor, spec_ref: Any,
              tick: Any) -> None:
    """Round robin over the folds until every study and every re-run is done."""
    while True:
        moved, waiting = False, []
        for st in states:
            if st.finished:
                continue
            if not st.loop.done:
                moved |= st.loop.step()
                if st.loop.done:
                    _submit_reruns(st, executor, spec_ref)
                    moved = True
                else:
                    waiting += st.loop.head_handles()
            elif executor.wait(st.pending, 0.0):
                _collect_reruns(st, executor)
                st.finished = moved = True
            else:
                waiting += st.pending
        if all(st.finished for st in states):
            return
        if not moved and waiting:  # block (not spin) until a call finishes or a tick is due
            executor.wait(waiting, POLL_S / 10)
            tick()


def _submit_reruns(st: _FoldState, executor: Executor, spec_ref: Any) -> None:
    st.ranked = in_sample_ranking(st.study)
    choice = choose(st.study, st.run.selection, st.run.search)
    st.chosen = choice.trials[0] if choice.trials else None
    st.chosen_feasible = choice.feasible
    picked = list(st.ranked[:st.run.validation.top_k])
    if st.chosen is not None and st.chosen.number not in {t.number for t in picked}:
        picked.append(st.chosen)
    st.rerun = picked
    if not picked:
        return
    params = tuple(param_set(t, st.run.search) for t in picked)
    st.rerun_started_at, st.rerun_s = time.time(), time.perf_counter()
    st.pending = [executor.submit(evaluate, spec_ref, ref, params) for ref in st.test_refs]


def _collect_reruns(st: _FoldState, executor: Executor) -> None:
    for handle in st.pending:
        try:
            outcome = executor.result(handle)
        except TaskError as exc:
            for t in st.rerun:
                st.errors.setdefault(t.number, f"task failed: {exc}")
            continue
        for t, shard in zip(st.rerun, outcome.outcomes, strict=True):
            if shard.metrics is not None:
                st.shards.setdefault(t.number, []).append(shard.metrics)
            elif shard.error is not None:
                st.errors.setdefault(t.number, shard.error)
    st.pending = []
    st.rerun_s = time.perf_counter() - st.rerun_s


def _oos_records(st: _FoldState, run: RunConfig) -> list[TrialRecord]:
    """Each re-run trial of a fold on the fold's test shards, as a record for the tracker
    (``out_of_sample=True``, same number and fold as the in-sample trial)."""
    from mmopt.search._trials import record_from_frozen
    from mmopt.search.scoring import per_security, score

    out = []
    for t in st.rerun:
        own = record_from_frozen(t)
        shards = st.shards.get(t.number, [])
        error = st.errors.get(t.number) or (None if shards else "no test shard")
        rerun = dataclasses.replace(
            own, intermediate=(), n_shards=len(shards), duration_s=st.rerun_s,
            started_at=st.rerun_started_at, fold=st.fold.index, out_of_sample=True)
        if error is not None:
            out.append(dataclasses.replace(rerun, state="FAIL", values=None, metrics=(),
                                           per_security=(), constraints=(), error=error))
            continue
        sc = score(shards, run.objective)
        out.append(dataclasses.replace(
            rerun, state="COMPLETE", values=sc.values, error=None,
            metrics=tuple(sc.metrics.as_dict().items()), per_security=per_security(shards),
            constraints=sc.constraints))
    return out


def _fold_result(st: _FoldState, run: RunConfig) -> FoldResult:
    oos = {}
    for t in st.rerun:
        error = st.errors.get(t.number)
        shards = st.shards.get(t.number, [])
        value = oos_value(shards, run.objective) if error is None and shards else float("nan")
        oos[t.number] = (value, error or (None if shards else "no test shard"))
    trials = st.study.get_trials(deepcopy=False)
    return FoldResult(
        index=st.fold.index,
        study_name=st.run.study.name,
        train_dates=st.fold.train,
        test_dates=st.fold.test,
        n_complete=sum(t.state == TrialState.COMPLETE for t in trials),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        n_failed=sum(t.state == TrialState.FAIL and counts_toward_total(t) for t in trials),
        top_k=run.validation.top_k,
        rerun=fold_trials(st.ranked, st.chosen, run.validation.top_k, oos, run.search),
        chosen=None if st.chosen is None else st.chosen.number,
        chosen_feasible=st.chosen_feasible,
        oos_metrics=_oos_metrics(st, run),
    )


def _oos_metrics(st: _FoldState, run: RunConfig) -> tuple[tuple[str, float], ...]:
    from mmopt.search.scoring import score

    shards = st.shards.get(st.chosen.number, []) if st.chosen is not None else []
    return tuple(score(shards, run.objective).metrics.as_dict().items()) if shards else ()


def _curves(states: list[_FoldState], executor: Executor,
            spec_ref: Any) -> tuple[tuple[int, ShardCurve], ...]:
    """Each fold's chosen trial re-run on its test shards, for the stitched equity plot."""
    jobs = []
    for st in states:
        if st.chosen is None:
            continue
        params = param_set(st.chosen, st.run.search)
        for shard, ref in zip(st.test, st.test_refs, strict=True):
            jobs.append((st.fold.index, shard, executor.submit(replay, spec_ref, ref, params)))
    out = []
    for index, shard, handle in jobs:
        try:
            equity, fills = executor.result(handle)
        except TaskError:
            continue
        out.append((index, ShardCurve(shard.security, shard.date, equity, fills)))
    return tuple(out)


def _record(st: _FoldState) -> TrialRecord | None:
    from mmopt.search._trials import record_from_frozen

    if st.chosen is None:
        return None
    return dataclasses.replace(record_from_frozen(st.chosen), fold=st.fold.index)


def _study_summary(run: RunConfig, last: _FoldState | None, wf: WalkForwardSummary,
                   holdout: TrialRecord | None, status: Status
                   ) -> tuple[StudySummary | None, str | None]:
    """``RUN_DIR/STUDY/summary.json`` of the walk-forward: the last fold's chosen trial and its
    study's overfitting statistics, and one row per fold (``folds``)."""
    if last is None:
        return None, None
    rows = []
    for fold in wf.folds:
        chosen, winner = fold.chosen_trial, fold.oos_winner(wf.maximize)
        if chosen is None or winner is None:
            continue
        rows.append(FoldRow(fold.index, fold.train_dates, fold.test_dates, chosen.number,
                            chosen.in_sample_value, chosen.oos_value, winner.in_sample_rank))
    result = build_study_summary(
        last.study, status=status, objective_names=tuple(o.name for o in
                                                          run.objective.objectives),
        best=[last.chosen] if last.chosen is not None else [],
        best_feasible=last.chosen_feasible, holdout=holdout,
        holdout_dates=run.data.holdout_dates, folds=rows)
    result = dataclasses.replace(result, study=run.study.name,
                                 stitched_out_of_sample=wf.stitched_value)
    path = summary_path(run.run_dir, run.study.name)
    try:
        write_summary_json(path, result.to_json())
    except OSError as exc:
        warnings.warn(f"{path}: summary not written ({exc}); folds.json and the fold studies "
                      "keep the results", stacklevel=2)
        return result, None
    return result, str(path)


def _finish_tracker(tracker: Tracker, states: list[_FoldState], results: list[FoldResult],
                    summary: WalkForwardSummary, chosen: TrialRecord | None,
                    holdout: TrialRecord | None, status: Status, failure: Exception | None,
                    started: float, report: StudySummary | None,
                    report_path: str | None) -> None:
    last = states[-1] if states else None
    tracker.finish(SweepSummary(
        status=status,
        n_complete=sum(r.n_complete for r in results),
        n_pruned=sum(r.n_pruned for r in results),
        n_failed=sum(r.n_failed for r in results),
        elapsed_s=time.perf_counter() - started,
        best=(chosen,) if chosen is not None else (),
        holdout=holdout,
        best_curves=(),
        study=last.study if last is not None else None,
        error=None if failure is None else f"{type(failure).__name__}: {failure}",
        best_feasible=last.chosen_feasible if last is not None else True,
        walk_forward=summary,
        report=report,
        report_path=report_path,
    ))


def _timings(states: list[_FoldState], phases: LoopTimings) -> LoopTimings:
    total = phases
    for st in states:
        t = st.loop.timings
        for name in ("sampler_s", "score_s", "tell_s", "tracker_s", "submit_s", "wait_s",
                     "kernel_s", "task_s", "loop_s", "n_tasks", "n_told"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
        total.worker_pids |= t.worker_pids
    return total


def _default(run: RunConfig, name: str) -> Any:
    params = run.strategy.params_dict()
    if name in params:
        return params[name]
    spec = next(p for p in run.search.params if p.name == name)
    if spec.type == "categorical":
        assert spec.choices is not None
        return spec.choices[0]
    return spec.low
