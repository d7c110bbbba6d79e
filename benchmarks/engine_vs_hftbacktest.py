"""Engine against the leanest idiomatic hftbacktest loop, on two stream shapes.

The touch quoter (1 lot at the best bid and ask, |position| <= 10 lots) run by
* mmopt: ``price_follow`` (refill 0, min notional 0, 1 lot, max 10 lots), deciding on the step
  grid only (``decide_on_fill=False``), and
* hftbacktest 2.4.4 as its own users write it (its quick start and grid-trading examples): an
  ``elapse(step)`` loop that calls ``clear_inactive_orders``, reads the depth and position,
  walks the open orders once (keep the one at the touch, cancel the others), and submits GTX
  limit orders. No fill recording, no counters, no recorder. This is *not* the conformance
  oracle's instrumented loop (tests/conformance/hbt_oracle.py).

Both with the risk-averse queue, no partial fills, 1 ms entry + 1 ms response latency, on the
same data in the same process, interleaved ``--reps`` times; the table shows median events/s,
their ratio and the median of the per-rep ratios (``paired``)
(numba compile / cache load, ``prepare_market`` and hftbacktest's event conversion are done
once and excluded; building the hftbacktest backtester and mmopt's per-run packing are
included, as each run pays them).

Streams:
* ``synth``: the engine benchmark stream (``mmopt.data.synth.generate_events``: L2, 20 levels
  in the book, ``bid``/``ask`` rows on each best change, ~10 % trades, two clocks).
* ``one_tick``: ``benchmarks/_one_tick_stream.py``: 3 levels per side, price-keyed level rows
  only, a one-tick spread ~94 % of the time, ~10 % trades, one clock.

Fills are cross-checked: mmopt's fill count and final position against hftbacktest's
``num_trades`` and position (``state_values``, which it keeps anyway).

Run: ``.venv/bin/python benchmarks/engine_vs_hftbacktest.py [--events N] [--reps R]
[--streams synth,one_tick] [--steps 10,100]``. Prints a table and one JSON line per
stream/step: ``{"bench": "engine_vs_hftbacktest", "stream": ..., "step_ms": ..., "ratio": ...}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hftbacktest import (
    BUY,
    GTX,
    LIMIT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
)
from numba import njit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "conformance"))
sys.path.insert(0, str(REPO / "benchmarks"))

from _one_tick_stream import ONE_TICK_INSTRUMENT, one_tick_events  # noqa: E402
from hbt_oracle import HbtInput, to_hbt_events  # noqa: E402  (event conversion only)

LATENCY_NS = 1_000_000
SEED = 20240808  # the engine benchmark's stream
INVALID_MIN = np.iinfo(np.int64).min
INVALID_MAX = np.iinfo(np.int64).max
GOALS = {100: 6.0, 10: 4.0}


@njit(cache=False)  # hftbacktest's jitclass carries pointers: not cacheable
def lean_touch_quoter(hbt, first_wait, step, qty, max_position):  # type: ignore[no-untyped-def]
    """The touch quoter as an hftbacktest user writes it; returns the number of submits."""
    order_id = 0
    rc = hbt.elapse(first_wait)
    while rc == 0:
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        bid_tick = depth.best_bid_tick
        ask_tick = depth.best_ask_tick
        position = hbt.position(0)
        # open (not yet cancelled) quantity per side: the position limit counts it
        open_buy = 0.0
        open_sell = 0.0
        keep_bid = False
        keep_ask = False
        values = hbt.orders(0).values()
        while values.has_next():
            order = values.get()
            if order.side == BUY:
                open_buy += order.leaves_qty
                if order.price_tick == bid_tick and order.req == 0:
                    keep_bid = True
                elif order.cancellable:
                    hbt.cancel(0, order.order_id, False)
            else:
                open_sell += order.leaves_qty
                if order.price_tick == ask_tick and order.req == 0:
                    keep_ask = True
                elif order.cancellable:
                    hbt.cancel(0, order.order_id, False)
        if (not keep_bid and bid_tick != INVALID_MIN
                and position + open_buy + qty <= max_position + 1e-9):
            order_id += 1
            hbt.submit_buy_order(0, order_id, bid_tick * depth.tick_size, qty, GTX, LIMIT,
                                 False)
        if (not keep_ask and ask_tick != INVALID_MAX
                and -position + open_sell + qty <= max_position + 1e-9):
            order_id += 1
            hbt.submit_sell_order(0, order_id, ask_tick * depth.tick_size, qty, GTX, LIMIT,
                                  False)
        rc = hbt.elapse(step)
    return order_id


@dataclass(frozen=True, slots=True)
class LeanResult:
    submits: int
    num_trades: int
    position_lots: int


def run_lean(hin: HbtInput, instrument: Any, step_ns: int) -> LeanResult:
    """Build the backtester (as a user does per run) and run the lean loop to the end."""
    asset = (
        BacktestAsset()
        .data(hin.data)
        .linear_asset(instrument.contract_size)
        .constant_order_latency(LATENCY_NS, LATENCY_NS)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(instrument.maker_fee_bps / 1e4, instrument.taker_fee_bps / 1e4)
        .tick_size(instrument.tick_size)
        .lot_size(instrument.lot_size)
        .last_trades_capacity(0)
    )
    hbt = HashMapMarketDepthBacktest([asset])
    # mmopt's first decision is at the first row's local time + one step
    first_wait = hin.first_local_ns + step_ns - hin.first_event_ns
    submits = lean_touch_quoter(hbt, first_wait, step_ns, instrument.lot_size,
                                10 * instrument.lot_size)
    sv = hbt.state_values(0)
    out = LeanResult(int(submits), int(sv.num_trades),
                     round(sv.position / instrument.lot_size))
    hbt.close()
    return out


def _streams(names: tuple[str, ...], n: int) -> dict[str, tuple[np.ndarray, Any]]:
    from mmopt.data.synth import generate_events

    out: dict[str, tuple[np.ndarray, Any]] = {}
    for name in names:
        if name == "synth":
            out[name] = generate_events(n, seed=SEED)
        elif name == "one_tick":
            out[name] = (one_tick_events(n), ONE_TICK_INSTRUMENT)
        else:
            raise SystemExit(f"--streams: unknown stream {name!r} (synth, one_tick)")
    return out


def _time(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--streams", default="synth,one_tick")
    ap.add_argument("--steps", default="100,10", help="decision steps in ms")
    args = ap.parse_args(argv)
    steps = tuple(int(s) for s in args.steps.split(",") if s)

    from mmopt.engine import EngineConfig, prepare_market, run_backtest
    from mmopt.strategies import PriceFollowParams, get_strategy, warm_up

    strategy = get_strategy("price_follow")
    params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                               min_notional_before_quote=0.0)
    compile_s = warm_up("price_follow")
    streams = _streams(tuple(s for s in args.streams.split(",") if s), args.events)
    prepared: dict[str, tuple[Any, HbtInput]] = {}
    for name, (events, instrument) in streams.items():
        prep_s, market = _time(lambda e=events, i=instrument: prepare_market(e, i))
        conv_s, hin = _time(lambda e=events, i=instrument: to_hbt_events(e, i))
        prepared[name] = (market, hin)
        trades = float(np.mean(events["kind"] == 3))
        print(f"stream {name}: {len(events):,} rows ({trades:.1%} trades), "
              f"{instrument.security}; prepare_market {prep_s:.2f} s, hftbacktest conversion "
              f"{conv_s:.2f} s ({len(hin.data):,} hftbacktest rows, two clocks "
              f"{hin.two_clocks})")
    small, small_ins = streams[next(iter(streams))]
    hbt_compile_s, _ = _time(lambda: run_lean(to_hbt_events(small[:2000], small_ins), small_ins,
                                              10_000_000))
    print(f"mmopt warm_up {compile_s:.2f} s; lean hftbacktest loop compile {hbt_compile_s:.2f} s "
          f"(both excluded)")

    times: dict[tuple[str, int, str], list[float]] = {}
    check: dict[tuple[str, int], str] = {}
    for rep in range(args.reps):
        for name, (_events, instrument) in streams.items():
            market, hin = prepared[name]
            for step in steps:
                cfg = EngineConfig(step_ms=step, entry_latency_ns=LATENCY_NS,
                                   response_latency_ns=LATENCY_NS, decide_on_fill=False)
                t_m, ours = _time(lambda c=cfg, m=market: run_backtest(m, None, strategy, params,
                                                                       c))
                t_h, lean = _time(lambda h=hin, i=instrument, s=step: run_lean(h, i,
                                                                                s * 1_000_000))
                times.setdefault((name, step, "mmopt"), []).append(t_m)
                times.setdefault((name, step, "hbt"), []).append(t_h)
                if rep == 0:
                    pos = round(float(ours.fills["position_after"][-1]) / instrument.lot_size
                                ) if len(ours.fills) else 0
                    same = len(ours.fills) == lean.num_trades and pos == lean.position_lots
                    check[(name, step)] = (f"{len(ours.fills)}/{lean.num_trades} pos "
                                           f"{pos}/{lean.position_lots} "
                                           f"{'equal' if same else 'DIFFER'}")
                print(f"  rep {rep + 1} {name:8s} {step:4d} ms: mmopt {t_m:6.2f} s, lean "
                      f"hftbacktest {t_h:6.2f} s", flush=True)

    print()
    print(f"{'stream':9s} {'step':>6s} {'mmopt Mev/s':>12s} {'lean hbt Mev/s':>15s} "
          f"{'ratio':>6s} {'paired':>7s} {'goal':>5s}  fills mmopt/hbt")
    lines = []
    for name, (events, _) in streams.items():
        n = len(events)
        for step in steps:
            m = n / statistics.median(times[(name, step, "mmopt")]) / 1e6
            h = n / statistics.median(times[(name, step, "hbt")]) / 1e6
            goal = GOALS.get(step)
            # each rep runs both engines back to back: the median of the per-rep ratios is
            # steadier than the ratio of medians when the machine's load changes
            paired = statistics.median(
                hb / mm for mm, hb in zip(times[(name, step, "mmopt")],
                                          times[(name, step, "hbt")], strict=True))
            print(f"{name:9s} {step:4d}ms {m:12.2f} {h:15.2f} {m / h:6.2f} {paired:7.2f} "
                  f"{'' if goal is None else f'{goal:g}x':>5s}  {check[(name, step)]}")
            lines.append({"bench": "engine_vs_hftbacktest", "stream": name, "step_ms": step,
                          "events": n, "mmopt_meps": round(m, 3), "lean_hbt_meps": round(h, 3),
                          "ratio": round(m / h, 2), "paired_ratio": round(paired, 2),
                          "goal": goal,
                          "fills": check[(name, step)]})
    print()
    for line in lines:
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
