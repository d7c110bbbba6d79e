"""Orchestration overhead of the sweep driver per trial, beside the sampler and the tracker.

200 trials on tiny synthetic shards (the kernel is nearly free) with executor=ray and 2 workers.
Prints the driver's time per trial excluding the sampler's own time, the sampler's time, the
tracker's (MLflow's) time and the background storage writes; then Ray Tune + OptunaSearch (TPE)
with Ray's MLflowLoggerCallback on the same objective, shards and CPUs (``--tune-trials`` of
them: Tune costs seconds per trial), and the ratio of wall time per trial. Final line: JSON.

    .venv/bin/python benchmarks/sweep_overhead.py [--trials 200] [--tune-trials 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mmopt.cli._hydra import compose
from mmopt.config import from_hydra
from mmopt.report import write_report
from mmopt.search import run_sweep
from mmopt.tracking import MlflowTracker, make_tracker


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--executor", default="ray", choices=("ray", "local"))
    parser.add_argument("--tracking", default="mlflow", choices=("mlflow", "none"))
    parser.add_argument("--events", type=int, default=2000, help="events per shard")
    parser.add_argument("--tune-trials", type=int, default=20,
                        help="Ray Tune baseline trials (0 = skip it)")
    return parser.parse_args()


def _tune_available() -> bool:
    try:
        import ray.tune  # noqa: F401
        from ray.tune.search.optuna import OptunaSearch  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    a = _args()
    with tempfile.TemporaryDirectory(prefix="mmopt_bench_") as tmp:
        root = Path(tmp)
        overrides = [
            "experiment=smoke", f"run_dir={root}", f"data.root={root}/data",
            "data.generate.n_securities=2", "data.generate.n_days=1",
            f"data.generate.events_per_day={a.events}", "study=default", "study.name=bench",
            f"study.n_trials={a.trials}", "study.pruner.name=none",
            f"study.storage=journal:///{root}/optuna.log", f"executor={a.executor}",
            "executor.trials_per_task=4", f"tracking={a.tracking}",
        ]
        if a.executor == "ray":
            overrides.append("executor.num_cpus=2")
        if a.tracking == "mlflow":
            overrides += [f"tracking.tracking_uri=sqlite:///{root}/mlflow.db",
                          "tracking.experiment=bench"]
        run = from_hydra(compose(overrides))
        tracker = make_tracker(run.tracking, run.run_dir, report_writer=write_report)
        t0 = time.perf_counter()
        result = run_sweep(run, progress=False, tracker=tracker)
        total = time.perf_counter() - t0
        background = tracker.stats().log_seconds if isinstance(tracker, MlflowTracker) else 0.0
        tune = None
        if a.tune_trials > 0 and _tune_available():
            from _tune_baseline import run_tune

            tune = run_tune(run, a.tune_trials, 2, root)
    t = result.timings
    n = max(1, t.n_told)
    ours_s_per_trial = t.loop_s / n
    rows = {
        "driver_overhead_ms_per_trial (excl. sampler, MLflow)": 1e3 * t.overhead_per_trial_s(),
        "sampler_ms_per_trial (ask + suggest)": 1e3 * t.sampler_s / n,
        "scoring_ms_per_trial (pool metrics, objective)": 1e3 * t.score_s / n,
        "tell_ms_per_trial (report/prune/tell, in overhead)": 1e3 * t.tell_s / n,
        "mlflow_ms_per_trial (driver thread, in the loop)": 1e3 * t.tracker_s / n,
        "mlflow_s at the end (best re-run, report, plots)": result.tracker_s - t.tracker_s,
        "mlflow_ms_per_trial (background writer)": 1e3 * background / n,
        "storage_write_ms_per_trial (background thread)": 1e3 * result.storage_write_s / n,
        "wait_ms_per_trial": 1e3 * t.wait_s / n,
        "kernel_ms_per_trial (workers)": 1e3 * t.kernel_s / n,
        "mmopt wall_ms_per_trial (loop)": 1e3 * ours_s_per_trial,
        "loop_s": t.loop_s,
        "total_s (incl. Ray start, data, warm-up, report)": total,
    }
    if tune is not None:
        rows["ray tune + OptunaSearch wall_ms_per_trial"] = 1e3 * tune["s_per_trial"]
        rows["ratio tune / mmopt (wall per trial)"] = tune["s_per_trial"] / ours_s_per_trial
    print(f"{'measure':<56} {'value':>12}")
    for key, value in rows.items():
        print(f"{key:<56} {value:>12.3f}")
    if tune is None:
        print("ray tune + OptunaSearch: skipped", "(--tune-trials 0)" if a.tune_trials <= 0
              else "(ray[tune] is not importable)")
    print(json.dumps({
        "bench": "sweep_overhead", "trials": t.n_told, "executor": a.executor,
        "tracking": a.tracking,
        "overhead_ms_per_trial": round(rows["driver_overhead_ms_per_trial (excl. sampler, "
                                            "MLflow)"], 3),
        "sampler_ms_per_trial": round(rows["sampler_ms_per_trial (ask + suggest)"], 3),
        "scoring_ms_per_trial": round(1e3 * t.score_s / n, 3),
        "mlflow_ms_per_trial": round(1e3 * t.tracker_s / n, 3),
        "mlflow_background_ms_per_trial": round(
            rows["mlflow_ms_per_trial (background writer)"], 3),
        "storage_write_ms_per_trial": round(
            rows["storage_write_ms_per_trial (background thread)"], 3),
        "wall_ms_per_trial": round(1e3 * ours_s_per_trial, 3), "loop_s": round(t.loop_s, 3),
        "tune_trials": 0 if tune is None else int(tune["trials"]),
        "tune_wall_ms_per_trial": None if tune is None else round(1e3 * tune["s_per_trial"], 1),
        "ratio_tune_over_mmopt": None if tune is None else round(
            tune["s_per_trial"] / ours_s_per_trial, 1),
    }))


if __name__ == "__main__":
    main()
