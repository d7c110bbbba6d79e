"""Cold start: where a fresh clone's ``make sweep`` spends its time before the trials.

Each mode runs in a new temporary directory with an empty numba cache (``NUMBA_CACHE_DIR``) and
no synthetic data, so compiling and data generation happen as on a fresh clone; the venv
(pip install) is excluded. ``mmopt sweep`` runs as ``make sweep`` runs it (the default config:
Ray executor, MLflow tracking, 100 trials; ``--trials`` and ``--executor`` change that) and its
own ``time:`` line gives the split: data (generation + load), executor start, kernel warm-up,
trials, best re-run and report.

* ``today``: ``mmopt sweep`` alone: its warm-up compiles the kernels and its data step compiles
  the synthetic-data kernels and makes the shards.
* ``prebuilt``: first the Makefile's cache step (its ``WARM_SUPPORT`` and ``WARM_ENGINE``
  lines, read from the Makefile, in two processes in parallel, done once when the environment
  is made: printed as its own column), then ``mmopt sweep``, whose warm-up now loads compiled
  kernels.

Also printed: wall and CPU seconds of each step run as a child process (CPU seconds count the
work whatever the machine's load; wall seconds on a busy machine do not).

Run: ``.venv/bin/python benchmarks/cold_start.py [--modes today,prebuilt] [--trials 100]
[--executor ray|local]``. One JSON line per mode: ``{"bench": "cold_start", "mode": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _makefile_step(name: str) -> str:
    """The Python code of the Makefile's ``NAME := ...`` line (its cache step)."""
    text = (REPO / "Makefile").read_text()
    found = re.search(rf"^{name}\s*:=\s*(.+)$", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"Makefile: no {name} := line (the cache step this benchmark runs)")
    return found.group(1).strip()


WARM_SUPPORT = _makefile_step("WARM_SUPPORT")
WARM_ENGINE = _makefile_step("WARM_ENGINE")
_CLI = "import sys; from mmopt.cli import main; sys.argv[0] = 'mmopt'; sys.exit(main())"


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run(cmds: list[list[str]], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmds`` in parallel; (wall s, CPU s of them all, stdout + stderr of the last)."""
    cpu0 = _cpu_children()
    t0 = time.perf_counter()
    procs = [subprocess.Popen(c, cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for c in cmds]
    outs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - t0
    for p, out in zip(procs, outs, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"{p.args!r} failed ({p.returncode}):\n{out[-4000:]}")
    return wall, _cpu_children() - cpu0, outs[-1]


def _phases(output: str) -> dict[str, float]:
    m = re.search(r"time: (.*?report \d+\.\d s)", output, re.S)
    if not m:
        return {}
    return {name.strip(): float(sec)
            for name, sec in re.findall(r"([a-z][a-z -]*?) (\d+\.\d) s", m.group(1))}


def measure(mode: str, trials: int, executor: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mmopt-cold-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_CACHE_DIR": str(work / "numba")}
        out: dict[str, Any] = {"bench": "cold_start", "mode": mode, "trials": trials,
                               "executor": executor}
        if mode == "prebuilt":
            wall, cpu, _ = _run([[sys.executable, "-c", WARM_SUPPORT],
                                 [sys.executable, "-c", WARM_ENGINE]], work, env)
            out["cache_build_wall_s"] = round(wall, 1)
            out["cache_build_cpu_s"] = round(cpu, 1)
        overrides = [f"executor={executor}", f"study.n_trials={trials}",
                     f"run_dir={work / 'runs'}", f"data.root={work / 'data' / 'synthetic'}",
                     f"hydra.run.dir={work / 'outputs'}"]
        wall, cpu, text = _run([[sys.executable, "-c", _CLI, "sweep", *overrides]], work, env)
        out["sweep_wall_s"] = round(wall, 1)
        out["sweep_cpu_s_driver"] = round(cpu, 1)  # Ray workers are not our children
        out["phases_s"] = _phases(text)
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="today,prebuilt")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--executor", default="ray", choices=("ray", "local"))
    args = ap.parse_args(argv)
    rows = []
    for mode in (m for m in args.modes.split(",") if m):
        if mode not in ("today", "prebuilt"):
            raise SystemExit(f"--modes: unknown mode {mode!r} (today, prebuilt)")
        row = measure(mode, args.trials, args.executor)
        rows.append(row)
        print(f"{mode}: {row}", flush=True)
    print()
    print(f"{'mode':9s} {'cache build':>12s} {'data':>6s} {'executor':>9s} {'warm-up':>8s} "
          f"{'warm+data':>10s} {'trials':>7s} {'sweep wall':>11s}")
    for r in rows:
        ph = r["phases_s"]
        data, warm = ph.get("data", float("nan")), ph.get("kernel warm-up", float("nan"))
        build = r.get("cache_build_wall_s")
        print(f"{r['mode']:9s} {'-' if build is None else f'{build:.1f}':>12s} {data:6.1f} "
              f"{ph.get('executor start', float('nan')):9.1f} {warm:8.1f} {data + warm:10.1f} "
              f"{ph.get('trials', float('nan')):7.1f} {r['sweep_wall_s']:11.1f}")
    print("(seconds; venv excluded; the goal: warm-up + data < 11 s, make sweep < 100 s in all)")
    for r in rows:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
