"""skewed_with_stops on hand-made contexts: quotes, skew, reservation, exits, cooldown.

Book: bid 100.00 / ask 100.02 (ticks 10000 / 10002), tick 0.01, lot 0.1, mid 100.01.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from strategy_helpers import Book, Ctx, decide

from mmopt.errors import ConfigError
from mmopt.strategies import SKEWED_WITH_STOPS, SkewedWithStopsParams
from mmopt.strategies._checks import StrategyParamWarning
from mmopt.strategies.skewed_with_stops import S_BEST, S_EXIT_T, S_EXITED, S_TRAILING

SW = SKEWED_WITH_STOPS


def _params(**kw: object) -> SkewedWithStopsParams:
    base: dict[str, object] = {"half_spread_bps": 2.0}
    return SkewedWithStopsParams(**{**base, **kw})  # type: ignore[arg-type]


def _book(mid_tick: int) -> Book:
    """A two-tick book around ``mid_tick`` (mid = mid_tick * 0.01)."""
    return Book(bid_tick=mid_tick - 1, ask_tick=mid_tick + 1)


def test_flat_quotes_sit_half_spread_from_mid() -> None:
    # h = 2 bp of 100.01 = 0.020002: 99.989998 -> 99.98, 100.030002 -> 100.04
    d = decide(SW, _params(), Ctx())
    assert (d.quote(0), d.quote(1)) == ((9998.0, 1.0), (10004.0, 1.0))
    # half_spread_bps 0 -> h = half a tick: the touch
    touch = decide(SW, _params(half_spread_bps=0.0), Ctx())
    assert (touch.quote(0), touch.quote(1)) == ((10000.0, 1.0), (10002.0, 1.0))


def test_inventory_skews_the_centre_against_the_position() -> None:
    # 5 of 10 lots long, skew 0.5: centre = 100.01 - 0.5 * 0.5 * 0.020002 = 100.0050005
    d = decide(SW, _params(), Ctx(position=0.5, avg_entry=100.01))
    assert (d.quote(0), d.quote(1)) == ((9998.0, 1.0), (10003.0, 1.0))
    # full inventory, skew 1: centre moves one half spread (99.989998), ask at 100.01; no bid
    full = decide(SW, _params(inventory_skew=1.0), Ctx(position=1.0, avg_entry=100.01))
    assert (full.quote(0), full.quote(1)) == (None, (10001.0, 1.0))


def test_reservation_shift_uses_gamma_sigma_and_horizon() -> None:
    # 1 quote long, gamma 0.1, sigma 1 bp, 60 s: -6 bp of 100.01 = -0.060006 -> 99.949994;
    # bid 99.929992 -> 99.92; ask 99.969996 would cross the bid -> best bid + 1 = 100.01
    p = _params(inventory_skew=0.0, use_reservation=True)
    d = decide(SW, p, Ctx(position=0.1, avg_entry=100.01, vol=1e-4))
    assert (d.quote(0), d.quote(1)) == ((9992.0, 1.0), (10001.0, 1.0))
    assert SW.feature_params(p)[0] == 30.0
    assert SW.feature_params(_params()) is None  # no features unless the reservation is on


@pytest.mark.parametrize(("position", "book", "side"), [
    (0.3, _book(9949), -1.0),  # long from 100, mid 99.49: -0.51 % <= -0.5 % stop-loss
    (0.3, _book(10102), -1.0),  # long, mid 101.02: +1.02 % >= 1 % take-profit
    (-0.3, _book(9900), 1.0),  # short, mid 99.00: +1 % take-profit (buy back)
    (-0.3, _book(10051), 1.0),  # short, mid 100.51: -0.51 % stop-loss
])
def test_stop_loss_and_take_profit_exit_with_a_taker_order(position: float, book: Book,
                                                            side: float) -> None:
    d = decide(SW, _params(), Ctx(book=book, position=position, avg_entry=100.0))
    assert d.taker == (side, pytest.approx(0.3))
    assert d.quote(0) is None and d.quote(1) is None
    assert d.state[S_EXITED] == 1.0 and d.state[S_EXIT_T] == 100.0


def test_inside_the_limits_nothing_exits() -> None:
    d = decide(SW, _params(), Ctx(book=_book(9960), position=0.3, avg_entry=100.0))  # -0.4 %
    assert d.taker == (0.0, 0.0) and d.quote(0) is not None


def test_trailing_stop_arms_at_activation_and_trails_the_best_mid() -> None:
    state = np.zeros(SW.n_state)
    p = _params(trailing_activation_pct=0.3, trailing_distance_pct=0.15)

    def step(mid_tick: int, t: float) -> tuple[float, float]:
        ctx = Ctx(book=_book(mid_tick), position=0.2, avg_entry=100.0, time=t)
        return decide(SW, p, ctx, state=state).taker

    assert step(10020, 1.0) == (0.0, 0.0)  # +0.2 %: not armed
    assert state[S_TRAILING] == 0.0
    assert step(10040, 2.0) == (0.0, 0.0)  # +0.4 %: armed
    assert state[S_TRAILING] == 1.0
    assert step(10050, 3.0) == (0.0, 0.0)  # new best 100.50
    assert state[S_BEST] == pytest.approx(100.50)
    assert step(10040, 4.0) == (0.0, 0.0)  # retrace 0.0995 % < 0.15 %
    assert step(10034, 5.0) == (-1.0, pytest.approx(0.2))  # retrace 0.159 %: exit at +0.34 %


def test_trailing_stop_is_not_armed_below_activation() -> None:
    state = np.zeros(SW.n_state)
    p = _params(trailing_activation_pct=0.3, trailing_distance_pct=0.15)
    for t, mid_tick in enumerate((10020, 10025, 10001)):  # best +0.25 %, then back to +0.01 %
        ctx = Ctx(book=_book(mid_tick), position=0.2, avg_entry=100.0, time=float(t))
        assert decide(SW, p, ctx, state=state).taker == (0.0, 0.0)


def test_best_price_resets_when_a_new_position_opens() -> None:
    state = np.zeros(SW.n_state)
    p = _params()
    decide(SW, p, Ctx(book=_book(10050), position=0.2, avg_entry=100.0), state=state)
    decide(SW, p, Ctx(book=_book(10050), position=0.0), state=state)
    decide(SW, p, Ctx(book=_book(10010), position=-0.1, avg_entry=100.1), state=state)
    assert state[S_BEST] == pytest.approx(100.10) and state[S_TRAILING] == 0.0


def test_cooldown_after_an_exit() -> None:
    state = np.zeros(SW.n_state)
    p = _params(cooldown_s=5.0)
    exit_ = decide(SW, p, Ctx(book=_book(9949), position=0.3, avg_entry=100.0, time=100.0),
                   state=state)
    assert exit_.taker[0] == -1.0
    cooling = decide(SW, p, Ctx(time=104.9), state=state)  # flat now, still cooling down
    assert cooling.quote(0) is None and cooling.quote(1) is None
    back = decide(SW, p, Ctx(time=105.0), state=state)
    assert (back.quote(0), back.quote(1)) == ((9998.0, 1.0), (10004.0, 1.0))


def test_no_second_exit_while_a_taker_order_is_in_flight() -> None:
    ctx = Ctx(book=_book(9949), position=0.3, avg_entry=100.0, taker_pending=-0.3)
    d = decide(SW, _params(), ctx)
    assert d.taker == (0.0, 0.0) and d.quote(0) is None and d.quote(1) is None


def test_no_exit_while_quoting_is_not_allowed() -> None:
    ctx = Ctx(book=_book(9949), position=0.3, avg_entry=100.0, allowed=False)
    d = decide(SW, _params(), ctx)
    assert d.taker == (0.0, 0.0) and d.state[S_EXITED] == 0.0


def test_rules_set_to_null_are_off() -> None:
    p = _params(stop_loss_pct=None, take_profit_pct=None, trailing_activation_pct=None)
    for mid_tick in (9000, 11000):  # -10 % and +10 %
        ctx = Ctx(book=_book(mid_tick), position=0.3, avg_entry=100.0)
        assert decide(SW, p, ctx).taker == (0.0, 0.0)
    assert math.isnan(SW.to_vector(p)[5])


@pytest.mark.parametrize("book", [Book(ask_tick=None), Book(bid_tick=None)])
def test_an_empty_book_side_pulls_quotes_and_never_exits(book: Book) -> None:
    d = decide(SW, _params(), Ctx(book=book, position=0.3, avg_entry=200.0))
    assert d.quote(0) is None and d.quote(1) is None and d.taker == (0.0, 0.0)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("inventory_skew", 1.5, "strategy.params.inventory_skew (skewed_with_stops): expected a "
                            "number in [0, 1], got 1.5"),
    ("gamma", 0.001, "strategy.params.gamma (skewed_with_stops): expected a number in "
                     "[0.01, 1], got 0.001"),
    ("stop_loss_pct", 0.0, "strategy.params.stop_loss_pct (skewed_with_stops): expected a "
                           "number in (0, 100), got 0.0"),
    ("take_profit_pct", -1.0, "strategy.params.take_profit_pct (skewed_with_stops): expected "
                              "a number in (0, 1000]"),
    ("trailing_distance_pct", 100.0, "strategy.params.trailing_distance_pct "
                                     "(skewed_with_stops): expected a number in (0, 100)"),
    ("cooldown_s", -1.0, "strategy.params.cooldown_s (skewed_with_stops): expected a number "
                         "in [0, 86400]"),
    ("use_reservation", 1, "strategy.params.use_reservation (skewed_with_stops): expected true "
                           "or false, got 1"),
    ("max_position", 2.5, "strategy.params.max_position (skewed_with_stops): expected a whole "
                          "number >= 1"),
])
def test_bad_params_name_the_key_and_the_range(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        SkewedWithStopsParams(**{key: value})  # type: ignore[arg-type]
    assert expected in str(info.value)


def test_take_profit_below_stop_loss_warns_with_the_break_even_win_rate() -> None:
    with pytest.warns(StrategyParamWarning) as record:
        SkewedWithStopsParams(stop_loss_pct=1.0, take_profit_pct=0.45)
    message = str(record[0].message)
    assert "strategy.params.take_profit_pct (skewed_with_stops)" in message
    assert "reward:risk 0.45:1 needs a 69 % win rate" in message


def test_trailing_wider_than_its_activation_warns() -> None:
    with pytest.warns(StrategyParamWarning, match="can close a position at a loss"):
        SkewedWithStopsParams(trailing_activation_pct=0.1, trailing_distance_pct=0.2)
