"""``warm_support_kernels`` (what ``make venv`` runs beside the engine's compile) leaves in
numba's cache every kernel the sweep's data and metrics path runs, in the types that path
passes: a later process that makes a synthetic dataset, loads a shard as a worker does and
counts round trips of a backtest's fills compiles nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mmopt.cluster.numba_cache import CACHE_DIR_ENV

REPO = Path(__file__).resolve().parents[2]

WARM = """
import json
from mmopt.cluster import cache_stats, warm_support_kernels
warm_support_kernels()
stats = cache_stats()
print(json.dumps({"loaded": stats.loaded, "compiled": stats.compiled}))
"""
# the sweep's own path: generate_dataset (mmopt sweep's data step), load_shard (a worker),
# round_trips on FILL_DTYPE fills (the shard metrics of every result)
SWEEP_PATH = """
import json, sys
import numpy as np
from mmopt.cluster import cache_stats
from mmopt.data import SynthConfig, generate_dataset, load_shard, open_catalog
from mmopt.engine import FILL_DTYPE
from mmopt.metrics.trading import round_trips
root = sys.argv[1]
generate_dataset(SynthConfig(n_securities=1, n_days=1, events_per_day=3000, seed=3), root)
shard = load_shard(next(iter(open_catalog(root))))
fills = np.zeros(3, dtype=FILL_DTYPE)
fills["side"], fills["qty"], fills["price"] = (1, -1, 1), 2.0, 100.0
trips = round_trips(fills, 0.0, shard.instrument)
stats = cache_stats()
print(json.dumps({"loaded": stats.loaded, "compiled": stats.compiled, "rows": len(shard),
                  "trips": trips.count}))
"""


def _run(code: str, cache: Path, *args: str) -> dict[str, int]:
    env = {**os.environ, CACHE_DIR_ENV: str(cache)}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_after_the_warm_up_the_data_and_metrics_path_compiles_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "numba"
    warmed = _run(WARM, cache)
    assert warmed["compiled"] > 0 and warmed["loaded"] == 0  # an empty cache: all compiled
    kernels = {p.name.split("-")[0] for p in cache.rglob("*.nbi")}
    assert {"_kernels._check", "_kernels._pack", "_kernels.round_trip_pnls",
            "_synth_kernel.simulate"} <= kernels

    after = _run(SWEEP_PATH, cache, str(tmp_path / "data"))
    assert after["rows"] > 0 and after["trips"] == 1
    assert after["compiled"] == 0, after  # every kernel of that path came from the cache
    assert after["loaded"] >= 4
