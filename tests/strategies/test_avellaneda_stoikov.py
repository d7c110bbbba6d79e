"""avellaneda_stoikov on hand-made contexts: every formula against a hand computation.

Params: gamma 0.1, horizon 60 s, S = mid unless a test says otherwise.
Book: bid 100.00 (tick 10000), ask 100.02 (10002), 5 lots each, tick 0.01, lot 0.1, so
mid = 100.01. sigma is given per sqrt(second) of log returns (1e-4 = 1 bp).
"""

from __future__ import annotations

import math

import pytest
from strategy_helpers import Book, Ctx, decide

from mmopt.errors import ConfigError
from mmopt.strategies import AVELLANEDA_STOIKOV, AvellanedaStoikovParams
from mmopt.strategies._checks import StrategyParamWarning
from mmopt.strategies.avellaneda_stoikov import as_spread_bps

AS = AVELLANEDA_STOIKOV


def _params(**kw: object) -> AvellanedaStoikovParams:
    base: dict[str, object] = {"use_microprice": False, "gamma": 0.1, "horizon_s": 60.0}
    return AvellanedaStoikovParams(**{**base, **kw})  # type: ignore[arg-type]


def test_spread_formula() -> None:
    # gamma 0.1, k 1.5, sigma 1 bp/sqrt(s), 60 s: 0.1 * 1 * 60 + 20 * ln(1 + 1/15)
    assert as_spread_bps(0.1, 1.5, 1.0, 60.0) == pytest.approx(6.0 + 20 * math.log(16 / 15))
    assert as_spread_bps(0.1, 1.5, 1.0, 60.0) == pytest.approx(7.290770, abs=1e-6)


def test_flat_quotes_match_the_hand_computation() -> None:
    # delta = 7.29077 bp of 100.01 = 0.072915; bid 100.01 - 0.036457 = 99.97354 -> 99.97 (floor)
    # ask 100.04646 -> 100.05 (ceil): rounded outward to the tick grid.
    d = decide(AS, _params(), Ctx(vol=1e-4))
    assert d.quote(0) == (9997.0, 1.0)
    assert d.quote(1) == (10005.0, 1.0)
    assert d.guard == pytest.approx((1.0, 1.0))  # 10 lots of 0.1
    assert d.taker == (0.0, 0.0)


def test_microprice_is_the_reference_when_asked() -> None:
    book = Book(bid_qty=15.0, ask_qty=5.0)  # micro = (5*100.00 + 15*100.02) / 20 = 100.015
    # sigma 0: delta = 20 ln(16/15) = 1.29077 bp; around 100.015: 100.00855 / 100.02145
    micro = decide(AS, _params(use_microprice=True), Ctx(book=book))
    mid = decide(AS, _params(use_microprice=False), Ctx(book=book))
    assert (micro.quote(0), micro.quote(1)) == ((10000.0, 1.0), (10003.0, 1.0))
    assert (mid.quote(0), mid.quote(1)) == ((10000.0, 1.0), (10002.0, 1.0))


def test_reservation_price_moves_against_inventory() -> None:
    # gamma 0.02, q = 1 quote (0.1 = 1 lot of size 1): r = 100.01 - 1 * 0.02 * 1 * 60 bp
    # = 99.998; delta = (1.2 + 100 ln(1 + 0.02/1.5)) bp = 0.025248 -> 99.98538 / 100.01062
    d = decide(AS, _params(gamma=0.02), Ctx(vol=1e-4, position=0.1))
    assert (d.quote(0), d.quote(1)) == ((9998.0, 1.0), (10002.0, 1.0))
    # q counts quotes: the same position with quote_size 2 is half a quote (r = 99.994)
    half = decide(AS, _params(gamma=0.02, quote_size=2), Ctx(vol=1e-4, position=0.1))
    assert half.quote(0) == (9999.0, 2.0)


def test_quotes_never_cross_the_touch() -> None:
    # short 1 quote, gamma 0.1: r = 100.01 + 0.060006 = 100.070006; raw bid 100.03355 would
    # cross the ask 100.02 -> clamped to 100.01 (best ask - 1 tick); the ask stays 100.11
    d = decide(AS, _params(), Ctx(vol=1e-4, position=-0.1))
    assert (d.quote(0), d.quote(1)) == ((10001.0, 1.0), (10011.0, 1.0))
    d = decide(AS, _params(), Ctx(vol=1e-4, position=0.1))
    assert d.quote(1)[0] == 10001.0  # type: ignore[index]  # mirror: best bid + 1 tick


def test_spread_is_floored_at_one_tick() -> None:
    # gamma 1, k 1000: delta = 2 ln(1.001) = 0.002 bp < 1 tick -> one tick around 100.005
    book = Book(bid_tick=10000, ask_tick=10001)
    d = decide(AS, _params(gamma=1.0, k=1000.0), Ctx(book=book))
    assert (d.quote(0), d.quote(1)) == ((10000.0, 1.0), (10001.0, 1.0))


def test_spread_is_capped_by_max_spread_bps() -> None:
    # gamma 1, sigma 10 bp, 60 s: 6000 bp -> 50 bp = 0.50005 -> 99.759975 / 100.260025
    d = decide(AS, _params(gamma=1.0), Ctx(vol=1e-3))
    assert (d.quote(0), d.quote(1)) == ((9975.0, 1.0), (10027.0, 1.0))


def test_volatility_guard_widens_the_spread_by_half() -> None:
    # sigma 1.2 bp: delta = 0.1 * 1.44 * 60 + 1.29077 = 9.93077 bp -> 0.099318 (99.96 / 100.06)
    # guarded (1.2 > 2 x 0.5): x 1.5 = 14.8962 bp -> 0.148976 (99.93 / 100.09)
    calm = decide(AS, _params(), Ctx(vol=1.2e-4, vol_base=0.7e-4))
    hot = decide(AS, _params(), Ctx(vol=1.2e-4, vol_base=0.5e-4))
    assert (calm.quote(0), calm.quote(1)) == ((9996.0, 1.0), (10006.0, 1.0))
    assert (hot.quote(0), hot.quote(1)) == ((9993.0, 1.0), (10009.0, 1.0))


def test_ofi_shifts_the_centre_by_at_most_one_tick() -> None:
    # beta 0.5, z 1: +0.5 tick -> 99.97854 / 100.05146 -> 9997 / 10006 (same delta)
    d = decide(AS, _params(beta_ofi=0.5), Ctx(vol=1e-4, ofi_z=1.0))
    assert (d.quote(0), d.quote(1)) == ((9997.0, 1.0), (10006.0, 1.0))
    # z 10 -> clamped to +1 tick: 99.98354 / 100.05646; z -10 -> -1 tick: 99.96354 / 100.03646
    up = decide(AS, _params(beta_ofi=0.5), Ctx(vol=1e-4, ofi_z=10.0))
    down = decide(AS, _params(beta_ofi=0.5), Ctx(vol=1e-4, ofi_z=-10.0))
    assert (up.quote(0), up.quote(1)) == ((9998.0, 1.0), (10006.0, 1.0))
    assert (down.quote(0), down.quote(1)) == ((9996.0, 1.0), (10004.0, 1.0))


def test_ofi_widening_adds_eta_times_abs_z() -> None:
    # 7.29077 + 2 * 1.5 = 10.29077 bp -> 0.102918 -> 99.95854 / 100.06146
    d = decide(AS, _params(eta_ofi=2.0), Ctx(vol=1e-4, ofi_z=-1.5))
    assert (d.quote(0), d.quote(1)) == ((9995.0, 1.0), (10007.0, 1.0))


def test_inventory_guard_stops_the_side_that_would_exceed_q_max() -> None:
    at_max = decide(AS, _params(), Ctx(vol=1e-4, position=1.0))  # 10 lots long
    assert at_max.quote(0) is None and at_max.quote(1) is not None
    near = decide(AS, _params(quote_size=2), Ctx(vol=1e-4, position=-0.9))  # 9 short + 2 > 10
    assert near.quote(1) is None and near.quote(0)[1] == 2.0  # type: ignore[index]


def test_time_to_session_end_replaces_the_rolling_horizon() -> None:
    rolling = decide(AS, _params(horizon_s=60.0), Ctx(vol=1e-4))
    to_end = decide(AS, _params(horizon_s=None), Ctx(vol=1e-4, time=7140.0, session_end=7200.0))
    assert to_end.quote(0) == rolling.quote(0) and to_end.quote(1) == rolling.quote(1)
    # after the end: T - t = 0 -> only (2/gamma) ln(1 + gamma/k) = 1.29 bp -> 10000 / 10002
    late = decide(AS, _params(horizon_s=None), Ctx(vol=1e-4, time=7300.0, session_end=7200.0))
    assert (late.quote(0), late.quote(1)) == ((10000.0, 1.0), (10002.0, 1.0))


@pytest.mark.parametrize("book", [Book(ask_tick=None), Book(bid_tick=None),
                                  Book(bid_tick=None, ask_tick=None)])
def test_an_empty_book_side_pulls_both_quotes(book: Book) -> None:
    d = decide(AS, _params(), Ctx(book=book, vol=1e-4))
    assert d.quote(0) is None and d.quote(1) is None


def test_features_follow_the_params() -> None:
    p = AvellanedaStoikovParams(vol_halflife_s=12.0, baseline_halflife_s=900.0,
                                ofi_window_s=5.0, ofi_z_window_s=120.0)
    assert AS.feature_params(p).tolist() == [12.0, 900.0, 60.0, 5.0, 120.0, 1.0]
    p = AvellanedaStoikovParams(vol_sample_s=0.0)  # a return per mid change
    assert AS.feature_params(p).tolist()[-1] == 0.0


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("gamma", 0.0, "strategy.params.gamma (avellaneda_stoikov): expected a number in (0, 100]"),
    ("k", -1.0, "strategy.params.k (avellaneda_stoikov): expected a number in (0, 1000]"),
    ("beta_ofi", 11.0, "strategy.params.beta_ofi (avellaneda_stoikov): expected a number in "
                       "[-10, 10]"),
    ("horizon_s", 0.0, "strategy.params.horizon_s (avellaneda_stoikov): expected a number in "
                       "(0, 86400]"),
    ("vol_halflife_s", 0.001, "strategy.params.vol_halflife_s (avellaneda_stoikov): expected a "
                              "number in [0.01, 86400]"),
    ("vol_sample_s", 0.005, "strategy.params.vol_sample_s (avellaneda_stoikov): expected 0 "
                            "(every mid change) or a number in [0.01, 3600], got 0.005"),
    ("vol_sample_s", -1.0, "strategy.params.vol_sample_s (avellaneda_stoikov): expected 0"),
    ("quote_size", 1.5, "strategy.params.quote_size (avellaneda_stoikov): expected a whole "
                        "number >= 1, got 1.5"),
    ("max_inventory", 0, "strategy.params.max_inventory (avellaneda_stoikov): expected a whole "
                         "number >= 1, got 0"),
    ("use_microprice", "yes", "strategy.params.use_microprice (avellaneda_stoikov): expected "
                              "true or false, got 'yes'"),
    ("max_spread_bps", math.nan, "strategy.params.max_spread_bps (avellaneda_stoikov): "
                                 "expected a number in (0, 10000], got nan"),
    ("vol_guard_widen", 0.5, "strategy.params.vol_guard_widen (avellaneda_stoikov): expected a "
                             "number in [1, 100]"),
])
def test_bad_params_name_the_key_and_the_range(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        AvellanedaStoikovParams(**{key: value})  # type: ignore[arg-type]
    assert expected in str(info.value)


def test_risky_settings_warn() -> None:
    with pytest.warns(StrategyParamWarning, match=r"quote_size \(avellaneda_stoikov\): 3 lots "
                                                  r"> max_inventory 2"):
        AvellanedaStoikovParams(quote_size=3, max_inventory=2)
    with pytest.warns(StrategyParamWarning, match="baseline is not slower"):
        AvellanedaStoikovParams(vol_halflife_s=600.0, baseline_halflife_s=300.0)
    with pytest.warns(StrategyParamWarning, match="already exceeds the cap 1 bp"):
        AvellanedaStoikovParams(k=0.1, max_spread_bps=1.0)
