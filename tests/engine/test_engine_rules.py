"""Every fill rule on hand-made streams, with exact fills, cash, position and fees."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_helpers import MS, T0, Script, fill_tuples, run

from mmopt.data._schema import Instrument
from mmopt.engine._records import ORDER_EVENT_DTYPE
from mmopt.engine.order_actions import ORDER_ARRIVE, ORDER_SUBMIT

BOOK = [(0, "bid", 100.0, 5.0), (0, "ask", 101.0, 5.0)]


def test_queue_advances_by_trades_and_fills_when_exhausted() -> None:
    rows = [*BOOK, (2, "sell", 100.0, 3.0), (3, "sell", 100.0, 2.0), (4, "sell", 100.0, 1.0),
            (10, "bid", 100.0, 4.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0))
    assert fill_tuples(r) == [(4.0, 1, 100.0, 1.0, True)]  # 5 ahead: 3 + 2 leave 0 (no fill)
    fill = r.fills[0]
    assert fill["queue_ns"] == 3 * MS  # arrived at the decision at 1 ms
    assert fill["fee"] == pytest.approx(100.0 * 2e-4)
    assert r.position == 1.0
    assert r.balance == -100.0
    assert r.cash == pytest.approx(-100.02)
    assert fill["cash_after"] == pytest.approx(-100.02)
    assert r.net_pnl == pytest.approx(-100.02 + 100.5)  # marked at the final mid
    assert fill["quoted_half_spread"] == 0.5  # placed at 100 when the mid was 100.5


def test_equity_series_starts_at_the_first_event_and_covers_every_fill() -> None:
    rows = [*BOOK, (2, "sell", 99.0, 1.0), (2500, "bid", 100.0, 4.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0), equity_interval_ms=1000.0)
    eq = r.equity
    assert eq["ts_ns"].tolist() == [T0, 2 * T0, 3 * T0, T0 + 2500 * MS]  # first, grid, final
    assert (eq["position"][0], eq["cash"][0], eq["equity"][0]) == (0.0, 0.0, 0.0)
    assert eq["mid"][0] == 100.5
    assert eq["ts_ns"][0] <= r.fills["ts_ns"].min() <= r.fills["ts_ns"].max() <= eq["ts_ns"][-1]


def test_depth_decrease_sets_queue_to_min_and_increase_does_not_raise_it() -> None:
    rows = [*BOOK, (2, "bid_level", 100.0, 2.0), (3, "sell", 100.0, 2.0),
            (4, "bid_level", 100.0, 6.0), (5, "sell", 100.0, 0.5), (8, "bid", 100.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0))
    # ahead 5 -> min(5, 2) = 2 -> trade 2 -> 0 -> min(0, 6) = 0 -> trade 0.5 -> -0.5 lot: filled
    assert fill_tuples(r) == [(5.0, 1, 100.0, 1.0, True)]
    no_decrease = [*BOOK, (3, "sell", 100.0, 2.0), (5, "sell", 100.0, 0.5), (8, "bid", 100.0, 1.0)]
    assert run(no_decrease, Script(bid=100.0, bid_qty=1.0)).n_fills == 0


def test_exactly_exhausted_queue_does_not_fill() -> None:
    rows = [*BOOK, (2, "sell", 100.0, 5.0), (3, "sell", 100.0, 0.4), (8, "bid", 100.0, 1.0)]
    assert run(rows, Script(bid=100.0, bid_qty=1.0)).n_fills == 0  # -0.4 lot: not yet


def test_trade_through_fills_at_our_price() -> None:
    rows = [*BOOK, (2, "sell", 99.0, 0.1), (5, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0, ask=101.0, ask_qty=2.0))
    assert fill_tuples(r) == [(2.0, 1, 100.0, 1.0, True)]
    rows = [*BOOK, (2, "buy", 103.0, 0.1), (5, "bid", 99.0, 1.0)]
    r = run(rows, Script(ask=102.0, ask_qty=2.0))
    assert fill_tuples(r) == [(2.0, -1, 102.0, 2.0, True)]
    assert r.position == -2.0


def test_book_crossing_our_price_fills() -> None:
    # a best-ask row at our bid (an ask depth row there would be stale depth: better than the
    # last best-ask row, dropped; docs/engine.md "Book")
    rows = [*BOOK, (2, "ask", 100.0, 3.0), (5, "bid", 99.0, 1.0)]
    assert fill_tuples(run(rows, Script(bid=100.0, bid_qty=1.0))) == [(2.0, 1, 100.0, 1.0, True)]
    rows = [*BOOK, (2, "bid", 101.0, 2.0), (5, "bid", 99.0, 1.0)]
    assert fill_tuples(run(rows, Script(ask=101.0, ask_qty=1.0))) == [(2.0, -1, 101.0, 1.0, True)]
    # a lower bid row does not lower the best bid (hftbacktest): nothing crosses our ask at 101
    rows = [*BOOK, (2, "bid", 99.0, 2.0), (5, "bid", 98.0, 1.0)]
    assert run(rows, Script(ask=101.0, ask_qty=1.0)).n_fills == 0


def test_post_only_order_crossing_on_arrival_is_rejected() -> None:
    rows = [*BOOK, (2, "sell", 99.0, 1.0), (5, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=101.0, bid_qty=1.0))
    assert (r.n_submitted, r.n_rejected, r.n_fills) == (1, 1, 0)
    # the book moves while the order travels: rejected at arrival, not at submission
    rows = [*BOOK, (2, "ask", 100.0, 1.0), (9, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0), entry_latency_ns=2 * MS)
    assert (r.n_rejected, r.n_fills) == (1, 0)


def test_entry_latency_delays_arrival_and_queue_position() -> None:
    rows = [*BOOK, (2, "sell", 100.0, 5.0), (2.5, "bid", 100.0, 1.0), (4, "sell", 100.0, 1.0),
            (5, "sell", 100.0, 1.0), (9, "bid", 100.0, 1.0)]
    fast = run(rows, Script(bid=100.0, bid_qty=1.0))
    assert fill_tuples(fast) == [(4.0, 1, 100.0, 1.0, True)]
    slow = run(rows, Script(bid=100.0, bid_qty=1.0), entry_latency_ns=2 * MS)
    assert fill_tuples(slow) == [(5.0, 1, 100.0, 1.0, True)]  # arrived at 3 ms behind 1
    assert slow.fills[0]["queue_ns"] == 2 * MS
    events = slow.order_events
    assert events is not None and events.dtype == ORDER_EVENT_DTYPE
    arrive = events[events["action"] == ORDER_ARRIVE]
    assert arrive["ts_ns"].tolist() == [T0 + 3 * MS]


def test_cancel_latency_lets_a_fill_in_first() -> None:
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 101.0, 5.0), (5, "sell", 100.0, 2.0),
            (10, "bid", 100.0, 3.0)]
    lat = {"entry_latency_ns": 2 * MS, "response_latency_ns": MS}
    # placed 1 ms, arrives 3, ack seen 4 -> cancel sent 4, arrives 6: the trade at 5 fills first
    r = run(rows, Script(bid=100.0, bid_qty=1.0, cancel_at=0.002), **lat)
    assert fill_tuples(r) == [(5.0, 1, 100.0, 1.0, True)]
    assert (r.n_cancel_requests, r.n_cancel_rejected, r.n_cancelled) == (1, 1, 0)
    late = [(0, "bid", 100.0, 1.0), (0, "ask", 101.0, 5.0), (7, "sell", 100.0, 2.0),
            (10, "bid", 100.0, 3.0)]
    r = run(late, Script(bid=100.0, bid_qty=1.0, cancel_at=0.002), **lat)
    assert (r.n_fills, r.n_cancelled) == (0, 1)


def test_no_quoting_inside_auction_windows() -> None:
    rows = [*BOOK, (2, "sell", 99.0, 1.0), (8, "sell", 99.0, 1.0), (12, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0), open_auction_end="00:00:01.005")
    submits = r.order_events[r.order_events["action"] == ORDER_SUBMIT]
    assert submits["ts_ns"].tolist() == [T0 + 5 * MS]
    assert fill_tuples(r) == [(8.0, 1, 100.0, 1.0, True)]
    rows = [*BOOK, (6, "sell", 99.0, 1.0), (12, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0), close_auction_start="00:00:01.004")
    assert (r.n_fills, r.n_cancelled) == (0, 1)


def test_flatten_at_cutoff_with_a_taker_order_that_walks_the_book() -> None:
    rows = [*BOOK, (0, "ask_level", 102.0, 3.0), (3, "bid", 100.0, 5.0), (9, "bid", 100.0, 6.0)]
    r = run(rows, Script(taker_side=1.0, taker_qty=7.0, taker_at=0.001),
            flatten_at="00:00:01.005")
    assert fill_tuples(r) == [(1.0, 1, 101.0, 5.0, False), (1.0, 1, 102.0, 2.0, False),
                              (5.0, -1, 100.0, 7.0, False)]
    # the buy walked two ask levels; the sell found one bid level: the rest fills at the last one
    assert r.position == 0.0
    fees = 5e-4 * (505.0 + 204.0 + 700.0)
    assert r.fees == pytest.approx(fees)
    assert r.cash == pytest.approx(-709.0 + 700.0 - fees)
    assert (r.fills["fee"] > 0).all()
    assert np.isnan(r.fills["quoted_half_spread"]).all()
    assert r.n_takers == 2


def test_inverse_contract_pnl_in_coin() -> None:
    inverse = Instrument(security="inv", tick_size=1.0, lot_size=1.0, contract_type="inverse",
                         contract_size=100.0, maker_fee_bps=2.0, taker_fee_bps=5.0)
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 111.0, 5.0), (2, "sell", 99.0, 1.0),
            (3, "buy", 111.0, 1.0), (6, "bid", 100.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0, ask=110.0, ask_qty=1.0), instrument=inverse)
    assert fill_tuples(r) == [(2.0, 1, 100.0, 1.0, True), (3.0, -1, 110.0, 1.0, True)]
    bought, sold = 100.0 / 100.0, 100.0 / 110.0  # coin value of one contract at each price
    fees = 2e-4 * (bought + sold)
    assert r.position == 0.0
    assert r.balance == pytest.approx(-bought + sold)  # hftbacktest's sign convention
    assert r.cash == pytest.approx(bought - sold - fees)  # a long from 100 to 110 earns coin
    assert r.net_pnl == pytest.approx(bought - sold - fees)
    assert r.realised_pnl == pytest.approx(bought - sold)


def test_partial_fills_option() -> None:
    rows = [(0, "bid", 100.0, 2.0), (0, "ask", 101.0, 5.0), (3, "sell", 100.0, 3.0),
            (4, "sell", 100.0, 2.0), (10, "bid", 100.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=3.0), partial_fills=True)
    assert fill_tuples(r) == [(3.0, 1, 100.0, 1.0, True), (4.0, 1, 100.0, 2.0, True)]
    assert r.n_filled == 1
    assert run(rows, Script(bid=100.0, bid_qty=3.0)).n_fills == 1  # all or nothing otherwise
    assert r.options.startswith("risk_averse/partial/queue/latency=constant(")


def test_prob_power_splits_unexplained_decreases() -> None:
    rows = [(0, "bid", 100.0, 4.0), (0, "ask", 101.0, 5.0), (2, "bid_level", 100.0, 10.0),
            (3, "bid_level", 100.0, 6.0), (4, "sell", 100.0, 3.3), (9, "bid", 100.0, 1.0)]
    # ahead 4, behind 6; a decrease of 4 takes (1 - 36/52) * 4 from ahead -> 2.769; 3.3 fills
    r = run(rows, Script(bid=100.0, bid_qty=1.0), queue_model="prob_power", queue_power=2.0)
    assert fill_tuples(r) == [(4.0, 1, 100.0, 1.0, True)]
    assert run(rows, Script(bid=100.0, bid_qty=1.0)).n_fills == 0  # risk-averse: 4 ahead
    less = [*rows[:4], (4, "sell", 100.0, 3.2), (9, "bid", 100.0, 1.0)]
    assert run(less, Script(bid=100.0, bid_qty=1.0), queue_model="prob_power").n_fills == 0


def test_fee_override_and_rebate_sign() -> None:
    rows = [*BOOK, (2, "sell", 99.0, 1.0), (5, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0), maker_fee_bps=-1.0)
    assert r.fills["fee"].tolist() == [pytest.approx(-0.01)]
    assert r.cash == pytest.approx(-100.0 + 0.01)


def test_empty_side_row_and_no_fill_before_arrival() -> None:
    rows = [*BOOK, (2, "ask", math.nan, 0.0), (3, "ask", 101.0, 1.0), (4, "sell", 99.0, 1.0),
            (8, "bid", 99.0, 1.0)]
    r = run(rows, Script(bid=100.0, bid_qty=1.0), entry_latency_ns=5 * MS)
    assert math.isnan(r.equity["mid"][0]) or r.equity.shape[0] >= 1
    assert r.n_fills == 0  # the trade-through at 4 ms came before the arrival at 6 ms
