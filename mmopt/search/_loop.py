"""The ask / evaluate / tell loop over batches of trials, deterministic whatever the executor.

A batch is ``executor.trials_per_task`` trials asked together; one task evaluates the batch's
live trials on one shard. Batches run through the rungs of shards one after another: after
each rung the batch's trials report their objective (in trial-number order), then the pruner
decides for each. Two batches are in flight at once, but the driver handles them in a fixed
logical order (batch k+1 is asked right after batch k-1 is told; its results are read only
once batch k is told), so the sampler and the pruner see the same history whatever the
executor, the number of workers or the timing: same seed, same trials.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState

from mmopt.config import RunConfig
from mmopt.executors import Executor, TaskError
from mmopt.search._trials import LiveTrial, score_live, stored_trial, tell_trial
from mmopt.search.mirror import ATTR_REQUEUE, StudyWriter
from mmopt.search.objective import TaskOutcome, WorkSpec, evaluate
from mmopt.search.scoring import score, shard_value
from mmopt.search.space import suggest_params
from mmopt.tracking import TrialRecord

__all__ = ["Batch", "LoopTimings", "SweepLoop"]

PIPELINE_DEPTH = 2
POLL_S = 0.25


@dataclass(slots=True)
class LoopTimings:
    """Where the driver's time went (seconds), for the summary and the benchmarks."""

    sampler_s: float = 0.0  # study.ask + trial.suggest_*
    score_s: float = 0.0  # pooling shard metrics, objectives, constraints (the objective's own)
    tell_s: float = 0.0  # study.report / should_prune / tell, trial records
    tracker_s: float = 0.0  # tracker.log_trials calls during the loop (hand-over to MLflow)
    submit_s: float = 0.0  # executor.submit (in-process evaluation for executor=local)
    wait_s: float = 0.0  # blocked on results
    kernel_s: float = 0.0  # summed inside run_backtest (workers)
    task_s: float = 0.0  # summed task time in workers
    loop_s: float = 0.0  # wall time of the whole ask/evaluate/tell loop
    n_tasks: int = 0
    n_told: int = 0
    # phases of the whole sweep around the loop (wall seconds, set by the driver)
    data_s: float = 0.0  # select / generate / load / prepare the shards
    executor_s: float = 0.0  # start or join the executor (Ray)
    warm_s: float = 0.0  # compile / warm the kernels in every worker
    finish_s: float = 0.0  # best trial re-runs, tracker.finish (report, plots)
    worker_pids: set[int] = field(default_factory=set)  # processes that ran the tasks

    def overhead_per_trial_s(self) -> float:
        """Driver time per trial beyond the sampler, scoring, the tracker and waiting for
        workers: submitting, collecting, telling Optuna, records, storage hand-over."""
        busy = self.loop_s - self.wait_s - self.sampler_s - self.score_s - self.tracker_s
        if self.kernel_s and self.submit_s >= self.kernel_s:  # executor=local runs in submit
            busy -= self.task_s
        return busy / max(1, self.n_told)


@dataclass(slots=True, eq=False)
class Batch:
    trials: list[LiveTrial]
    rung: int = 0
    pending: list[tuple[Any, int, list[LiveTrial]]] = field(default_factory=list)


class SweepLoop:
    """Runs trials until ``n_target`` count toward the total (or the time is up / stopped)."""

    def __init__(
        self,
        run: RunConfig,
        study: optuna.Study,
        executor: Executor,
        spec_ref: Any,
        shard_refs: list[Any],
        bounds: tuple[int, ...],
        spec: WorkSpec,
        on_record: Callable[[TrialRecord], None],
        writer: StudyWriter | None,
        tick: Callable[[], None],
    ) -> None:
        """``shard_refs`` are the executor's references to the shards, in rung order."""
        self.run, self.study, self.executor = run, study, executor
        self.spec, self.spec_ref, self.shard_refs, self.bounds = spec, spec_ref, shard_refs, bounds
        self.on_record, self.writer, self.tick = on_record, writer, tick
        self.batch_size = run.executor.trials_per_task
        self.wilcoxon = run.study.pruner.name == "wilcoxon"
        self.timings = LoopTimings()
        self.batches: deque[Batch] = deque()

    # -- asking -----------------------------------------------------------------------------
    def _ask_batch(self, n: int) -> Batch:
        t0 = time.perf_counter()
        lives = []
        for _ in range(n):
            trial = self.study.ask()
            lives.append(LiveTrial(trial, suggest_params(trial, self.run.search)))
        self.timings.sampler_s += time.perf_counter() - t0
        batch = Batch(lives)
        self._submit_rung(batch)
        return batch

    def _submit_rung(self, batch: Batch) -> None:
        alive = [t for t in batch.trials if not t.told and t.error is None]
        if not alive:
            return
        lo = 0 if batch.rung == 0 else self.bounds[batch.rung - 1]
        params = tuple(t.params for t in alive)
        t0 = time.perf_counter()
        for index in range(lo, self.bounds[batch.rung]):
            handle = self.executor.submit(evaluate, self.spec_ref, self.shard_refs[index], params)
            batch.pending.append((handle, index, alive))
        self.timings.submit_s += time.perf_counter() - t0
        self.timings.n_tasks += self.bounds[batch.rung] - lo

    # -- the loop ---------------------------------------------------------------------------
    def run_until(self, n_target: int, n_done: int, deadline: float | None) -> None:
        """Ask, evaluate and tell until ``n_target`` trials count (``n_done`` already do)."""
        start = time.perf_counter()
        try:
            self._run_until(n_target, n_done, deadline)
        finally:
            self.timings.loop_s += time.perf_counter() - start

    def _run_until(self, n_target: int, n_done: int, deadline: float | None) -> None:
        asked = n_done
        while True:
            while len(self.batches) < PIPELINE_DEPTH and asked < n_target and not (
                deadline is not None and time.time() >= deadline
            ):
                n = min(self.batch_size, n_target - asked)
                self.batches.append(self._ask_batch(n))
                asked += n
            self._write_in_flight()
            if not self.batches:
                return
            head = self.batches[0]
            while head.pending:
                self._wait(head)
                self._collect(head)
                self._after_rung(head)
            self.batches.popleft()
            self._persist(head)

    def _wait(self, batch: Batch) -> None:
        handles = [h for h, _, _ in batch.pending]
        t0 = time.perf_counter()
        while not self.executor.wait(handles, POLL_S):
            self.tick()
            if self.writer is not None:
                self.writer.check()
        self.timings.wait_s += time.perf_counter() - t0

    def _collect(self, batch: Batch) -> None:
        for handle, index, lives in batch.pending:
            try:
                outcome: TaskOutcome = self.executor.result(handle)
            except TaskError as exc:
                for live in lives:
                    live.error = live.error or f"task failed: {exc}"
                continue
            self.timings.task_s += outcome.wall_s
            self.timings.worker_pids.add(outcome.pid)
            for live, shard in zip(lives, outcome.outcomes, strict=True):
                self.timings.kernel_s += shard.kernel_s
                if shard.error is not None:
                    live.error = live.error or shard.error
                elif shard.metrics is not None:
                    live.shards.append(shard.metrics)
                    live.shard_ids.append(index)
        batch.pending = []

    def _after_rung(self, batch: Batch) -> None:
        alive = [t for t in batch.trials if not t.told]
        for live in alive:
            if live.error is not None:
                self._tell(live, TrialState.FAIL)
        alive = [t for t in alive if not t.told]
        if batch.rung == len(self.bounds) - 1:
            for live in alive:
                self._tell(live, TrialState.COMPLETE)
            return
        t0 = time.perf_counter()
        for live in alive:
            self._report(live, batch.rung)
        pruned = [live for live in alive if live.trial.should_prune()]
        self.timings.tell_s += time.perf_counter() - t0
        for live in pruned:
            self._tell(live, TrialState.PRUNED)
        batch.rung += 1
        self._submit_rung(batch)

    def _report(self, live: LiveTrial, rung: int) -> None:
        if self.wilcoxon:
            lo = 0 if rung == 0 else self.bounds[rung - 1]
            for index, shard in zip(live.shard_ids, live.shards, strict=True):
                if index >= lo:
                    self._report_value(live, shard_value(shard, self.run.objective), index)
            return
        t0 = time.perf_counter()
        value = score(live.shards, self.run.objective).values[0]
        self.timings.score_s += time.perf_counter() - t0
        self._report_value(live, value, len(live.shards))

    def _report_value(self, live: LiveTrial, value: float, step: int) -> None:
        if value == value:  # NaN is not reported
            live.trial.report(value, step)
            live.intermediate.append((step, value))

    def _tell(self, live: LiveTrial, state: TrialState) -> None:
        t0 = time.perf_counter()
        scored = score_live(live, state, self.run.objective)
        t1 = time.perf_counter()
        record = tell_trial(self.study, live, state, self.spec, self.run.objective,
                            with_per_security=self.run.tracking.name != "none", scored=scored)
        self.timings.score_s += t1 - t0
        self.timings.tell_s += time.perf_counter() - t1
        self.timings.n_told += 1
        self.on_record(record)

    # -- storage ----------------------------------------------------------------------------
    def _write_in_flight(self) -> None:
        if self.writer is None:
            return
        entries = [(t.number, dict(t.params)) for b in self.batches for t in b.trials]
        self.writer.set_in_flight(entries)

    def _persist(self, batch: Batch) -> None:
        """Copy the batch's trials to the persistent study, in number order."""
        frozen = sorted((stored_trial(self.study, t.number) for t in batch.trials),
                        key=lambda t: t.number)
        if self.writer is not None:
            self.writer.persist(frozen)

    def release(self) -> None:
        """Drop every reference to the executor's objects (trials in flight are forgotten)."""
        self.batches.clear()
        self.shard_refs = []
        self.spec_ref = None

    def abandon(self, reason: str) -> list[TrialRecord]:
        """Fail every trial still in flight, marked to be re-run by the next driver."""
        records = []
        for batch in self.batches:
            for live in batch.trials:
                if live.told:
                    continue
                live.trial.set_user_attr(ATTR_REQUEUE, True)
                live.error = reason
                live.shards = []
                record = tell_trial(self.study, live, TrialState.FAIL, self.spec,
                                    self.run.objective)
                records.append(record)
            self._persist(batch)
        self.batches.clear()
        self._write_in_flight()
        return records
