"""Scale-out of executor=ray with worker-owned shards (printed numbers, not a timed test).

1. Trials per minute of the same sweep on 1 and on 2 worker nodes of one CPU each (separate
   raylets on 127.0.0.1 through ``ray.cluster_utils.Cluster``; the head node has no CPU).
2. The driver's peak RSS (``ru_maxrss`` of the driver process; Ray's workers are other
   processes) for two dataset sizes (``--sizes-mb``, Parquet on disk).
3. Time from ``run_sweep`` to the first trial told, on the first dataset size, with this
   checkout and with the driver-side loading of commit ``--old-commit`` (``git archive`` of it
   into the temporary directory; ``--old-commit none`` skips it).

The datasets are made with the synthetic generator into a temporary directory (in a separate
process, so the driver measured never generated anything). Every measurement runs in its own
process. Last line: a JSON object. Under load, sizes and trials can be lowered (flags).

    .venv/bin/python benchmarks/scale_out.py [--sizes-mb 1024 4096] [--trials 64]
        [--scale-events 2000000] [--old-commit bee745a]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
N_SECURITIES = 2


def _overrides(root: Path, run_dir: Path, events: int, n_days: int, trials: int,
               name: str) -> list[str]:
    return [
        "experiment=smoke", f"run_dir={run_dir}", f"data.root={root}",
        f"data.generate.n_securities={N_SECURITIES}", f"data.generate.n_days={n_days}",
        f"data.generate.events_per_day={events}", "strategy=price_follow", "study=default",
        f"study.name={name}", f"study.n_trials={trials}", "study.pruner.name=none",
        "study.storage=null", "executor=ray", "executor.trials_per_task=2", "tracking=none",
    ]


# -- child processes ---------------------------------------------------------------------------
def _child_generate(spec: dict[str, Any]) -> dict[str, Any]:
    from mmopt.cli._hydra import compose
    from mmopt.config import ensure_generated, from_hydra

    run = from_hydra(compose(spec["overrides"]))
    ensure_generated(run.data)
    size = sum(p.stat().st_size for p in Path(run.data.root).rglob("*.parquet"))
    return {"dataset_mb": size / 2**20}


def _child_sweep(spec: dict[str, Any]) -> dict[str, Any]:
    """One sweep in this process; a Ray cluster of ``nodes`` one-CPU nodes when asked."""
    t_start = time.perf_counter()
    from mmopt.cli._hydra import compose
    from mmopt.config import from_hydra
    from mmopt.search import _loop, run_sweep

    first: list[float] = []
    tell = _loop.SweepLoop._tell

    def timed_tell(self: Any, *args: Any) -> None:
        if not first:
            first.append(time.perf_counter())
        tell(self, *args)

    _loop.SweepLoop._tell = timed_tell  # type: ignore[method-assign,assignment]
    overrides = list(spec["overrides"])
    cluster = None
    if spec.get("nodes"):
        import ray
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
        for _ in range(spec["nodes"]):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
    else:
        overrides.append(f"executor.num_cpus={spec.get('cpus', 2)}")
    run = from_hydra(compose(overrides))
    for attempt in range(3):  # a loaded machine can time Ray's node start-up out: again
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            result = run_sweep(run, progress=False)
            break
        except Exception as exc:
            if "timed out during startup" not in str(exc) or attempt == 2:
                raise
    t = result.timings
    out = {
        "first_trial_s": (first[0] - t0) if first else float("nan"),
        "process_first_trial_s": (first[0] - t_start) if first else float("nan"),
        "trials_per_min": 60.0 * t.n_told / t.loop_s if t.loop_s else float("nan"),
        "loop_s": t.loop_s, "n_told": t.n_told, "warm_s": t.warm_s, "data_s": t.data_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "driver_cpu_s": time.process_time() - cpu0,
    }
    if cluster is not None:
        import ray

        ray.shutdown()
        cluster.shutdown()
    return out


def _run_child(kind: str, spec: dict[str, Any], pythonpath: Path = REPO) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(spec)],
        env=env, capture_output=True, text=True, cwd=pythonpath, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{kind} child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


# -- the benchmark -----------------------------------------------------------------------------
def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--sizes-mb", type=float, nargs=2, default=[1024.0, 4096.0],
                        help="the two dataset sizes (Parquet MB) for the driver's RSS")
    parser.add_argument("--events-per-shard", type=int, default=2_000_000,
                        help="events per shard of the RSS / first-trial datasets")
    parser.add_argument("--rss-trials", type=int, default=4)
    parser.add_argument("--scale-events", type=int, default=2_000_000,
                        help="events per shard of the 1-vs-2-node sweep (2 x 2 shards)")
    parser.add_argument("--trials", type=int, default=64, help="trials of the 1-vs-2 sweep")
    parser.add_argument("--skip-nodes", action="store_true",
                        help="skip the 1-vs-2-node part (ratio null)")
    parser.add_argument("--skip-rss", action="store_true",
                        help="only the 1-vs-2-node part (no RSS / first-trial datasets)")
    parser.add_argument("--old-commit", default="bee745a",
                        help="commit with driver-side loading, or 'none'")
    return parser.parse_args()


def _dataset(tmp: Path, target_mb: float, events: int, bytes_per_event: float) -> tuple[
        Path, int]:
    n_days = max(1, math.ceil(target_mb * 2**20 / (bytes_per_event * events * N_SECURITIES)))
    root = tmp / f"data_{int(target_mb)}mb"
    _run_child("generate", {"overrides": _overrides(root, tmp / "gen", events, n_days, 1, "g")})
    return root, n_days


def _old_tree(tmp: Path, commit: str) -> Path:
    dest = tmp / f"old_{commit}"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True,
                             check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def main() -> None:
    a = _args()
    if a.child:
        kind, spec = a.child
        fn = {"generate": _child_generate, "sweep": _child_sweep}[kind]
        print(json.dumps(fn(json.loads(spec))))
        return
    with tempfile.TemporaryDirectory(prefix="mmopt_scale_") as name:
        tmp = Path(name)
        # bytes per event on disk, from one day of shards as large as the datasets' (Parquet
        # compresses a larger shard better: a small probe overestimates and undersizes them)
        per_event = math.nan
        if not a.skip_rss:
            probe_mb = _run_child("generate", {"overrides": _overrides(
                tmp / "probe", tmp / "gen", a.events_per_shard, 1, 1, "p")})["dataset_mb"]
            per_event = probe_mb * 2**20 / (a.events_per_shard * N_SECURITIES)

        # 1. 1 vs 2 worker nodes
        nodes: dict[int, dict[str, Any]] = {}
        ratio = float("nan")
        if not a.skip_nodes:
            scale_root = tmp / "scale"
            _run_child("generate", {"overrides": _overrides(scale_root, tmp / "gen",
                                                            a.scale_events, 2, 1, "s")})
            for k in (1, 2):
                nodes[k] = _run_child("sweep", {"nodes": k, "overrides": _overrides(
                    scale_root, tmp / f"n{k}", a.scale_events, 2, a.trials, f"n{k}")})
            ratio = nodes[2]["trials_per_min"] / nodes[1]["trials_per_min"]
            print(f"{'worker nodes':<14} {'trials/min':>11} {'loop s':>8} {'warm s':>8} "
                  f"{'driver CPU s':>13}")
            for k, row in nodes.items():
                print(f"{k:<14} {row['trials_per_min']:>11.2f} {row['loop_s']:>8.1f} "
                      f"{row['warm_s']:>8.1f} {row['driver_cpu_s']:>13.1f}")
            print(f"ratio 2 over 1 node: {ratio:.2f}x", flush=True)

        # 2. driver peak RSS with two dataset sizes (local runtime, 2 CPUs)
        rss: list[tuple[Path, int, float, dict[str, Any]]] = []
        if a.skip_rss:
            a.sizes_mb, a.old_commit = [], "none"
        else:
            print(f"\n{'dataset MB':>11} {'shards':>7} {'driver peak RSS MB':>19} "
                  f"{'first trial s':>14}", flush=True)
        for target in a.sizes_mb:
            root, n_days = _dataset(tmp, target, a.events_per_shard, per_event)
            mb = _run_child("generate", {"overrides": _overrides(
                root, tmp / "gen", a.events_per_shard, n_days, 1, "g")})["dataset_mb"]
            row = _run_child("sweep", {"cpus": 2, "overrides": _overrides(
                root, tmp / f"r{int(target)}", a.events_per_shard, n_days,
                a.rss_trials, "r")})
            rss.append((root, n_days, mb, row))
            print(f"{mb:>11.0f} {n_days * N_SECURITIES:>7} {row['peak_rss_mb']:>19.0f} "
                  f"{row['first_trial_s']:>14.1f}", flush=True)

        # 3. time to the first trial, this checkout vs driver-side loading
        old = None
        new = rss[0][3] if rss else {"first_trial_s": math.nan}
        if rss and a.old_commit != "none":
            root, n_days, mb, _ = rss[0]
            tree = _old_tree(tmp, a.old_commit)
            old = _run_child("sweep", {"cpus": 2, "overrides": _overrides(
                root, tmp / "old", a.events_per_shard, n_days, a.rss_trials, "o")},
                pythonpath=tree)
            print(f"\nfirst trial on {mb:.0f} MB: workers read {new['first_trial_s']:.1f} s "
                  f"(driver peak RSS {new['peak_rss_mb']:.0f} MB) vs driver-side loading "
                  f"({a.old_commit}) {old['first_trial_s']:.1f} s (driver peak RSS "
                  f"{old['peak_rss_mb']:.0f} MB)")
    print(json.dumps({
        "bench": "scale_out", "ratio_2_over_1": None if not nodes else round(ratio, 3),
        "trials_per_min_1": nodes[1]["trials_per_min"] if nodes else None,
        "trials_per_min_2": nodes[2]["trials_per_min"] if nodes else None,
        "driver_peak_rss_mb": [round(r[3]["peak_rss_mb"], 1) for r in rss],
        "dataset_mb": [round(r[2], 1) for r in rss],
        "first_trial_s": round(new["first_trial_s"], 2) if rss else None,
        "first_trial_s_driver_loading": None if old is None else round(old["first_trial_s"], 2),
        "driver_peak_rss_mb_driver_loading": None if old is None else round(
            old["peak_rss_mb"], 1),
    }))


if __name__ == "__main__":
    main()
