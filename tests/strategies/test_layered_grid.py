"""layered_grid on hand-made contexts.

Book: bid 100.00 / ask 100.02 (ticks 10000 / 10002), tick 0.01, lot 0.1, mid 100.01.
With vol 1e-4 per sqrt(s) and vol_horizon_s 10: sigma = 100.01 * 1e-4 * sqrt(10) = 0.0316259,
h0 = 1.0 * sigma, spacing = 0.4 * sigma = 0.0126504.
"""

from __future__ import annotations

import pytest
from strategy_helpers import Book, Ctx, Order, decide

from mmopt.errors import ConfigError
from mmopt.strategies import LAYERED_GRID, LayeredGridParams
from mmopt.strategies._checks import StrategyParamWarning
from mmopt.strategies.context import OS_CANCEL_SENT, OS_SENT

LG = LAYERED_GRID


def _lg(**kw: object) -> LayeredGridParams:
    return LayeredGridParams(**{"vol_horizon_s": 10.0, **kw})  # type: ignore[arg-type]


P = _lg()  # k 1, skew 0.3, 3 levels, spacing 0.4, 500 ms, 2 bp, cutoff 0.65, horizon 10 s


def _ticks(d: object, side: int, n: int = 3) -> list[object]:
    return [d.quote(side, level) for level in range(n)]  # type: ignore[attr-defined]


def test_levels_are_spaced_by_volatility() -> None:
    # bids 100.01 - 0.031626 - i * 0.012650 = 99.97837, 99.96572, 99.95307 -> floor
    # asks 100.04163, 100.05428, 100.06693 -> ceil
    d = decide(LG, P, Ctx(vol=1e-4))
    assert _ticks(d, 0) == [(9997.0, 1.0), (9996.0, 1.0), (9995.0, 1.0)]
    assert _ticks(d, 1) == [(10005.0, 1.0), (10006.0, 1.0), (10007.0, 1.0)]
    # levels beyond levels_per_side are never used: left alone (KEEP), no work for the engine
    assert all(d.quote(s, lv) == "keep" for s in (0, 1) for lv in range(3, LG.n_levels))


def test_zero_volatility_floors_half_spread_and_spacing_at_one_tick() -> None:
    d = decide(LG, P, Ctx(vol=0.0))
    assert _ticks(d, 0) == [(10000.0, 1.0), (9999.0, 1.0), (9998.0, 1.0)]
    assert _ticks(d, 1) == [(10002.0, 1.0), (10003.0, 1.0), (10004.0, 1.0)]


def test_inventory_shifts_every_level_down_when_long() -> None:
    # 5 lots long of 10: centre = 100.01 - 0.3 * 0.5 * 0.031626 = 100.005256
    d = decide(LG, P, Ctx(vol=1e-4, position=0.5))
    assert _ticks(d, 0) == [(9997.0, 1.0), (9996.0, 1.0), (9994.0, 1.0)]
    assert _ticks(d, 1) == [(10004.0, 1.0), (10005.0, 1.0), (10007.0, 1.0)]


def test_levels_never_cross_the_touch_and_stay_ordered() -> None:
    # skew 10, 10 lots short: centre 100.32626, raw bids 10029 / 10028 / 10026 are clamped
    # to best ask - 1 = 10001, then one tick further out per level
    with pytest.warns(StrategyParamWarning, match="beyond the level-0 half spread"):
        params = _lg(skew_coeff=10.0)
    d = decide(LG, params, Ctx(vol=1e-4, position=-1.0))
    assert _ticks(d, 0) == [(10001.0, 1.0), (10000.0, 1.0), (9999.0, 1.0)]
    assert d.quote(1) is None  # short 10 lots: no room to sell


def test_room_to_max_position_is_given_to_the_inner_levels_first() -> None:
    # 9 lots long: 1 lot of room to buy; centre 100.01 - 0.3 * 0.9 * 0.031626 = 100.00146
    d = decide(LG, P, Ctx(vol=1e-4, position=0.9))
    assert _ticks(d, 0) == [(9996.0, 1.0), None, None]
    assert [q[1] for q in _ticks(d, 1)] == [1.0, 1.0, 1.0]  # type: ignore[index]
    assert d.guard == pytest.approx((1.0, 1.0))


@pytest.mark.parametrize(("bid_qty", "ask_qty", "pulled"), [(20.0, 5.0, 1), (5.0, 20.0, 0)])
def test_the_side_facing_book_pressure_is_pulled(bid_qty: float, ask_qty: float,
                                                  pulled: int) -> None:
    # imbalance 20 / 25 = 0.8 > 0.65: buyers press on our asks; 0.2 < 0.35 presses our bids
    d = decide(LG, P, Ctx(vol=1e-4, book=Book(bid_qty=bid_qty, ask_qty=ask_qty)))
    assert all(d.quote(pulled, lv) is None for lv in range(3))
    assert all(d.quote(1 - pulled, lv) is not None for lv in range(3))


def test_balanced_book_inside_the_cutoff_quotes_both_sides() -> None:
    d = decide(LG, P, Ctx(vol=1e-4, book=Book(bid_qty=6.0, ask_qty=4.0)))  # 0.6 < 0.65
    assert d.quote(0) is not None and d.quote(1) is not None


# Replacement: the target of bid level 0 is 9997; an order rests at 9996 (moved 1 tick =
# 0.01 / 100.01 = 0.9999 bp).
@pytest.mark.parametrize(("threshold", "submit_t", "state", "expected"), [
    (2.0, 0.0, 2.0, "keep"),  # moved 1 bp <= 2 bp: keep
    (0.5, 99.0, 2.0, (9997.0, 1.0)),  # moved more than 0.5 bp and rested 1 s >= 0.5 s: replace
    (0.5, 99.8, 2.0, "keep"),  # rested 0.2 s < 0.5 s: keep
    (0.5, 99.5, 2.0, (9997.0, 1.0)),  # rested exactly 0.5 s: replace
    (0.5, 0.0, OS_SENT, "keep"),  # not acknowledged yet: cannot be replaced
    (2.0, 0.0, OS_CANCEL_SENT, (9997.0, 1.0)),  # being cancelled: the level needs a new order
])
def test_orders_are_replaced_only_when_moved_enough_and_rested_enough(
        threshold: float, submit_t: float, state: float, expected: object) -> None:
    order = Order(side=1, level=0, tick=9996, qty=0.1, state=state, submit_t=submit_t)
    params = _lg(replace_threshold_bps=threshold)
    d = decide(LG, params, Ctx(vol=1e-4, orders=[order]))
    assert d.quote(0, 0) == expected
    assert d.quote(0, 1) == (9996.0, 1.0)  # other levels are unaffected


def test_a_resting_order_on_target_is_kept_even_with_zero_threshold() -> None:
    order = Order(side=-1, level=1, tick=10006, qty=0.1, submit_t=0.0)
    d = decide(LG, _lg(replace_threshold_bps=0.0), Ctx(vol=1e-4, orders=[order]))
    assert d.quote(1, 1) == "keep"


def test_levels_per_side_limits_the_quotes() -> None:
    d = decide(LG, _lg(levels_per_side=2), Ctx(vol=1e-4))
    assert _ticks(d, 0) == [(9997.0, 1.0), (9996.0, 1.0), "keep"]


@pytest.mark.parametrize("book", [Book(ask_tick=None), Book(bid_tick=None)])
def test_an_empty_book_side_pulls_every_quote(book: Book) -> None:
    d = decide(LG, P, Ctx(book=book, vol=1e-4))
    assert all(d.quote(s, lv) is None for s in (0, 1) for lv in range(3))


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("levels_per_side", 9, "strategy.params.levels_per_side (layered_grid): expected a whole "
                           "number in [1, 8], got 9"),
    ("imbalance_cutoff", 0.5, "strategy.params.imbalance_cutoff (layered_grid): expected a "
                              "number in (0.5, 1], got 0.5"),
    ("min_time_in_book_ms", -1, "strategy.params.min_time_in_book_ms (layered_grid): expected "
                                "a number in [0, 3.6e+06], got -1"),
    ("k_vola_spread", "1", "strategy.params.k_vola_spread (layered_grid): expected a number in "
                           "[0, 100], got '1'"),
    ("replace_threshold_bps", -0.1, "strategy.params.replace_threshold_bps (layered_grid): "
                                    "expected a number in [0, 10000]"),
    ("vol_horizon_s", 0, "strategy.params.vol_horizon_s (layered_grid): expected a number in "
                         "(0, 86400]"),
])
def test_bad_params_name_the_key_and_the_range(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        LayeredGridParams(**{key: value})  # type: ignore[arg-type]
    assert expected in str(info.value)


def test_risky_settings_warn() -> None:
    with pytest.warns(StrategyParamWarning, match=r"4 levels x 3 lots exceed max_position 10"):
        LayeredGridParams(levels_per_side=4, quote_size=3)
    with pytest.warns(StrategyParamWarning, match=r"skew_coeff \(layered_grid\): 2 > 1"):
        LayeredGridParams(skew_coeff=2.0)


def test_features_use_the_vol_half_life() -> None:
    assert LG.feature_params(LayeredGridParams(vol_halflife_s=7.0))[0] == 7.0
