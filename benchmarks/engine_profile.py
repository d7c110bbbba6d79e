"""Where the engine's time goes, instruction by instruction: a sampling profile of the kernel.

For the engine's owner on a machine without hardware counters (a VM) and with noisy timings:
`perf record -e cpu-clock` samples a process that runs the touch quoter (``price_follow``, as in
``engine_before_after.py``) on the benchmark's synthetic stream ``--reps`` times; the process
dumps its executable anonymous memory (numba's compiled code) once the kernel is loaded and
marks the start and end of the timed runs. Printed: where the samples inside the timed runs
went (numba's compiled code as ``JIT``, else the library's symbol), the JIT code regions by
share, and the hottest JIT instructions disassembled with ``objdump``. A 4 KB region holding
``lock xadd`` / ``lock incq`` / ``lock decq`` is numba's reference counting (NRT_incref /
NRT_decref); the kernel's own code is the region starting at the printed kernel address.

Needs ``perf`` and ``objdump`` on PATH (Linux). Samples land a few instructions after the one
that waited (skid): read the hot instructions with their neighbours.

Run: ``.venv/bin/python benchmarks/engine_profile.py [--events 1000000] [--step-ms 1000]
[--clocks local|auto] [--reps 40] [--top 25]``
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = 20240808

_CHILD = """
import ctypes, json, sys, time
import numpy as np
from mmopt.data.synth import generate_events
from mmopt.engine import EngineConfig, prepare_market, run_backtest
from mmopt.engine._kernel import run_kernel
from mmopt.strategies import PriceFollowParams, get_strategy, warm_up
events_n, clocks, step, reps, out = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                     int(sys.argv[4]), sys.argv[5])
events, instrument = generate_events(events_n, seed=int(sys.argv[6]))
warm_up("price_follow")
market = prepare_market(events, instrument)
params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                           min_notional_before_quote=0.0)
cfg = EngineConfig(step_ms=step, entry_latency_ns=1_000_000, response_latency_ns=1_000_000,
                   clocks=clocks)
strategy = get_strategy("price_follow")
run_backtest(market, None, strategy, params, cfg)
cres = run_kernel.overloads[run_kernel.signatures[0]]
kernel = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
regions = []
for line in open("/proc/self/maps"):
    parts = line.split()
    if "x" in parts[1] and len(parts) < 6:  # executable, anonymous: compiled code
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        path = f"{out}/code_{lo:x}.bin"
        open(path, "wb").write(ctypes.string_at(lo, hi - lo))
        regions.append([lo, hi, path])
t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
for _ in range(reps):
    run_backtest(market, None, strategy, params, cfg)
t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
json.dump({"kernel": kernel, "regions": regions, "t0": t0, "t1": t1,
           "run_s": (t1 - t0) / reps}, open(f"{out}/layout.json", "w"))
"""


def _samples(perf_data: Path, t0: float, t1: float) -> list[tuple[int, str]]:
    text = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "time,ip,sym,dso"],
                          capture_output=True, text=True, check=True).stdout
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3 or not t0 <= float(parts[0].rstrip(":")) <= t1:
            continue
        where = " ".join(parts[2:])
        out.append((int(parts[1], 16), "JIT" if "perf-" in where or "[unknown]" in where
                    else where))
    return out


def _disassemble(lo: int, path: str) -> dict[int, str]:
    asm = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64",
                          f"--adjust-vma={lo}", path], capture_output=True, text=True,
                         check=True).stdout
    lines = {}
    for line in asm.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s*(.*)", line)
        if m:
            lines[int(m.group(1), 16)] = m.group(2)
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--step-ms", type=int, default=1000)
    ap.add_argument("--clocks", default="local", choices=("local", "auto"))
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    for tool in ("perf", "objdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"engine_profile: `{tool}` is not on PATH; install it (Linux perf "
                             "tools, binutils) to profile the kernel")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "perf.data"
        cmd = ["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-e", "cpu-clock", "-F", "4000",
               "-o", str(data), "--", sys.executable, "-c", _CHILD, str(args.events),
               args.clocks, str(args.step_ms), str(args.reps), tmp, str(SEED)]
        res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise SystemExit(f"engine_profile: the profiled run failed:\n{res.stderr[-3000:]}")
        layout = json.loads((Path(tmp) / "layout.json").read_text())
        samples = _samples(data, layout["t0"], layout["t1"])
        if not samples:
            raise SystemExit("engine_profile: no samples in the timed runs (perf permissions? "
                             "see /proc/sys/kernel/perf_event_paranoid)")
        n = len(samples)
        clocks = "one clock" if args.clocks == "local" else "clocks=auto"
        print(f"{args.events:,} rows, {clocks}, {args.step_ms} ms steps: "
              f"{layout['run_s'] * 1e3:.1f} ms per run, {n} samples in {args.reps} runs")
        for where, k in collections.Counter(w for _, w in samples).most_common(8):
            print(f"  {100 * k / n:5.1f} %  {where}")
        jit = collections.Counter(ip for ip, w in samples if w == "JIT")
        print(f"\nJIT code regions (kernel at {layout['kernel']:#x}):")
        hot: list[tuple[int, int, str]] = []
        for lo, hi, path in layout["regions"]:
            inside = {ip: k for ip, k in jit.items() if lo <= ip < hi}
            if not inside:
                continue
            print(f"  {lo:#x} ({(hi - lo) // 1024} KB): {100 * sum(inside.values()) / n:5.1f} %")
            asm = _disassemble(lo, path)
            hot += [(k, ip, asm.get(ip, "?")) for ip, k in inside.items()]
        print(f"\nhottest {args.top} JIT instructions (% of samples, address, instruction):")
        for k, ip, text in sorted(hot, reverse=True)[: args.top]:
            print(f"  {100 * k / n:5.2f} %  {ip:#x}  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
