"""Does the shard-rung pruner cost search quality? Best out-of-sample objective at equal CPU.

For each sampler seed, four searches over the same synthetic in-sample shards, each stopped once
it has used the same budget of shard backtests (``--trials`` full trials' worth; a backtest is
the unit of CPU here, so the comparison does not depend on the load of a shared machine; the
kernel seconds actually spent are printed beside it):

* ``tpe``: TPE without pruning;
* ``tpe+prune``: TPE with the median pruner on the rungs, shards in the old order (round robin
  over securities, dates in order: the first rung sees only the first date);
* ``tpe+prune/strat``: the same with the shards stratified over securities *and* dates
  (``mmopt.search.shards.order_stratified``);
* ``random``: random search without pruning.

The best in-sample trial of each search is re-run on held-out dates; the table shows that
out-of-sample objective per seed, then mean and median per search, and how many trials each
search could afford. Final line: JSON.

    .venv/bin/python benchmarks/search_quality.py [--seeds 5] [--trials 20] [--events 5000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna

from mmopt.cli._hydra import compose_config
from mmopt.config import PrunerConfig, RunConfig, SamplerConfig, open_shards
from mmopt.data.catalog import ShardRef
from mmopt.executors import make_executor
from mmopt.search._loop import SweepLoop
from mmopt.search.mirror import load_working_study
from mmopt.search.objective import PreparedShard, WorkSpec, evaluate
from mmopt.search.samplers import make_pruner, make_sampler
from mmopt.search.scoring import score
from mmopt.search.selection import choose
from mmopt.search.shards import (
    ShardSet,
    load_shard_set,
    order_by_security,
    order_stratified,
    rung_bounds,
)
from mmopt.tracking import TrialRecord

Order = Callable[[Sequence[ShardRef]], list[ShardRef]]
ARMS: tuple[tuple[str, str, str, Order], ...] = (
    ("tpe", "tpe", "none", order_by_security),
    ("tpe+prune", "tpe", "median", order_by_security),
    ("tpe+prune/strat", "tpe", "median", order_stratified),
    ("random", "random", "none", order_by_security),
)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20,
                        help="budget: this many full trials' worth of shard backtests")
    parser.add_argument("--events", type=int, default=5000, help="events per shard")
    parser.add_argument("--securities", type=int, default=4)
    parser.add_argument("--days", type=int, default=2, help="in-sample dates (+1 held out)")
    parser.add_argument("--strategy", default="avellaneda_stoikov")
    return parser.parse_args()


def _run(a: argparse.Namespace, root: Path) -> RunConfig:
    overrides = [
        "experiment=smoke", f"run_dir={root}", f"data.root={root / 'data'}",
        f"strategy={a.strategy}", f"data.generate.n_securities={a.securities}",
        f"data.generate.n_days={a.days + 1}", f"data.generate.events_per_day={a.events}",
        "study=default", "objective.use_constraints=false", "tracking=none",
        "executor=local", "executor.trials_per_task=2", "study.sampler.n_startup_trials=6",
        "study.pruner.n_startup_trials=5",
    ]
    last = open_shards(compose_config(overrides).data).dates[-1]
    return compose_config([*overrides, f"data.holdout_dates=[{last}]"])


@dataclasses.dataclass
class ArmResult:
    oos: float
    in_sample: float
    n_trials: int
    n_pruned: int
    backtests: int
    kernel_s: float


def _search(run: RunConfig, shard_set: ShardSet, holdout: Sequence[PreparedShard],
            budget: int, order: Order) -> ArmResult:
    spec = WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)
    executor = make_executor(run.executor)
    by_key = {(s.security, s.date): s for s in shard_set.shards}
    ordered = [by_key[(r.security, r.date)] for r in order(tuple(shard_set.catalog))]
    study, _ = load_working_study([], "bench", run.objective.directions,
                                  make_sampler(run.study.sampler, run.search),
                                  make_pruner(run.study.pruner))
    used = [0]

    def on_record(record: TrialRecord) -> None:
        used[0] += record.n_shards

    loop = SweepLoop(run, study, executor, executor.put(spec),
                     [executor.put(s) for s in ordered],
                     rung_bounds(len(ordered), run.study.pruner), spec, on_record, None,
                     lambda: None)
    asked = 0
    while used[0] < budget:
        step = run.executor.trials_per_task
        loop.run_until(asked + step, asked, None)
        asked += step
    choice = choose(study, run.selection, run.search)
    best = choice.trials[0]
    params = tuple((p.name, best.params[p.name]) for p in run.search.params)
    metrics = [evaluate(spec, s, (params,)).outcomes[0].metrics for s in holdout]
    oos = score([m for m in metrics if m is not None], run.objective).values[0]
    trials = study.get_trials(deepcopy=False)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    return ArmResult(oos, float(best.values[0]), len(trials), pruned, used[0],
                     loop.timings.kernel_s)


def _fmt(value: float) -> str:
    return f"{value:10.4g}"


def main() -> None:
    a = _args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")  # sampled parameters that cannot quote are trials too
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mmopt_quality_") as tmp:
        run = _run(a, Path(tmp))
        shard_set = load_shard_set(run.data)
        holdout = load_shard_set(run.data, holdout=True).shards
        n = len(shard_set.shards)
        budget = a.trials * n
        print(f"{a.strategy}: {a.securities} securities x {a.days} in-sample dates = {n} shards "
              f"of {a.events} events, held out {holdout[0].date}; budget {budget} backtests "
              f"({a.trials} full trials) per search; pruner median, rungs "
              f"{list(run.study.pruner.rungs)} -> {rung_bounds(n, run.study.pruner)} shards")
        results: dict[str, list[ArmResult]] = {name: [] for name, *_ in ARMS}
        for seed in range(a.seeds):
            for name, sampler, pruner, order in ARMS:
                arm = dataclasses.replace(run, study=dataclasses.replace(
                    run.study, sampler=SamplerConfig(**{
                        **dataclasses.asdict(run.study.sampler), "name": sampler,
                        "seed": seed}),
                    pruner=PrunerConfig(**{**dataclasses.asdict(run.study.pruner),
                                           "name": pruner})))
                results[name].append(_search(arm, shard_set, holdout, budget, order))
        _print(results, a.seeds)
    summary: dict[str, Any] = {
        "benchmark": "search_quality", "seeds": a.seeds, "budget_backtests": budget,
        "shards": n, "events_per_shard": a.events, "strategy": a.strategy,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "arms": {name: {"oos": [r.oos for r in rs], "in_sample": [r.in_sample for r in rs],
                        "trials": [r.n_trials for r in rs], "pruned": [r.n_pruned for r in rs],
                        "kernel_s": [round(r.kernel_s, 2) for r in rs],
                        "oos_mean": statistics.fmean(r.oos for r in rs),
                        "oos_median": statistics.median(r.oos for r in rs)}
                 for name, rs in results.items()},
    }
    print(json.dumps(summary))


def _print(results: dict[str, list[ArmResult]], seeds: int) -> None:
    names = list(results)
    print("\nbest in-sample trial's out-of-sample objective (held-out date), same backtest "
          "budget")
    print(f"{'seed':>6} " + " ".join(f"{n:>16}" for n in names))
    for seed in range(seeds):
        print(f"{seed:>6} " + " ".join(f"{_fmt(results[n][seed].oos):>16}" for n in names))
    print(f"{'mean':>6} " + " ".join(
        f"{_fmt(statistics.fmean(r.oos for r in results[n])):>16}" for n in names))
    print(f"{'median':>6} " + " ".join(
        f"{_fmt(statistics.median(r.oos for r in results[n])):>16}" for n in names))
    print(f"{'IS med':>6} " + " ".join(
        f"{_fmt(statistics.median(r.in_sample for r in results[n])):>16}" for n in names))
    print(f"{'trials':>6} " + " ".join(
        f"{statistics.fmean(r.n_trials for r in results[n]):>16.1f}" for n in names))
    print(f"{'pruned':>6} " + " ".join(
        f"{statistics.fmean(r.n_pruned for r in results[n]):>16.1f}" for n in names))
    print(f"{'kern s':>6} " + " ".join(
        f"{statistics.fmean(r.kernel_s for r in results[n]):>16.2f}" for n in names))


if __name__ == "__main__":
    main()
