"""Worker utilisation of a sweep on large shards (about 2 M events each).

Runs the same sweep with executor=ray on 1 and on 2 worker CPUs; prints the share of worker
task time spent inside the backtest (run_backtest) and trials per minute, and the speed-up of
2 workers over 1. Final line: a JSON summary.

    .venv/bin/python benchmarks/sweep_utilisation.py [--events 2000000] [--trials 40]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from mmopt.cli._hydra import compose
from mmopt.config import from_hydra
from mmopt.search import run_sweep


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000_000, help="events per shard")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--strategy", default="price_follow")
    return parser.parse_args()


def _sweep(root: Path, a: argparse.Namespace, cpus: int) -> dict[str, float]:
    run = from_hydra(compose([
        "experiment=smoke", f"run_dir={root}", f"data.root={root}/data",
        "data.generate.n_securities=2", "data.generate.n_days=1",
        f"data.generate.events_per_day={a.events}", f"strategy={a.strategy}",
        "study=default", f"study.name=util{cpus}", f"study.n_trials={a.trials}",
        "study.pruner.name=none", "study.storage=null", "executor=ray",
        f"executor.num_cpus={cpus}", "executor.trials_per_task=2", "tracking=none",
    ]))
    result = run_sweep(run, progress=False)
    t = result.timings
    return {
        "kernel_share": t.kernel_s / t.task_s if t.task_s else float("nan"),
        "trials_per_min": 60.0 * t.n_told / t.loop_s if t.loop_s else float("nan"),
        "loop_s": t.loop_s,
    }


def main() -> None:
    a = _args()
    with tempfile.TemporaryDirectory(prefix="mmopt_util_") as tmp:
        one = _sweep(Path(tmp), a, 1)
        two = _sweep(Path(tmp), a, 2)
    speedup = two["trials_per_min"] / one["trials_per_min"]
    print(f"{'workers':<10} {'kernel share':>14} {'trials/min':>12} {'loop s':>10}")
    for n, row in ((1, one), (2, two)):
        print(f"{n:<10} {100 * row['kernel_share']:>13.1f}% {row['trials_per_min']:>12.2f} "
              f"{row['loop_s']:>10.1f}")
    print(f"speed-up 2 vs 1 workers: {speedup:.2f}x")
    print(json.dumps({
        "bench": "sweep_utilisation", "events_per_shard": a.events, "trials": a.trials,
        "kernel_share_1": round(one["kernel_share"], 4),
        "kernel_share_2": round(two["kernel_share"], 4),
        "trials_per_min_1": round(one["trials_per_min"], 3),
        "trials_per_min_2": round(two["trials_per_min"], 3), "speedup": round(speedup, 3),
    }))


if __name__ == "__main__":
    main()
