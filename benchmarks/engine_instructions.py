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

``--sim`` also simulates the caches and the branch predictor (``--cache-sim=yes
--branch-sim=yes``, valgrind's model of this machine's caches, not the machine itself) and
prints, per market row, first-level instruction and data cache misses, last-level misses and
mispredicted branches beside the instructions: the costs a before/after in seconds sees and an
instruction count does not. About three times slower; ``--variants`` picks the variants run.

Run: ``.venv/bin/python benchmarks/engine_instructions.py --base ../bench_base [--events N]
[--cache-dir DIR] [--sim] [--variants base,one clock]`` (needs ``valgrind`` on the PATH; about
10 minutes for 1 M rows plus the compiles, 30 with ``--sim``).
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

# cachegrind's summary lines: the counter's name in the printed tables -> its label there
COUNTERS = {"instructions": "I refs", "I1 misses": "I1 misses", "D1 misses": "D1 misses",
            "LL misses": "LL misses", "mispredicts": "Mispredicts"}


def _counts(stderr: str, sim: bool) -> dict[str, int]:
    """The counters of cachegrind's summary (only instructions without ``sim``)."""
    names = COUNTERS if sim else {"instructions": COUNTERS["instructions"]}
    counts = {}
    for name, label in names.items():
        found = re.search(label.replace(" ", r"\s+") + r":\s+([\d,]+)", stderr)
        if found is None:
            raise SystemExit(f"no '{label}' line in valgrind's output:\n{stderr[-2000:]}")
        counts[name] = int(found.group(1).replace(",", ""))
    return counts


def _child(repo: Path, paths: tuple[Path, Path], clocks: str, reps: int, step: int,
           cache: Path, valgrind: bool, sim: bool = False) -> tuple[dict[str, int], dict[str, Any]]:
    """One child process; returns (cachegrind's counters, none natively; its JSON line)."""
    # one thread per math library: valgrind counts every thread's instructions, and a BLAS
    # pool's idle threads spin for a time that depends on scheduling, not on the run
    env = dict(os.environ, PYTHONPATH=str(repo), NUMBA_CPU_NAME="generic",
               NUMBA_CACHE_DIR=str(cache), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, "-c", _CHILD, str(paths[0]), str(paths[1]), clocks, str(reps),
           str(step)]
    if valgrind:
        mode = "yes" if sim else "no"
        cmd = ["valgrind", "--tool=cachegrind", f"--cache-sim={mode}", f"--branch-sim={mode}",
               "--cachegrind-out-file=/dev/null", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{repo} ({clocks}, step {step} ms) failed:\n{res.stderr[-3000:]}")
    counts = _counts(res.stderr, sim) if valgrind else {}
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return counts, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout of the older engine")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="numba cache for the generic-CPU builds (kept; default: temporary)")
    ap.add_argument("--sim", action="store_true",
                    help="also simulate caches and branches (misses and mispredicts a row)")
    ap.add_argument("--variants", default=",".join(name for name, _ in VARIANTS),
                    help="comma-separated, among: " + ", ".join(n for n, _ in VARIANTS))
    args = ap.parse_args(argv)
    base = args.base.resolve()
    if not (base / "mmopt" / "engine").is_dir():
        raise SystemExit(f"--base {base}: not a checkout of mmopt (no mmopt/engine in it)")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on the PATH: install it (e.g. apt-get install valgrind)")
    known = dict(VARIANTS)
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not chosen or any(v not in known for v in chosen):
        raise SystemExit(f"--variants {args.variants!r}: name variants among "
                         f"{', '.join(known)} (comma-separated)")
    args.shards = ""
    lines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir.resolve() if args.cache_dir else Path(tmp) / "numba"
        for label, n, paths in _streams(args, Path(tmp)):
            per_row: dict[str, dict[str, dict[int, float]]] = {}
            fills: dict[str, Any] = {}
            for name in chosen:
                repo = base if name == "base" else REPO
                _child(repo, paths, known[name], 1, STEPS_MS[0], cache, valgrind=False)  # compile
                per_row[name] = {}
                fills[name] = {}
                for step in STEPS_MS:
                    one, got = _child(repo, paths, known[name], 1, step, cache, True, args.sim)
                    two, _ = _child(repo, paths, known[name], 2, step, cache, True, args.sim)
                    for counter in one:
                        per_row[name].setdefault(counter, {})[step] = (
                            (two[counter] - one[counter]) / n)
                    fills[name][step] = got["fills"][str(step)]
            lines += _print_tables(label, chosen, per_row, fills)
    for line in lines:
        print(json.dumps(line))
    return 0


def _print_tables(label: str, chosen: list[str], per_row: dict[str, dict[str, dict[int, float]]],
                  fills: dict[str, Any]) -> list[dict[str, Any]]:
    """One table per counter (per market row, one backtest; change against the first variant);
    returns the JSON lines."""
    first = chosen[0]
    lines = []
    for counter in per_row[first]:
        print(f"{label}: {counter} per market row, one backtest (valgrind)")
        print(f"{'variant':11s} " + " ".join(f"{f'{s} ms':>16s}" for s in STEPS_MS)
              + f"  fills = {first}")
        for name in chosen:
            cells = []
            line: dict[str, Any] = {"bench": "engine_instructions", "stream": label,
                                    "variant": name, "counter": counter}
            for step in STEPS_MS:
                value = per_row[name][counter][step]
                ref = per_row[first][counter][step]
                rel = value / ref - 1.0 if ref else 0.0
                cells.append(f"{value:7.1f} ({rel:+5.1%})" if name != first else f"{value:7.1f}")
                line[f"per_row_{step}ms"] = round(value, 3)
            same = fills[name] == fills[first]
            line[f"fills_equal_{first.replace(' ', '_')}"] = same
            print(f"{name:11s} " + " ".join(f"{c:>16s}" for c in cells) + f"  {same}",
                  flush=True)
            lines.append(line)
        print()
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
