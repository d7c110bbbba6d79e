"""Two clocks on one book (mmopt/engine/_journal.py) against two books, bit for bit.

When a shard's exchange times keep its rows' order, the kernel keeps one book and undoes the
rows in flight when the strategy reads it; otherwise it feeds a second book for the strategy.
Both must give the same run: the same fills, equity, order events, acks and counters. The
streams here have every kind of book change (levels set and removed, `bid`/`ask` rows that
remove better levels, NaN prices that empty a side, levels outside the dense window) and feed
latencies above and below the response latency, so that rows are in flight at decisions,
fill decisions and equity samples."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_helpers import INST, MS, T0, stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
)
from mmopt.engine import EngineConfig, MarketData, prepare_market, run_backtest
from mmopt.engine.result import BacktestResult
from mmopt.strategies import PriceFollowParams, get_strategy

QUOTER = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=5,
                           min_notional_before_quote=0.0)


def _rich_stream(seed: int, n: int, max_latency_ms: float) -> np.ndarray:
    """A random walk of the touch with every kind of book row, and exchange times that keep
    the rows' order (feed latency 0 to ``max_latency_ms``)."""
    rng = np.random.default_rng(seed)
    rows = []
    t = T0
    mid = 20_000
    for _ in range(n):
        t += int(rng.integers(0, 3 * MS))
        mid += int(rng.integers(-2, 3))
        spread = int(rng.integers(1, 4))
        u = rng.random()
        q = float(rng.integers(0, 6))
        if u < 0.25:
            rows.append((t, -1, float(mid), q, 0, KIND_BID, 0, False))
        elif u < 0.5:
            rows.append((t, -1, float(mid + spread), q, 0, KIND_ASK, 0, False))
        elif u < 0.53:  # an empty side
            kind = KIND_BID if rng.random() < 0.5 else KIND_ASK
            rows.append((t, -1, np.nan, 0.0, 0, kind, 0, False))
        elif u < 0.7:
            rows.append((t, -1, float(mid - int(rng.integers(0, 5))), q, 0, KIND_BID_LEVEL, 0,
                         False))
        elif u < 0.82:
            rows.append((t, -1, float(mid + spread + int(rng.integers(0, 5))), q, 0,
                         KIND_ASK_LEVEL, 0, False))
        elif u < 0.86:  # far from the touch: the book's overflow store
            far = float(mid + (1 if rng.random() < 0.5 else -1) * int(rng.integers(5_000, 9_000)))
            kind = KIND_BID_LEVEL if far < mid else KIND_ASK_LEVEL
            rows.append((t, -1, far, q, 0, kind, 0, False))
        else:
            side = 1 if rng.random() < 0.5 else -1
            px = float(mid + (spread if side > 0 else 0) + int(rng.integers(-1, 2)))
            rows.append((t, -1, px, float(rng.integers(1, 5)), 0, KIND_TRADE, side, False))
    events = np.array(rows, dtype=EVENT_DTYPE)
    latency = rng.integers(0, int(max_latency_ms * MS) + 1, size=n)
    exch = np.maximum.accumulate(events["ts_ns"] - latency)  # never out of local order
    events["exch_ts_ns"] = np.minimum(exch, events["ts_ns"])
    return events


def _two_books(market: MarketData) -> MarketData:
    """The same shard run on two books (as a shard whose rows change order would be)."""
    return dataclasses.replace(market, ex_in_local_order=False)


def _assert_same(a: BacktestResult, b: BacktestResult) -> None:
    assert a.fills.tobytes() == b.fills.tobytes()
    assert a.equity.tobytes() == b.equity.tobytes()
    assert (a.order_events is None) == (b.order_events is None)
    if a.order_events is not None and b.order_events is not None:
        assert a.order_events.tobytes() == b.order_events.tobytes()
    assert a.acks is not None and b.acks is not None
    assert a.acks.tobytes() == b.acks.tobytes()
    assert (a.position, a.balance, a.fees, a.n_decisions, a.n_submitted, a.n_cancelled,
            a.n_rejected) == (b.position, b.balance, b.fees, b.n_decisions, b.n_submitted,
                              b.n_cancelled, b.n_rejected)


def test_a_shard_whose_rows_keep_their_order_runs_on_one_book() -> None:
    events = _rich_stream(1, 200, 5.0)
    market = prepare_market(events, INST)
    assert market.ex_in_local_order
    assert market.n_overflow > 1  # the far levels are outside the dense window
    swapped = events.copy()
    swapped["exch_ts_ns"][10] = swapped["exch_ts_ns"][12] + 1  # row 10 reaches the exchange late
    assert not prepare_market(swapped, INST).ex_in_local_order
    swapped["exch_ts_ns"] = -1  # no exchange times: one clock
    assert not prepare_market(swapped, INST).ex_in_local_order


def test_the_strategy_does_not_see_a_row_in_flight() -> None:
    """A `bid` row that removes the better bid reaches the exchange at 10 ms and the strategy
    at 40 ms: the decision at 20 ms (one book, the row undone) quotes on the old best bid."""
    events = stream([(0.0, "bid_level", 100.0, 5.0), (0.0, "bid_level", 99.0, 5.0),
                     (0.0, "ask_level", 102.0, 5.0), (40.0, "bid", 99.0, 3.0),
                     (100.0, "ask_level", 103.0, 1.0)])
    events["exch_ts_ns"] = events["ts_ns"]
    events["exch_ts_ns"][3] -= 30 * MS
    market = prepare_market(events, INST)
    assert market.ex_in_local_order
    cfg = EngineConfig(step_ms=20.0, entry_latency_ns=MS, response_latency_ns=MS,
                       record_orders=True, feed_latency_base_ns=None)
    one = run_backtest(market, None, get_strategy("price_follow"), QUOTER, cfg)
    two = run_backtest(_two_books(market), None, get_strategy("price_follow"), QUOTER, cfg)
    _assert_same(one, two)
    assert one.order_events is not None
    placed = one.order_events[one.order_events["ts_ns"] == T0 + 20 * MS]
    bids = placed[placed["side"] > 0]
    assert bids.shape[0] > 0
    assert float(bids["price"][0]) == 100.0  # not 99: the 10 ms row is still in flight


configs = st.builds(
    EngineConfig,
    step_ms=st.sampled_from([1.0, 4.0, 25.0]),
    entry_latency_ns=st.sampled_from([0, MS, 3 * MS]),
    response_latency_ns=st.sampled_from([0, MS, 4 * MS]),
    queue_model=st.sampled_from(["risk_averse", "prob_power"]),
    partial_fills=st.booleans(),
    decide_on_fill=st.booleans(),
    record_orders=st.just(True),
    equity_interval_ms=st.sampled_from([2.0, 30.0]),
    feed_latency_base_ns=st.sampled_from([None, 0, 2 * MS]),
    latency_model=st.sampled_from(["constant", "random"]),
    fill_model=st.sampled_from(["queue", "queue", "intensity"]),
    end_flat=st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000), cfg=configs, max_latency_ms=st.sampled_from([0.5, 3.0, 20.0]),
       name=st.sampled_from(["price_follow", "layered_grid", "avellaneda_stoikov"]))
def test_one_book_and_two_books_give_the_same_run(
    seed: int, cfg: EngineConfig, max_latency_ms: float, name: str
) -> None:
    market = prepare_market(_rich_stream(seed, 400, max_latency_ms), INST)
    if not market.two_clocks:  # every latency drawn was 0: one clock, nothing to compare
        return
    assert market.ex_in_local_order
    strategy = get_strategy(name)
    params = QUOTER if name == "price_follow" else None
    _assert_same(run_backtest(market, None, strategy, params, cfg),
                 run_backtest(_two_books(market), None, strategy, params, cfg))


@pytest.mark.parametrize("name", ["price_follow", "layered_grid"])
def test_one_book_on_the_synthetic_shard(name: str) -> None:
    from mmopt.data.synth import generate_events

    events, inst = generate_events(50_000, seed=11)
    market = prepare_market(events, inst)
    assert market.two_clocks and market.ex_in_local_order
    for cfg in (EngineConfig(), EngineConfig(step_ms=10.0, decide_on_fill=False),
                EngineConfig(feed_latency_base_ns=300 * MS, equity_interval_ms=7.0)):
        _assert_same(run_backtest(market, None, get_strategy(name), None, cfg),
                     run_backtest(_two_books(market), None, get_strategy(name), None, cfg))
