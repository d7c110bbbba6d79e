"""Engine cost before and after a change in executed instructions (valgrind), not in seconds.

Wall and CPU time of two builds of the kernel differ by 10-20 % from code layout alone
(docs/engine.md, "How precise a before/after of the kernel is"), more than the 5 % a change
is allowed to cost. The number of instructions a run executes does not depend on where the
code lands, so it is the steadier measure of how much work a change adds or removes (it does
not see cache misses or branch mispredictions: read it beside `engine_before_after.py`).

Same runs as `engine_before_after.py` (its child process, stream and strategy: the touch quoter
on the synthetic benchmark stream; variants ``base`` / ``one clock`` / ``two clocks``). Each
variant runs under ``valgrind --tool=cachegrind --cache-sim=no`` twice, with one and with two
backtests per step; the difference of the two totals is one backtest's instructions (imports,
loading the kernel and preparing the market cancel out). Printed: instructions per market row
at each step and the change against ``base``.

valgrind presents another CPU to the program, which would make numba compile the kernel again
inside valgrind (about 20 minutes); so every process here runs with ``NUMBA_CPU_NAME=generic``
and a cache directory of its own (``--cache-dir``, default a temporary one), filled by one
native run per variant first (about 2 minutes each). Generic code is not the code a normal run
executes (no host-specific instructions), but both checkouts are built the same way. The math
libraries run one thread each (``OPENBLAS_NUM_THREADS=1`` and the like): valgrind counts the
instructions of every thread, and idle BLAS threads spin for as long as the scheduler lets them
(before this, 2026-12-04, the same base build counted 1105 / 320 / 196 instructions a row in
one run against 1145 / 387 / 329 in another).

Run: ``.venv/bin/python benchmarks/engine_instructions.py --base ../bench_base [--events N]
[--cache-dir DIR]`` (needs ``valgrind`` on the PATH; about 10 minutes for 1 M rows plus the
compiles).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine_before_after import _CHILD, REPO, STEPS_MS, VARIANTS, _streams

_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _child(repo: Path, paths: tuple[Path, Path], clocks: str, reps: int, step: int,
           cache: Path, valgrind: bool) -> tuple[int, dict[str, Any]]:
    """One child process; returns (instructions executed or 0 natively, its JSON line)."""
    # one thread per math library: valgrind counts every thread's instructions, and a BLAS
    # pool's idle threads spin for a time that depends on scheduling, not on the run
    env = dict(os.environ, PYTHONPATH=str(repo), NUMBA_CPU_NAME="generic",
               NUMBA_CACHE_DIR=str(cache), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, "-c", _CHILD, str(paths[0]), str(paths[1]), clocks, str(reps),
           str(step)]
    if valgrind:
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               "--cachegrind-out-file=/dev/null", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{repo} ({clocks}, step {step} ms) failed:\n{res.stderr[-3000:]}")
    found = _IREFS.search(res.stderr)
    if valgrind and found is None:
        raise SystemExit(f"no 'I refs' line in valgrind's output:\n{res.stderr[-2000:]}")
    irefs = int(found.group(1).replace(",", "")) if found else 0
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return irefs, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout of the older engine")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="numba cache for the generic-CPU builds (kept; default: temporary)")
    args = ap.parse_args(argv)
    base = args.base.resolve()
    if not (base / "mmopt" / "engine").is_dir():
        raise SystemExit(f"--base {base}: not a checkout of mmopt (no mmopt/engine in it)")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on the PATH: install it (e.g. apt-get install valgrind)")
    args.shards = ""
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir.resolve() if args.cache_dir else Path(tmp) / "numba"
        for label, n, paths in _streams(args, Path(tmp)):
            print(f"{label}: instructions per market row, one backtest (valgrind)")
            print(f"{'variant':11s} " + " ".join(f"{f'{s} ms':>16s}" for s in STEPS_MS)
                  + "  fills = base")
            per_row: dict[str, dict[int, float]] = {}
            fills: dict[str, Any] = {}
            for name, clocks in VARIANTS:
                repo = base if name == "base" else REPO
                _child(repo, paths, clocks, 1, STEPS_MS[0], cache, valgrind=False)  # compile
                per_row[name] = {}
                fills[name] = {}
                for step in STEPS_MS:
                    one, got = _child(repo, paths, clocks, 1, step, cache, valgrind=True)
                    two, _ = _child(repo, paths, clocks, 2, step, cache, valgrind=True)
                    per_row[name][step] = (two - one) / n
                    fills[name][step] = got["fills"][str(step)]
                cells = []
                line: dict[str, Any] = {"bench": "engine_instructions", "stream": label,
                                        "variant": name}
                for step in STEPS_MS:
                    ir = per_row[name][step]
                    rel = ir / per_row["base"][step] - 1.0
                    cells.append(f"{ir:7.1f} ({rel:+5.1%})" if name != "base" else f"{ir:7.1f}")
                    line[f"ir_per_row_{step}ms"] = round(ir, 2)
                same = fills[name] == fills["base"]
                line["fills_equal_base"] = same
                print(f"{name:11s} " + " ".join(f"{c:>16s}" for c in cells) + f"  {same}",
                      flush=True)
                lines.append(line)
            print()
    for line in lines:
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
