"""Engine throughput: mmopt's numba event loop against hftbacktest 2.4.4 on the touch quoter.

A seeded synthetic stream (default 5 M rows from ``mmopt.data.synth``: L2, 10 levels, ~10 %
trades), ``price_follow`` as the touch quoter (refill 0, min notional 0, 1 lot, max 10 lots),
risk-averse queue, no partial fills, 1 ms entry + 1 ms response latency, at steps of 10 ms,
100 ms and 1 s. mmopt and hftbacktest (through tests/conformance/hbt_oracle.py) run on the same
data in the same process, interleaved, ``--reps`` times each; the table shows median events/s.

Two decision modes, both engines doing the same thing (fills are cross-checked):
* ``steps``: decide on the step grid only (hftbacktest's plain ``elapse`` loop, its fastest
  path). This is the headline ratio of the JSON lines.
* ``on_fill``: also decide when a fill reaches the strategy (mmopt's default; hftbacktest needs
  ``wait_next_feed`` per row for it).

Excluded from events/s: numba compile/load (printed), ``prepare_market`` (done once per shard,
printed) and hftbacktest's event conversion (done once). Also printed: the time a fresh process
needs to have the kernel ready with cache=True (a subprocess running ``warm_up()``), and the
peak RSS of a subprocess that loads the stream and runs mmopt once.

Run: ``.venv/bin/python benchmarks/engine_throughput.py [--events N] [--reps R]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "conformance"))

from hbt_oracle import (  # noqa: E402  (test helper, path set above)
    OracleConfig,
    run_touch_quoter,
    to_hbt_events,
)

STEPS_MS = (10, 100, 1000)
LATENCY_NS = 1_000_000
SEED = 20240808


def _engine() -> tuple[Any, Any, Any, Any, Any]:
    from mmopt.engine import EngineConfig, prepare_market, run_backtest
    from mmopt.strategies import PriceFollowParams, get_strategy, warm_up

    params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                               min_notional_before_quote=0.0)
    return EngineConfig, prepare_market, run_backtest, warm_up, (get_strategy("price_follow"),
                                                                 params)


def _fresh_process_ready() -> dict[str, float]:
    """Import + warm_up() in a new interpreter (cache=True kernels), run twice; last one wins."""
    code = (
        "import time, json; t0 = time.perf_counter(); import mmopt.engine; "
        "import mmopt.strategies as e; t1 = time.perf_counter(); w = e.warm_up(); "
        "t2 = time.perf_counter(); "
        "print(json.dumps({'import_s': t1 - t0, 'warm_up_call_s': t2 - t1, "
        "'warm_up_reported_s': w, 'ready_s': t2 - t0}))"
    )
    out: dict[str, float] = {}
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=REPO, check=True)
        out = json.loads(res.stdout.strip().splitlines()[-1])
    return out


_MEMORY_CODE = """
import dataclasses, json, resource, sys
import numpy as np
from mmopt.data._schema import Instrument
from mmopt.engine import EngineConfig, prepare_market, run_backtest
from mmopt.strategies import PriceFollowParams, get_strategy
spec = json.loads(sys.argv[2])
ev = np.load(sys.argv[1])
market = prepare_market(ev, Instrument(**spec["instrument"]))
params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                           min_notional_before_quote=0.0)
run_backtest(market, None, get_strategy("price_follow"), params, EngineConfig(**spec["config"]))
# VmHWM = this process's own peak; ru_maxrss would also count the parent's RSS at fork
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
peak_kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"maxrss_mb": peak_kb / 1024}))
"""


def _peak_memory_mb(events: np.ndarray, instrument: Any, step_ms: int) -> float:
    """Peak RSS (MB) of a fresh process that loads the stream and runs mmopt once.

    Read from /proc/self/status VmHWM: Linux carries ``ru_maxrss`` over fork + exec, so the
    child's getrusage() would report at least this (large) parent's RSS."""
    spec = {
        "instrument": dataclasses.asdict(instrument),
        "config": {"step_ms": step_ms, "entry_latency_ns": LATENCY_NS,
                   "response_latency_ns": LATENCY_NS},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.npy"
        np.save(path, events)
        res = subprocess.run([sys.executable, "-c", _MEMORY_CODE, str(path), json.dumps(spec)],
                             capture_output=True, text=True, cwd=REPO, check=True)
    return float(json.loads(res.stdout.strip().splitlines()[-1])["maxrss_mb"])


def _time(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--modes", default="steps,on_fill")
    ap.add_argument("--no-subprocess", action="store_true", help="skip ready-time and memory")
    ap.add_argument("--clocks", default="auto", choices=("auto", "local"),
                    help="auto: two clocks (the stream has exchange times); local: one clock")
    args = ap.parse_args(argv)
    modes = tuple(m for m in args.modes.split(",") if m)

    from mmopt.data.synth import generate_events

    gen_s, (events, instrument) = _time(lambda: generate_events(args.events, seed=SEED))
    n = len(events)
    trades = float(np.mean(events["kind"] == 3))
    print(f"stream: {n:,} rows ({trades:.1%} trades), {instrument.security}, generated in "
          f"{gen_s:.1f} s; latency {LATENCY_NS / 1e6:g} ms + {LATENCY_NS / 1e6:g} ms; clocks "
          f"{args.clocks}")

    EngineConfig, prepare_market, run_backtest, warm_up, (strategy, params) = _engine()
    compile_s = warm_up()
    prep_s, market = _time(lambda: prepare_market(events, instrument))
    hbt_events_s, hbt_input = _time(lambda: to_hbt_events(
        events, instrument, clocks=args.clocks))
    small = events[:2000]
    hbt_compile_s, _ = _time(lambda: run_touch_quoter(small, instrument, OracleConfig(
        step_ns=10_000_000, decide_on_fill=True)))
    run_touch_quoter(small, instrument, OracleConfig(step_ns=10_000_000, decide_on_fill=False))
    print(f"mmopt warm_up (compile or cache load) {compile_s:.2f} s; prepare_market "
          f"{prep_s:.2f} s; hftbacktest strategy compile {hbt_compile_s:.2f} s; hftbacktest "
          f"event conversion {hbt_events_s:.2f} s")

    clock_kw = {} if args.clocks == "auto" else {"clocks": args.clocks}
    times: dict[tuple[str, int, str], list[float]] = {}
    same: dict[tuple[str, int], bool] = {}
    for rep in range(args.reps):
        for mode in modes:
            on_fill = mode == "on_fill"
            for step in STEPS_MS:
                cfg = EngineConfig(step_ms=step, entry_latency_ns=LATENCY_NS,
                                   response_latency_ns=LATENCY_NS, decide_on_fill=on_fill,
                                   **clock_kw)
                t_m, ours = _time(lambda cfg=cfg: run_backtest(market, None, strategy, params,
                                                               cfg))
                ocfg = OracleConfig(step_ns=step * 1_000_000, entry_latency_ns=LATENCY_NS,
                                    response_latency_ns=LATENCY_NS, decide_on_fill=on_fill,
                                    **clock_kw)
                t_h, theirs = _time(lambda ocfg=ocfg: run_touch_quoter(events, instrument, ocfg,
                                                                       prepared=hbt_input))
                times.setdefault((mode, step, "mmopt"), []).append(t_m)
                times.setdefault((mode, step, "hbt"), []).append(t_h)
                if rep == 0:
                    same[(mode, step)] = (len(ours.fills) == len(theirs.fills)
                                          and np.array_equal(np.sort(ours.fills["ts_ns"]),
                                                             theirs.fills["ts_ns"]))
                print(f"  rep {rep + 1} {mode:7s} {step:5d} ms: mmopt {t_m:6.2f} s, "
                      f"hftbacktest {t_h:6.2f} s, fills {len(ours.fills)} / "
                      f"{len(theirs.fills)}", flush=True)

    print()
    print(f"{'mode':8s} {'step':>7s} {'mmopt Mev/s':>12s} {'hbt Mev/s':>10s} {'ratio':>6s} "
          f"{'fills equal':>11s}")
    lines = []
    for mode in modes:
        for step in STEPS_MS:
            m = n / statistics.median(times[(mode, step, "mmopt")]) / 1e6
            h = n / statistics.median(times[(mode, step, "hbt")]) / 1e6
            print(f"{mode:8s} {step:5d}ms {m:12.2f} {h:10.2f} {m / h:6.2f} "
                  f"{same[(mode, step)]!s:>11s}")
            if mode == modes[0]:
                lines.append({"bench": "engine", "step_ms": step, "mmopt_meps": round(m, 3),
                              "hftbacktest_meps": round(h, 3), "ratio": round(m / h, 2),
                              "mode": mode, "events": n, "fills_equal": same[(mode, step)]})
    print()
    print(f"compile/load excluded from events/s: mmopt warm_up {compile_s:.2f} s")
    if not args.no_subprocess:
        ready = _fresh_process_ready()
        print(f"fresh process, cache=True (2nd of 2 runs): import mmopt.engine "
              f"{ready['import_s']:.2f} s + warm_up() call {ready['warm_up_call_s']:.2f} s "
              f"(it reports {ready['warm_up_reported_s']:.2f} s) = kernel ready "
              f"{ready['ready_s']:.2f} s after interpreter start")
        peak = _peak_memory_mb(events, instrument, 100)
        print(f"peak RSS of a fresh process running mmopt on the {n:,}-row stream: {peak:.0f} MB")
        for line in lines:
            line["ready_s"] = round(ready["ready_s"], 3)
            line["peak_mb"] = round(peak)
    for line in lines:
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
