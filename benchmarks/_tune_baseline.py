"""The sweep_overhead baseline: the same objective through Ray Tune + OptunaSearch (TPE) with
Ray's MLflow callback, on the same prepared shards and the same number of worker CPUs."""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

from mmopt.config import RunConfig
from mmopt.search.objective import PreparedShard, WorkSpec, evaluate
from mmopt.search.scoring import score
from mmopt.search.shards import load_shard_set
from mmopt.search.space import distribution

__all__ = ["run_tune"]


def _trainable(config: dict[str, Any], spec: WorkSpec | None = None,
               shards: tuple[PreparedShard, ...] = (), objective: Any = None,
               names: tuple[str, ...] = ()) -> dict[str, float]:
    """One trial: every shard, one backtest each, pooled and scored exactly as mmopt does."""
    assert spec is not None
    params = tuple((n, config[n]) for n in names)
    metrics = []
    for shard in shards:
        outcome = evaluate(spec, shard, (params,)).outcomes[0]
        if outcome.metrics is not None:
            metrics.append(outcome.metrics)
    value = score(metrics, objective).values[0] if metrics else float("nan")
    return {"value": value}


def run_tune(run: RunConfig, trials: int, cpus: int, root: Path) -> dict[str, float]:
    """Wall seconds of ``trials`` Tune trials (Ray start excluded), and per trial."""
    import optuna
    import ray
    from ray import tune
    from ray.air.integrations.mlflow import MLflowLoggerCallback
    from ray.tune.search.optuna import OptunaSearch

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "0")
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    shard_set = load_shard_set(run.data)
    spec = WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)
    names = tuple(p.name for p in run.search.params)
    space = {p.name: distribution(p) for p in run.search.params}
    sampler = optuna.samplers.TPESampler(seed=run.study.sampler.seed, multivariate=True,
                                         constant_liar=True,
                                         n_startup_trials=run.study.sampler.n_startup_trials)
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING)
    try:
        search = OptunaSearch(space=space, metric="value", mode="max", sampler=sampler)
        tuner = tune.Tuner(
            tune.with_parameters(_trainable, spec=spec, shards=shard_set.shards,
                                 objective=run.objective, names=names),
            tune_config=tune.TuneConfig(search_alg=search, num_samples=trials,
                                        max_concurrent_trials=cpus),
            run_config=tune.RunConfig(
                name="tune_bench", storage_path=str(root / "tune"), verbose=0,
                callbacks=[MLflowLoggerCallback(tracking_uri=f"sqlite:///{root}/tune_mlflow.db",
                                                experiment_name="tune-bench")],
            ),
        )
        start = time.perf_counter()
        results = tuner.fit()
        wall = time.perf_counter() - start
    finally:
        ray.shutdown()
    done = sum(results[i].error is None for i in range(len(results)))
    return {"trials": float(done), "wall_s": wall, "s_per_trial": wall / max(1, done)}
