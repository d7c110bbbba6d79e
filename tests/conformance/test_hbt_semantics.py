"""Pins of hftbacktest 2.4.4's behaviour that mmopt's engine copies (docs/engine.md).

These run hftbacktest only, on hand-made rows (tick 1, lot 1; the touch quoter decides at
t = 10, 20, ...; orders reach the exchange 1 ns later). If hftbacktest changes any of these
rules, the conformance test's meaning changes: these tests say which rule moved.

Two rules differ on purpose from a literal reading of DESIGN.md and are pinned here:
* "fills when the quantity ahead is exhausted": hftbacktest needs the queue over-traded by at
  least half a lot (round(ahead / lot) < 0); a trade that exactly empties the queue does not
  fill. mmopt follows hftbacktest (test_exactly_exhausted_queue_does_not_fill).
* Taker orders: hftbacktest fills the whole quantity at the best price without walking the book
  (test_hbt_taker_order_does_not_walk_the_book); mmopt walks the book for its exits, so taker
  fills are outside the conformance comparison (the touch quoter never takes).
"""

from __future__ import annotations

import numpy as np
import pytest
from handmade import UNIT, UNIT_INVERSE, book, rows
from hbt_oracle import OracleConfig, aligned_empty, run_touch_quoter
from hftbacktest import (
    BUY_EVENT,
    DEPTH_BBO_EVENT,
    DEPTH_EVENT,
    EXCH_EVENT,
    GTC,
    LOCAL_EVENT,
    MARKET,
    SELL_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
    event_dtype,
)
from numba import njit

pytestmark = pytest.mark.conformance

CFG = OracleConfig(step_ns=10, entry_latency_ns=1, response_latency_ns=1, decide_on_fill=False)


def _fills(events: np.ndarray, cfg: OracleConfig = CFG) -> list[tuple[int, int, float, float]]:
    res = run_touch_quoter(events, UNIT, cfg)
    return [(int(f["ts_ns"]), int(f["side"]), float(f["price"]), float(f["qty"]))
            for f in res.fills]


def test_exactly_exhausted_queue_does_not_fill() -> None:
    ev = rows(*book(), (20, "sell", 100, 5), (40, "bid_level", 98, 1))
    assert _fills(ev) == []


def test_queue_overtraded_by_half_a_lot_fills() -> None:
    ev = rows(*book(), (20, "sell", 100, 5), (25, "sell", 100, 0.5), (40, "bid_level", 98, 1))
    assert _fills(ev) == [(25, 1, 100.0, 1.0)]


def test_depth_decrease_sets_queue_to_min_of_ahead_and_new_size() -> None:
    # queue 5 -> level shrinks to 2 -> a trade of 2.5 over-trades it by half a lot
    ev = rows(*book(), (15, "bid_level", 100, 2), (20, "sell", 100, 2.5), (40, "bid_level", 98, 1))
    assert _fills(ev) == [(20, 1, 100.0, 1.0)]


def test_depth_increase_does_not_move_queue_back() -> None:
    ev = rows(*book(), (15, "bid_level", 100, 9), (20, "sell", 100, 5.5), (40, "bid_level", 98, 1))
    assert _fills(ev) == [(20, 1, 100.0, 1.0)]


def test_order_arriving_at_t_queues_behind_rows_at_t() -> None:
    # decision at 10, arrival at 11; the row at 11 (size 8) is applied before the order arrives
    ev = rows(*book(), (11, "bid_level", 100, 8), (20, "sell", 100, 5.5), (40, "bid_level", 98, 1))
    assert _fills(ev) == []


def test_trade_through_fills_at_our_price_whatever_the_queue() -> None:
    ev = rows(*book(), (20, "sell", 99, 1), (40, "bid_level", 98, 1))
    res = run_touch_quoter(ev, UNIT, CFG)
    assert [(int(f["ts_ns"]), float(f["price"]), bool(f["is_maker"])) for f in res.fills] == [
        (20, 100.0, True)
    ]


def test_bid_crossing_our_ask_fills_it_at_our_price() -> None:
    ev = rows(*book(), (20, "bid", 101, 3), (40, "bid_level", 98, 1))
    assert _fills(ev) == [(20, -1, 101.0, 1.0)]


def test_bid_crossing_moves_best_ask_up_without_filling_our_bid() -> None:
    # the crossed ask level 101 stays stored but is skipped: best ask becomes 102
    ev = rows(*book(), (20, "bid_level", 101, 3), (45, "ask_level", 103, 1))
    res = run_touch_quoter(ev, UNIT, CFG)
    assert [(int(f["side"]), float(f["price"])) for f in res.fills] == [(-1, 101.0)]


def test_post_only_order_crossing_on_arrival_is_rejected() -> None:
    # at arrival (11) the ask has dropped to 100: our bid at 100 would cross -> expired
    ev = rows(*book(), (11, "ask", 100, 1), (12, "ask_level", 100, 0), (40, "bid_level", 98, 1))
    res = run_touch_quoter(ev, UNIT, CFG)
    assert res.n_rejected >= 1
    assert all(f["ts_ns"] > 11 for f in res.fills)


def test_trade_without_aggressor_side_is_ignored() -> None:
    ev = rows(*book(), (20, "trade", 100, 50), (20, "trade", 101, 50), (40, "bid_level", 98, 1))
    assert _fills(ev) == []


def test_depth_row_at_a_lower_price_is_a_level_update_not_a_clear() -> None:
    # hftbacktest's DEPTH_EVENT is price-keyed: a lower bid level leaves 100 in the book, so the
    # touch quoter still quotes 100 (it ignores DEPTH_BBO_EVENT rows, hence the oracle's
    # explicit removals for mmopt's `bid`/`ask` rows, below)
    ev = rows(*book(), (15, "bid_level", 99, 7), (30, "sell", 100, 5.5), (40, "bid_level", 98, 1))
    assert _fills(ev) == [(30, 1, 100.0, 1.0)]


def test_best_bid_row_reaches_hftbacktest_as_explicit_removals() -> None:
    # a lower `bid` row means 100 is gone: the oracle removes it, the quoter moves to 99, and
    # the sell at 100 no longer reaches our bid
    ev = rows(*book(), (15, "bid", 99, 7), (30, "sell", 100, 5.5), (40, "bid_level", 98, 1))
    assert _fills(ev) == []


def test_fees_and_balance_linear() -> None:
    ev = rows(*book(), (20, "sell", 99, 1), (40, "bid_level", 98, 1))
    res = run_touch_quoter(ev, UNIT, CFG)
    assert res.position == 1.0
    assert res.balance == -100.0
    assert res.fee == pytest.approx(100.0 * 2e-4, rel=1e-15)


def test_inverse_balance_has_the_opposite_sign_of_coin_cash() -> None:
    ev = rows(*book(), (20, "sell", 99, 1), (40, "bid_level", 98, 1))
    res = run_touch_quoter(ev, UNIT_INVERSE, CFG)
    amount = 10.0 * 1.0 / 100.0  # contract_size * qty / price, in coin
    assert res.position == 1.0
    assert res.balance == pytest.approx(-amount, rel=1e-15)
    assert res.fee == pytest.approx(amount * 2e-4, rel=1e-15)


def _hbt_events(spec: list[tuple[int, int, float, float]]) -> np.ndarray:
    out = aligned_empty(len(spec), event_dtype)
    out[:] = 0
    for i, (ts, ev, px, qty) in enumerate(spec):
        out[i]["ev"] = ev | EXCH_EVENT | LOCAL_EVENT
        out[i]["exch_ts"] = ts
        out[i]["local_ts"] = ts
        out[i]["px"] = px
        out[i]["qty"] = qty
    return out


def _unit_backtest(data: np.ndarray):  # type: ignore[no-untyped-def]
    asset = (
        BacktestAsset().data(data).linear_asset(1.0).constant_order_latency(1, 1)
        .risk_adverse_queue_model().no_partial_fill_exchange()
        .trading_value_fee_model(2e-4, 5e-4).tick_size(1.0).lot_size(1.0)
    )
    return HashMapMarketDepthBacktest([asset])


@njit(cache=False)
def _best_after(hbt, dt):  # type: ignore[no-untyped-def]
    hbt.elapse(dt)
    d = hbt.depth(0)
    return d.best_bid_tick, d.best_ask_tick


@njit(cache=False)
def _market_sell(hbt, qty):  # type: ignore[no-untyped-def]
    hbt.elapse(10)
    hbt.submit_sell_order(0, 1, 0.0, qty, GTC, MARKET, False)
    hbt.elapse(10)
    o = hbt.orders(0).get(1)
    return o.status, o.exec_price_tick, o.exec_qty, hbt.position(0)


def test_hbt_ignores_bbo_events() -> None:
    data = _hbt_events([
        (0, DEPTH_EVENT | BUY_EVENT, 100, 5), (0, DEPTH_EVENT | SELL_EVENT, 101, 5),
        (5, DEPTH_BBO_EVENT | BUY_EVENT, 99, 1), (5, DEPTH_BBO_EVENT | SELL_EVENT, 103, 1),
        (50, DEPTH_EVENT | BUY_EVENT, 90, 1),
    ])
    hbt = _unit_backtest(data)
    assert _best_after(hbt, 10) == (100, 101)
    hbt.close()


def test_hbt_taker_order_does_not_walk_the_book() -> None:
    # best bid 100 holds 1 lot, yet a market sell of 3 fills all 3 at 100 (mmopt walks the book)
    data = _hbt_events([
        (0, DEPTH_EVENT | BUY_EVENT, 100, 1), (0, DEPTH_EVENT | BUY_EVENT, 99, 5),
        (0, DEPTH_EVENT | SELL_EVENT, 101, 5), (50, DEPTH_EVENT | BUY_EVENT, 90, 1),
    ])
    hbt = _unit_backtest(data)
    status, price_tick, qty, position = _market_sell(hbt, 3.0)
    hbt.close()
    assert (status, price_tick, qty, position) == (3, 100, 3.0, -3.0)
