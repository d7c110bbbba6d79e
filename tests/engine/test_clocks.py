"""Two clocks: exchange times from the data, null ones estimated, the capture clock's offset
removed and stated in the result (docs/engine.md, "Clocks")."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import INST, MS, T0, stream

from mmopt.engine import EngineConfig, run_backtest
from mmopt.engine.clock import exchange_times, local_clock_shift
from mmopt.errors import ConfigError
from mmopt.strategies import PriceFollowParams, get_strategy

QUOTER = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                           min_notional_before_quote=0.0)


def test_null_exchange_times_take_the_last_known_feed_latency() -> None:
    ts = np.array([10, 20, 30, 40, 50], dtype=np.int64)
    exch = np.array([-1, 15, -1, 32, -1], dtype=np.int64)
    got = exchange_times(ts, exch)
    assert got is not None
    # row 0: before any known latency, the first known one (5); row 2: 5; row 4: 8
    assert got.exch_ts.tolist() == [5, 15, 25, 32, 42]
    assert got.n_estimated == 3
    assert got.min_latency_ns == 5
    assert got.order.tolist() == [0, 1, 2, 3, 4]


def test_exchange_order_is_stable_by_exchange_time() -> None:
    ts = np.array([10, 11, 12, 13], dtype=np.int64)
    exch = np.array([5, 3, 5, 4], dtype=np.int64)
    got = exchange_times(ts, exch)
    assert got is not None
    assert got.order.tolist() == [1, 3, 0, 2]


def test_one_clock_without_exchange_times_or_with_equal_ones() -> None:
    ts = np.array([10, 20, 30], dtype=np.int64)
    assert exchange_times(ts, np.full(3, -1, dtype=np.int64)) is None
    assert exchange_times(ts, ts.copy()) is None


def test_local_clock_shift_makes_the_smallest_latency_the_base() -> None:
    # Binance's capture clock: ~1.27 s behind the exchange
    assert local_clock_shift(-1_270_000_000, 1_000_000, "x") == 1_271_000_000
    assert local_clock_shift(5_000_000, 1_000_000, "x") == -4_000_000
    assert local_clock_shift(5_000_000, None, "x") == 0
    with pytest.raises(ConfigError, match="feed_latency_base_ns"):
        local_clock_shift(-1, None, "sec.X")


@pytest.mark.parametrize(("field", "value"), [("clocks", "exchange"),
                                              ("feed_latency_base_ns", -1),
                                              ("feed_latency_base_ns", 1.5)])
def test_bad_clock_config_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        EngineConfig(**{field: value})  # type: ignore[arg-type]


def _two_clock_stream() -> np.ndarray:
    """A book, then a sell trade through our 100 bid; feed latency 2 ms except the trade (50 ms);
    the local clock runs 1 s behind the exchange."""
    spec = [(0.0, "bid_level", 100.0, 5.0), (0.0, "bid_level", 99.0, 5.0),
            (0.0, "ask_level", 101.0, 5.0), (0.0, "ask_level", 102.0, 5.0),
            (10.0, "ask_level", 103.0, 1.0), (100.0, "sell", 99.0, 1.0),
            (130.0, "ask_level", 104.0, 1.0), (200.0, "ask_level", 105.0, 1.0)]
    events = stream(spec)
    latency = np.full(len(events), 2 * MS)
    latency[5] = 50 * MS
    events["exch_ts_ns"] = events["ts_ns"] - latency + 1_000 * MS
    return events


def test_the_exchange_fills_at_exchange_time_and_the_result_states_the_shift() -> None:
    events = _two_clock_stream()
    cfg = EngineConfig(step_ms=5.0, entry_latency_ns=MS, response_latency_ns=MS)
    res = run_backtest(events, INST, get_strategy("price_follow"), QUOTER, cfg)
    assert res.two_clocks
    # smallest latency -1 s + 2 ms becomes the 1 ms base: local times move by +999 ms
    assert res.local_clock_shift_ns == 999 * MS
    buys = res.fills[res.fills["side"] == 1]
    assert len(buys) == 1
    assert int(buys["ts_ns"][0]) == int(events["exch_ts_ns"][5])  # the trade's exchange time
    # the equity grid is on the corrected local clock
    assert int(res.equity["ts_ns"][0]) == T0 + 999 * MS


def test_clocks_local_runs_one_clock_on_ts_ns() -> None:
    events = _two_clock_stream()
    cfg = EngineConfig(step_ms=5.0, entry_latency_ns=MS, response_latency_ns=MS, clocks="local")
    res = run_backtest(events, INST, get_strategy("price_follow"), QUOTER, cfg)
    assert not res.two_clocks and res.local_clock_shift_ns == 0
    buys = res.fills[res.fills["side"] == 1]
    assert int(buys["ts_ns"][0]) == int(events["ts_ns"][5])


def test_negative_feed_latency_without_the_clock_fix_is_an_error_before_any_work() -> None:
    events = _two_clock_stream()
    cfg = EngineConfig(feed_latency_base_ns=None)
    with pytest.raises(ConfigError, match="feed_latency_base_ns"):
        run_backtest(events, INST, get_strategy("price_follow"), QUOTER, cfg)
