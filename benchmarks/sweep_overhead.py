"""Orchestration overhead of the sweep driver per trial, beside the sampler and the tracker.

200 trials on tiny synthetic shards (the kernel is nearly free) with executor=ray and 2 workers.
Prints the driver's time per trial excluding the sampler's own time, the sampler's time, the
tracker's (MLflow's) time and the background storage writes; then Ray Tune + OptunaSearch on
the same objective if ray[tune] is importable. Final line: a JSON summary.

    .venv/bin/python benchmarks/sweep_overhead.py [--trials 200] [--tracking mlflow|none]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mmopt.cli._hydra import compose
from mmopt.config import from_hydra
from mmopt.search import run_sweep


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--executor", default="ray", choices=("ray", "local"))
    parser.add_argument("--tracking", default="mlflow", choices=("mlflow", "none"))
    parser.add_argument("--events", type=int, default=2000, help="events per shard")
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
        t0 = time.perf_counter()
        result = run_sweep(run, progress=False)
        total = time.perf_counter() - t0
    t = result.timings
    n = max(1, t.n_told)
    rows = {
        "driver_overhead_ms_per_trial": 1e3 * t.overhead_per_trial_s(result.tracker_s),
        "sampler_ms_per_trial": 1e3 * t.sampler_s / n,
        "tell_ms_per_trial": 1e3 * t.tell_s / n,
        "tracker_ms_per_trial": 1e3 * result.tracker_s / n,
        "storage_write_ms_per_trial (background thread)": 1e3 * result.storage_write_s / n,
        "wait_ms_per_trial": 1e3 * t.wait_s / n,
        "kernel_ms_per_trial (workers)": 1e3 * t.kernel_s / n,
        "loop_s": t.loop_s,
        "total_s (incl. Ray start, data, warm-up)": total,
    }
    print(f"{'measure':<50} {'value':>12}")
    for key, value in rows.items():
        print(f"{key:<50} {value:>12.3f}")
    tune = _tune_available()
    print("ray tune + OptunaSearch:", "available (not run here)" if tune else
          "skipped: ray[tune] is not installed in this environment")
    print(json.dumps({
        "bench": "sweep_overhead", "trials": t.n_told, "executor": a.executor,
        "tracking": a.tracking,
        "overhead_ms_per_trial": round(rows["driver_overhead_ms_per_trial"], 3),
        "sampler_ms_per_trial": round(rows["sampler_ms_per_trial"], 3),
        "tracker_ms_per_trial": round(rows["tracker_ms_per_trial"], 3),
        "storage_write_ms_per_trial": round(
            rows["storage_write_ms_per_trial (background thread)"], 3),
        "loop_s": round(t.loop_s, 3), "ray_tune": "skipped" if not tune else "not run",
    }))


if __name__ == "__main__":
    main()
