"""Book semantics: a `bid`/`ask` row is the best price (better levels go), stale depth is dropped.

Known truth: on quote-only data (best bid/ask rows and trades, as NBBO, TAQ or L1 crypto
tickers) the engine's mid is the quote's mid at every point of the equity grid, on a hand-made
stream (one clock and two clocks) and on an NBBO-style shard made from the real Binance
top-of-book rows (docs/engine.md, "Book").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_helpers import INST, MS, T0, stream

from mmopt.data._schema import KIND_ASK, KIND_BID, KIND_TRADE
from mmopt.data.loader import load_events
from mmopt.engine import EngineConfig, run_backtest
from mmopt.engine.result import BacktestResult
from mmopt.strategies import PriceFollowParams, get_strategy

QUOTER = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                           min_notional_before_quote=0.0)


def _run(events: np.ndarray, instrument=INST, **config: object) -> BacktestResult:  # type: ignore[no-untyped-def]
    cfg = EngineConfig(**{"step_ms": 5.0, "equity_interval_ms": 1.0, **config})  # type: ignore[arg-type]
    return run_backtest(events, instrument, get_strategy("price_follow"), QUOTER, cfg)


def quote_mid(events: np.ndarray, local_ts: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Mid of the last `bid` and `ask` rows with local time <= each of ``at`` (NaN before)."""
    out = []
    for kind in (KIND_BID, KIND_ASK):
        rows = events["kind"] == kind
        k = np.searchsorted(local_ts[rows], at, side="right") - 1
        px = events["price"][rows][np.maximum(k, 0)]
        out.append(np.where(k >= 0, px, np.nan))
    return 0.5 * (out[0] + out[1])


def quote_only_stream(n: int, seed: int, latency: bool) -> np.ndarray:
    """A seeded quote-only stream: the best bid/ask walk by 1-3 ticks (either way, spread >= 1
    tick), trades at the touch; exchange times ``latency`` ms of jitter earlier, or none."""
    rng = np.random.default_rng(seed)
    spec: list[tuple[float, str, float, float]] = []
    bid, ask, ms = 1000.0, 1001.0, 0.0
    spec += [(ms, "bid", bid, 5.0), (ms, "ask", ask, 5.0)]
    for _ in range(n):
        ms += float(rng.integers(1, 4))
        u = rng.random()
        if u < 0.4:
            bid = min(bid + float(rng.integers(-3, 4)), ask - 1.0)
            spec.append((ms, "bid", bid, float(rng.integers(1, 9))))
        elif u < 0.8:
            ask = max(ask + float(rng.integers(-3, 4)), bid + 1.0)
            spec.append((ms, "ask", ask, float(rng.integers(1, 9))))
        else:
            spec.append((ms, "sell" if u < 0.9 else "buy", bid if u < 0.9 else ask, 1.0))
    events = stream(spec)
    if latency:
        events["exch_ts_ns"] = events["ts_ns"] - rng.integers(1, 6, len(events)) * MS
    return events


@pytest.mark.parametrize("latency", [False, True], ids=["one_clock", "two_clocks"])
def test_quote_only_mid_is_the_quote_mid_at_every_grid_point(latency: bool) -> None:
    events = quote_only_stream(3000, seed=7, latency=latency)
    res = _run(events)
    assert res.two_clocks == latency
    eq = res.equity
    expected = quote_mid(events, events["ts_ns"] + res.local_clock_shift_ns, eq["ts_ns"])
    assert len(eq) > 5000
    np.testing.assert_array_equal(eq["mid"], expected)
    assert res.n_fills > 0  # the quoter traded on it


def test_quote_only_mid_on_an_nbbo_shard_from_real_top_of_book_rows(binance_root: Path) -> None:
    """Spot BTCUSDT, bid/ask + trade rows only: bid/ask rows carry no exchange time there, so
    this also runs the estimated-exchange-time rule (two clocks, 1.27 s clock offset)."""
    shard = load_events(binance_root, "binance-spot.BTCUSDT", "2024-08-08")
    events, instrument = np.asarray(shard.events), shard.instrument
    nbbo = events[np.isin(events["kind"], (KIND_BID, KIND_ASK, KIND_TRADE))]
    res = _run(nbbo, instrument, step_ms=100.0, equity_interval_ms=10.0,
               entry_latency_ns=1_000_000, response_latency_ns=1_000_000)
    assert res.two_clocks and res.local_clock_shift_ns > 1_000_000_000
    eq = res.equity
    expected = quote_mid(nbbo, nbbo["ts_ns"] + res.local_clock_shift_ns, eq["ts_ns"])
    ok = ~np.isnan(expected)
    assert ok.sum() > 0.99 * len(eq)
    np.testing.assert_allclose(eq["mid"][ok], expected[ok], rtol=1e-14, atol=0.0)


def _mids(spec: list[tuple[float, str, float, float]], at_ms: list[float]) -> list[float]:
    res = _run(stream(spec))
    eq = res.equity
    idx = np.searchsorted(eq["ts_ns"], [T0 + round(ms * MS) for ms in at_ms])
    return [float(eq["mid"][k]) for k in idx]


BOOK = [(0.0, "bid_level", 100.0, 5.0), (0.0, "bid_level", 99.0, 5.0),
        (0.0, "bid_level", 98.0, 5.0), (0.0, "ask_level", 101.0, 5.0),
        (0.0, "ask_level", 102.0, 5.0), (0.0, "ask_level", 103.0, 5.0)]


def test_best_price_rows_remove_better_levels_and_stale_depth_is_dropped() -> None:
    spec = [*BOOK,
            (10.0, "bid", 99.0, 5.0),  # 100 is gone
            (20.0, "bid_level", 100.0, 3.0),  # lagging depth: better than the best bid row
            (30.0, "ask", 103.0, 5.0),  # 101 and 102 are gone
            (40.0, "ask_level", 101.0, 2.0),  # lagging depth again
            (50.0, "bid_level", 99.0, 0.0),  # a depth removal at the best is applied: 98
            (60.0, "bid", 100.0, 4.0),  # a higher best bid row
            (70.0, "bid", 99.0, 0.0)]  # best bid row with no size: 100 and 99 are gone
    mids = _mids(spec, [5.0, 15.0, 25.0, 35.0, 45.0, 55.0, 65.0, 70.0])
    assert mids == [100.5, 100.0, 100.0, 101.0, 101.0, 100.5, 101.5, 100.5]


def test_depth_rows_before_any_best_price_row_build_the_book() -> None:
    spec = [*BOOK, (10.0, "bid_level", 100.0, 0.0), (20.0, "ask_level", 100.0, 1.0),
            (30.0, "bid_level", 99.0, 0.0), (40.0, "bid_level", 99.0, 2.0)]
    mids = _mids(spec, [5.0, 15.0, 25.0, 35.0, 40.0])
    assert mids == [100.5, 100.0, 99.5, 99.0, 99.5]


def test_an_empty_side_drops_its_depth_until_the_next_best_price_row() -> None:
    spec = [*BOOK,
            (10.0, "ask", float("nan"), 0.0),  # the ask side is empty: the mid is unknown
            (20.0, "ask_level", 104.0, 1.0),  # depth on an empty side is stale
            (30.0, "ask", 105.0, 1.0)]
    res = _run(stream(spec), decide_on_fill=False)
    eq = res.equity
    at = np.searchsorted(eq["ts_ns"], [T0 + 5 * MS, T0 + 25 * MS, T0 + 30 * MS])
    # the equity mark keeps the last known mid while a side is empty
    assert [float(eq["mid"][k]) for k in at] == [100.5, 100.5, 102.5]


def test_inspect_counts_the_stale_depth_rows() -> None:
    from mmopt.data.inventory import stale_depth_rows

    spec = [*BOOK, (10.0, "bid", 99.0, 5.0), (20.0, "bid_level", 100.0, 3.0),
            (30.0, "ask", 103.0, 5.0), (40.0, "ask_level", 101.0, 2.0),
            (45.0, "ask_level", 103.0, 2.0), (50.0, "ask", float("nan"), 0.0),
            (55.0, "ask_level", 110.0, 2.0)]
    assert stale_depth_rows(stream(spec)) == 3
