"""fixed_interval and price_follow behaviour on hand-made streams."""

from __future__ import annotations

from engine_helpers import INST, MS, T0, stream

from mmopt.engine import EngineConfig, run_backtest
from mmopt.engine.order_actions import ORDER_SUBMIT
from mmopt.strategies import (
    FixedIntervalParams,
    PriceFollowParams,
    get_strategy,
    list_strategies,
)

MOVING = [(0, "bid", 100.0, 5.0), (0, "ask", 102.0, 5.0), (2.5, "bid", 101.0, 5.0),
          (4.5, "bid", 100.5, 5.0), (12, "bid", 100.0, 1.0)]


def _submit_times(result) -> list[float]:  # type: ignore[no-untyped-def]
    ev = result.order_events
    return [(int(t) - T0) / MS for t in ev["ts_ns"][ev["action"] == ORDER_SUBMIT]]


def test_registry_lists_the_issue3_strategies() -> None:
    assert {"fixed_interval", "price_follow"} <= set(list_strategies())


def test_fixed_interval_requotes_only_after_refill_since_placement() -> None:
    inst = INST.__class__(security="t", tick_size=0.5, lot_size=1.0)
    cfg = EngineConfig(step_ms=1.0, record_orders=True, decide_on_fill=False)
    r = run_backtest(stream(MOVING), inst, get_strategy("fixed_interval"),
                     FixedIntervalParams(refill_interval_s=0.005), cfg)
    # bid+ask placed at 1 ms; the bid moves at 2.5 ms but waits until 6 ms (1 + 5)
    assert _submit_times(r) == [1.0, 1.0, 6.0]
    follow = run_backtest(stream(MOVING), inst, get_strategy("price_follow"), None, cfg)
    # the bid row at 2.5 ms raises the best to 101, the one at 4.5 ms lowers it to 100.5 (the
    # best bid is now 100.5: 101 is gone); price_follow follows both
    assert _submit_times(follow) == [1.0, 1.0, 3.0, 5.0]


def test_price_follow_cooldown_starts_on_fill() -> None:
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 102.0, 5.0), (2, "sell", 99.0, 1.0),
            (3, "bid", 99.0, 1.0), (9, "bid", 99.0, 2.0)]
    cfg = EngineConfig(step_ms=1.0, record_orders=True, decide_on_fill=True)
    r = run_backtest(stream(rows), INST, get_strategy("price_follow"),
                     PriceFollowParams(refill_interval_s=0.004), cfg)
    ev = r.order_events
    bids = ev[(ev["action"] == ORDER_SUBMIT) & (ev["side"] == 1)]
    assert [(int(t) - T0) / MS for t in bids["ts_ns"]] == [1.0, 6.0]  # fill at 2 ms + 4 ms


def test_price_follow_min_notional_and_position_sizing() -> None:
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 102.0, 5.0), (5, "bid", 100.0, 2.0)]
    cfg = EngineConfig(step_ms=1.0, record_orders=True)
    r = run_backtest(stream(rows), INST, get_strategy("price_follow"),
                     PriceFollowParams(min_notional_before_quote=300.0), cfg)
    sides = r.order_events["side"][r.order_events["action"] == ORDER_SUBMIT].tolist()
    assert sides == [-1]  # bid 100 x 1 = 100 < 300: only the ask (102 x 5) is quoted
    sweep = [(0, "bid", 100.0, 1.0), (0, "ask", 102.0, 5.0), (2, "sell", 99.0, 1.0),
             (4, "sell", 99.0, 1.0), (6, "sell", 99.0, 1.0), (9, "bid", 99.0, 1.0)]
    r = run_backtest(stream(sweep), INST, get_strategy("price_follow"),
                     PriceFollowParams(quote_size=3, max_position=4), cfg)
    assert r.fills["qty"].tolist() == [3.0, 1.0]  # the second bid is min(3, 4 - 3) = 1 lot
    assert r.position == 4.0


def test_price_follow_stop_loss_exits_with_a_taker_order() -> None:
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 101.0, 5.0), (2, "sell", 99.0, 1.0),
            (3, "bid_level", 100.0, 0.0), (3, "bid", 90.0, 5.0), (3, "ask_level", 101.0, 0.0),
            (3, "ask", 91.0, 5.0), (8, "bid", 90.0, 4.0)]
    cfg = EngineConfig(step_ms=1.0, decide_on_fill=False)
    r = run_backtest(stream(rows), INST, get_strategy("price_follow"),
                     PriceFollowParams(stop_loss_pct=5.0, max_position=1), cfg)
    taker = r.fills[~r.fills["is_maker"]]
    assert taker["side"].tolist() == [-1]
    assert taker["price"].tolist() == [90.0]
    assert r.position == 0.0
