"""Strategy throughput: every registered strategy, default params, on the engine benchmark stream.

The same seeded synthetic stream as ``benchmarks/engine_throughput.py`` (default 5 M rows from
``mmopt.data.synth``: L2, 10 levels, ~10 % trades), risk-averse queue, no partial fills, 1 ms
entry + 1 ms response latency, at steps of 10 ms, 100 ms and 1 s, in the engine's default
decision mode (``--mode on_fill``: on the step grid and on each fill received; ``--mode steps``
= the step grid only, the engine benchmark's headline mode). Strategies and steps are
interleaved, ``--reps`` times each; the table shows the median events/s (compile / cache load
and ``prepare_market`` excluded, printed), plus fills, orders submitted and decisions of the run
(identical in every rep: the engine is deterministic). ``price_follow``'s defaults are the touch
quoter of the engine benchmark.

Run: ``.venv/bin/python benchmarks/strategy_throughput.py [--events N] [--reps R]
[--strategies a,b] [--steps 10,100,1000] [--mode on_fill|steps]``. Prints a table and one
JSON line per strategy/step:
``{"bench": "strategy", "strategy": ..., "step_ms": ..., "meps": ..., ...}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np

STEPS_MS = (10, 100, 1000)
LATENCY_NS = 1_000_000
SEED = 20240808  # the engine benchmark's stream


def _run(run_backtest: Any, market: Any, strategy: Any, config: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = run_backtest(market, None, strategy, None, config)
    return time.perf_counter() - t0, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--strategies", default="", help="comma-separated; default: all registered")
    ap.add_argument("--steps", default=",".join(str(s) for s in STEPS_MS))
    ap.add_argument("--mode", choices=("on_fill", "steps"), default="on_fill")
    args = ap.parse_args(argv)

    from mmopt.data.synth import generate_events
    from mmopt.engine import EngineConfig, prepare_market, run_backtest
    from mmopt.strategies import get_strategy, list_strategies, warm_up

    names = tuple(s for s in args.strategies.split(",") if s) or list_strategies()
    steps = tuple(int(s) for s in args.steps.split(",") if s)
    events, instrument = generate_events(args.events, seed=SEED)
    n = len(events)
    print(f"stream: {n:,} rows ({float(np.mean(events['kind'] == 3)):.1%} trades), "
          f"{instrument.security}, tick {instrument.tick_size:g}, lot {instrument.lot_size:g}; "
          f"latency 1 ms + 1 ms; mode {args.mode}")
    compile_s = warm_up(*names)
    t0 = time.perf_counter()
    market = prepare_market(events, instrument)
    prep_s = time.perf_counter() - t0
    print(f"warm_up({', '.join(names)}) {compile_s:.2f} s; prepare_market {prep_s:.2f} s")
    strategies = {name: get_strategy(name) for name in names}

    times: dict[tuple[str, int], list[float]] = {}
    stats: dict[tuple[str, int], Any] = {}
    for rep in range(args.reps):
        for step in steps:
            config = EngineConfig(step_ms=step, entry_latency_ns=LATENCY_NS,
                                  response_latency_ns=LATENCY_NS,
                                  decide_on_fill=args.mode == "on_fill")
            for name, strategy in strategies.items():
                dt, result = _run(run_backtest, market, strategy, config)
                times.setdefault((name, step), []).append(dt)
                stats[(name, step)] = result
                print(f"  rep {rep + 1} {step:5d} ms {name:20s} {dt:6.2f} s", flush=True)

    print()
    print(f"{'strategy':20s} {'step':>7s} {'Mev/s':>7s} {'fills':>8s} {'submitted':>9s} "
          f"{'decisions':>9s} {'net pnl':>10s}")
    lines = []
    for name in names:
        for step in steps:
            med = statistics.median(times[(name, step)])
            r = stats[(name, step)]
            meps = n / med / 1e6
            print(f"{name:20s} {step:5d}ms {meps:7.2f} {r.n_fills:8d} {r.n_submitted:9d} "
                  f"{r.n_decisions:9d} {r.net_pnl:10.2f}")
            lines.append({"bench": "strategy", "strategy": name, "step_ms": step,
                          "meps": round(meps, 3), "seconds": round(med, 4), "events": n,
                          "fills": r.n_fills, "submitted": r.n_submitted,
                          "decisions": r.n_decisions, "mode": args.mode,
                          "reps": args.reps})
    print()
    for line in lines:
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
