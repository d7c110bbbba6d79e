"""Where the engine's time goes on the touch-quoter benchmark, next to hftbacktest's.

The same stream is run through variants that switch one engine part on at a time, so the
differences are the cost of that part (per row, or per decision):

* ``replay 1 clock``: ``price_follow`` that never quotes (``min_notional_before_quote`` above
  any displayed notional), 1 s steps, ``clocks=local``: the book and the row loop alone. The
  quiet variants are checked to have sent no order.
* ``replay 2 clocks``: the same with the default clocks (an exchange and a local timeline).
* ``decide 100 / 10 ms``: + a decision every step (still no orders).
* ``quote 100 / 10 ms``: the touch quoter (orders, queue, fills): the engine benchmark's run.

hftbacktest alongside, with the lean loop of ``engine_vs_hftbacktest.py``: an ``elapse`` loop
that does nothing (replay, 1 s), and the touch quoter at 100 / 10 ms.

Run: ``.venv/bin/python benchmarks/engine_cost_split.py [--events N] [--reps R]
[--stream synth|one_tick]``. Prints ns per row for each variant (median of reps) and the
difference to the previous line; one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
from numba import njit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "conformance"))
sys.path.insert(0, str(REPO / "benchmarks"))

from _one_tick_stream import ONE_TICK_INSTRUMENT, one_tick_events  # noqa: E402
from _quiet import QUIET, check_quiet  # noqa: E402
from engine_vs_hftbacktest import LATENCY_NS, SEED, run_lean  # noqa: E402
from hbt_oracle import HbtInput, to_hbt_events  # noqa: E402


@njit(cache=False)  # hftbacktest's jitclass carries pointers: not cacheable
def _replay(hbt, first_wait, step):  # type: ignore[no-untyped-def]
    rc = hbt.elapse(first_wait)
    n = 0
    while rc == 0:
        n += 1
        rc = hbt.elapse(step)
    return n


def _hbt_replay(hin: HbtInput, instrument: Any, step_ns: int) -> int:
    asset = (BacktestAsset().data(hin.data).linear_asset(1.0)
             .constant_order_latency(LATENCY_NS, LATENCY_NS).risk_adverse_queue_model()
             .no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
             .tick_size(instrument.tick_size).lot_size(instrument.lot_size)
             .last_trades_capacity(0))
    hbt = HashMapMarketDepthBacktest([asset])
    n = int(_replay(hbt, hin.first_local_ns + step_ns - hin.first_event_ns, step_ns))
    hbt.close()
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--stream", default="synth", choices=("synth", "one_tick"))
    args = ap.parse_args(argv)

    from mmopt.data.synth import generate_events
    from mmopt.engine import EngineConfig, prepare_market, run_backtest
    from mmopt.strategies import PriceFollowParams, get_strategy, warm_up

    if args.stream == "synth":
        events, instrument = generate_events(args.events, seed=SEED)
    else:
        events, instrument = one_tick_events(args.events), ONE_TICK_INSTRUMENT
    n = len(events)
    warm_up("price_follow")
    market = prepare_market(events, instrument)
    hin = to_hbt_events(events, instrument)
    strategy = get_strategy("price_follow")
    quiet = PriceFollowParams(**QUIET)
    touch = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                              min_notional_before_quote=0.0)

    def engine(params: Any, step: float, **kw: Any) -> Any:
        cfg = EngineConfig(step_ms=step, entry_latency_ns=LATENCY_NS,
                           response_latency_ns=LATENCY_NS, decide_on_fill=False, **kw)
        if params is quiet:
            check_quiet("engine_cost_split", f"{step:g} ms {kw}",
                        run_backtest(market, None, strategy, params, cfg).n_submitted)
        return lambda: run_backtest(market, None, strategy, params, cfg)

    variants: list[tuple[str, Any]] = [
        ("mmopt replay 1 clock (1 s)", engine(quiet, 1000.0, clocks="local")),
        ("mmopt replay 2 clocks (1 s)", engine(quiet, 1000.0)),
        ("mmopt decide 100 ms", engine(quiet, 100.0)),
        ("mmopt decide 10 ms", engine(quiet, 10.0)),
        ("mmopt quote 100 ms", engine(touch, 100.0)),
        ("mmopt quote 10 ms", engine(touch, 10.0)),
        ("hbt replay (1 s)", lambda: _hbt_replay(hin, instrument, 1_000_000_000)),
        ("hbt replay 10 ms", lambda: _hbt_replay(hin, instrument, 10_000_000)),
        ("hbt lean quote 100 ms", lambda: run_lean(hin, instrument, 100_000_000)),
        ("hbt lean quote 10 ms", lambda: run_lean(hin, instrument, 10_000_000)),
    ]
    _hbt_replay(to_hbt_events(events[:2000], instrument), instrument, 10_000_000)  # compile
    run_lean(to_hbt_events(events[:2000], instrument), instrument, 10_000_000)
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    for _ in range(args.reps):
        for name, fn in variants:
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    print(f"stream {args.stream}: {n:,} rows; median of {args.reps} reps")
    print(f"{'variant':30s} {'ns/row':>8s} {'+ vs line above':>16s} {'Mev/s':>7s}")
    out = {}
    prev = None
    for name, _ in variants:
        ns = statistics.median(times[name]) / n * 1e9
        delta = "" if prev is None or name.startswith("hbt replay (") else f"{ns - prev:+.0f}"
        print(f"{name:30s} {ns:8.0f} {delta:>16s} {1e3 / ns:7.2f}")
        out[name] = round(ns, 1)
        prev = ns
    print(json.dumps({"bench": "engine_cost_split", "stream": args.stream, "events": n,
                      "ns_per_row": out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
