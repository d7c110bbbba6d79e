"""Every metric formula against a hand computation on tiny hand-made fills and equity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from metrics_builders import INVERSE, LINEAR, NS, T0, make_equity, make_fills, ns

from mmopt.metrics import (
    METRIC_NAMES,
    OrderCounts,
    aggregate,
    annualisation_factor,
    compute_shard_metrics,
)
from mmopt.metrics.pnl import interval_pnl
from mmopt.metrics.risk import cvar, cvar_tail_count, max_drawdown, portfolio_curve

ORDERS = OrderCounts(submitted=40, cancelled=30, rejected=1, filled=4)

# buy 2 @100, sell 1 @101 (rebate), sell 2 @102 (flips long 1 -> short 1), buy 1 @102.5 (flat),
# buy 1 @103 taker (a trip left open at the end).
ROUND_TRIP_ROWS = [
    (5.0, 1, 100.0, 2.0, 0.02, 100.05, True),
    (15.0, -1, 101.0, 1.0, -0.01, 100.95, True),
    (25.0, -1, 102.0, 2.0, 0.02, 101.9, True),
    (35.0, 1, 102.5, 1.0, 0.01, 102.45, True),
    (45.0, 1, 103.0, 1.0, 0.0, 103.1, False),
]
QUOTED_H = np.array([0.1, 0.1, 0.1, np.nan, 0.2])


def _shard(fills=None, equity=None, **kw):
    if fills is None:
        fills = make_fills(ROUND_TRIP_ROWS)
    if equity is None:
        equity = make_equity([0, 30, 60, 90, 120, 150, 180], [0, 1, -2, 3, 5, 4, 6])
    kw.setdefault("orders", ORDERS)
    kw.setdefault("instrument", LINEAR)
    kw.setdefault("max_position", 4.0)
    return compute_shard_metrics(fills, equity, **kw)


def test_pnl_fees_volume_notional():
    m = aggregate([_shard()])
    assert m.net_pnl == 6.0
    assert m.fees_paid == pytest.approx(0.05)
    assert m.rebates_earned == pytest.approx(0.01)
    assert m.gross_pnl == pytest.approx(6.0 + 0.05 - 0.01)
    assert m.volume == 7.0
    assert m.notional == pytest.approx(200 + 101 + 204 + 102.5 + 103)
    assert (m.fills, m.maker_fills) == (5, 4)


def test_inverse_notional_and_round_trip_in_coin():
    fills = make_fills(
        [(1, 1, 50_000.0, 10.0, 0.0, 50_000.0, True), (2, -1, 51_000.0, 10.0, 0.0, 51_000.0, True)]
    )
    m = aggregate([_shard(fills, instrument=INVERSE)])
    assert m.notional == pytest.approx(10 * 100 / 50_000 + 10 * 100 / 51_000)
    assert m.round_trips == 1 and m.round_trip_wins == 1
    assert m.avg_round_trip_pnl == pytest.approx(1000 * (1 / 50_000 - 1 / 51_000))
    assert m.currencies == ("coin of TEST.INV",)


def test_order_ratios():
    m = aggregate([_shard()])
    assert (m.orders_submitted, m.orders_cancelled, m.orders_rejected, m.orders_filled) == (
        40,
        30,
        1,
        4,
    )
    assert m.fill_ratio == 4 / 40
    assert m.cancel_ratio == 30 / 40


def test_interval_pnl_on_epoch_grid():
    eq = make_equity([0, 30, 60, 90, 120, 150, 180], [0, 1, -2, 3, 5, 4, 6])
    ends, pnl = interval_pnl(eq, 60 * NS)
    assert ends.tolist() == [ns(60), ns(120), ns(180)]
    assert pnl.tolist() == [-2.0, 7.0, 1.0]
    # partial first and last intervals: starts mid-minute, ends mid-minute
    eq = make_equity([30, 45, 90, 130, 150], [10, 11, 14, 9, 12])
    ends, pnl = interval_pnl(eq, 60 * NS)
    assert ends.tolist() == [ns(60), ns(120), ns(150)]
    assert pnl.tolist() == [1.0, 3.0, -2.0]  # E(60)=11 (as-of 45), E(120)=14, E(150)=12
    ends, pnl = interval_pnl(make_equity([5], [1.0]), 60 * NS)
    assert ends.size == 0 and pnl.size == 0


def test_sharpe_sortino_cvar_drawdown():
    m = aggregate([_shard()])  # interval PnLs [-2, 7, 1]
    ann = math.sqrt(365 * 86400 / 60)
    assert m.annualisation_factor == pytest.approx(ann) == annualisation_factor(60)
    assert ann == pytest.approx(724.98, abs=0.01)
    assert m.n_intervals == 3
    assert m.mean_interval_pnl == 2.0
    assert m.std_interval_pnl == pytest.approx(math.sqrt(21))
    assert m.sharpe == pytest.approx(2 / math.sqrt(21) * ann)
    assert m.sortino == pytest.approx(2 / math.sqrt(4 / 3) * ann)
    assert m.cvar95 == 2.0  # ceil(0.05 * 3) = 1 worst interval: -2
    assert m.max_drawdown == 2.0  # curve 0, -2, 5, 6 on the 1-minute grid


def test_cvar_tail_count_and_mean_of_worst():
    assert [cvar_tail_count(n) for n in (0, 1, 19, 20, 21, 100, 101)] == [0, 1, 1, 1, 2, 5, 6]
    pnl = np.arange(1.0, 41.0) - 20.0  # -19 .. 20, n = 40 -> k = 2
    assert cvar(pnl) == pytest.approx(18.5)
    assert math.isnan(cvar(np.empty(0)))


def test_drawdown_and_portfolio_curve():
    assert max_drawdown(np.array([0.0, 3.0, 1.0, 4.0, -1.0, 2.0])) == 5.0
    curve = portfolio_curve(np.array([2, 1, 2, 3]), np.array([1.0, -1.0, 2.0, -4.0]))
    assert curve.tolist() == [0.0, -1.0, 2.0, -2.0]


def test_degenerate_risk_is_nan():
    flat = make_equity([0, 60, 120], [5, 5, 5])
    m = aggregate([_shard(make_fills([]), flat)])
    assert math.isnan(m.sharpe) and math.isnan(m.sortino)
    assert m.cvar95 == 0.0 and m.max_drawdown == 0.0
    rising = make_equity([0, 60, 120], [0, 1, 3])
    m = aggregate([_shard(make_fills([]), rising)])
    assert math.isnan(m.sortino) and m.sharpe > 0


def test_round_trips_flat_to_flat_with_flip():
    m = aggregate([_shard()])
    trip1 = -200 - 0.02 + 101 + 0.01 + 102 - 0.01  # buy 2, sell 1, half of the sell 2
    trip2 = 102 - 0.01 - 102.5 - 0.01  # the other half, then buy 1 back to flat
    assert m.round_trips == 2
    assert (m.round_trip_wins, m.round_trip_losses) == (1, 1)
    assert m.hit_rate == 0.5
    assert m.avg_round_trip_pnl == pytest.approx((trip1 + trip2) / 2)


def test_carried_in_position_is_not_a_trip():
    # starts long 2: the sell 2 closes a position opened before the shard; then one full trip
    rows = [
        (1, -1, 100.0, 2.0, 0.0, 100.0, True),
        (2, 1, 99.0, 1.0, 0.0, 99.0, True),
        (3, -1, 98.0, 1.0, 0.0, 98.0, True),
    ]
    m = aggregate([_shard(make_fills(rows, position0=2.0))])
    assert m.round_trips == 1 and m.round_trip_losses == 1
    assert m.avg_round_trip_pnl == pytest.approx(-1.0)


def test_rms_inventory_and_time_quoted():
    eq = make_equity(
        [0, 10, 30, 60],
        [0, 0, 0, 0],
        position=[1, -2, 0, 5],
        bid=[True, True, False, True],
        ask=[True, False, False, True],
    )
    m = aggregate([_shard(make_fills([]), eq)])
    assert m.rms_inventory_ratio == pytest.approx(
        math.sqrt(((1 / 4) ** 2 * 10 + (2 / 4) ** 2 * 20) / 60)
    )
    assert m.time_two_sided == pytest.approx(10 / 60)
    assert m.time_quoted == pytest.approx(30 / 60)
    assert m.duration_s == 60.0


def test_spread_captured_and_realised_bps():
    m = aggregate([_shard(quoted_half_spread=QUOTED_H)])
    # maker fills only (fill 5 is taker); fill 4 has no quoted spread
    captured = 2 * 0.05 + 1 * 0.05 + 2 * 0.1
    quoted = 2 * 0.1 + 1 * 0.1 + 2 * 0.1
    assert m.spread_captured == pytest.approx(captured / quoted)
    bps = (2 * 0.05 / 100.05 + 0.05 / 100.95 + 2 * 0.1 / 101.9 - 0.05 / 102.45) * 1e4 / 6
    assert m.realised_spread_bps == pytest.approx(bps)
    assert math.isnan(aggregate([_shard()]).spread_captured)  # no quoted spreads given


def test_markouts_per_unit_and_bps():
    t = np.arange(0, 121)
    eq = make_equity(t, np.zeros(t.size), mid=100 + 0.01 * t)
    rows = [(10.5, 1, 100.1, 2.0, 0.0, 100.105, True), (100.0, -1, 101.0, 3.0, 0.0, 101.0, True)]
    m = aggregate([_shard(make_fills(rows), eq)])
    # buy: mids at 11 / 20 / 70 s -> +0.005, +0.095, +0.595; sell: at 101 / 110 s -> -0.01, -0.1
    assert m.markout_1s == pytest.approx((2 * 0.005 - 3 * 0.01) / 5)
    assert m.markout_10s == pytest.approx((2 * 0.095 - 3 * 0.1) / 5)
    assert m.markout_60s == pytest.approx(0.595)  # the sell's 60 s is past the series' end
    assert m.markout_1s_bps == pytest.approx((2 * 0.005 / 100.105 - 3 * 0.01 / 101.0) * 1e4 / 5)
    assert m.markout_60s_bps == pytest.approx(0.595 / 100.105 * 1e4)


def test_markout_skips_nan_mid():
    t = np.arange(0, 5)
    eq = make_equity(t, np.zeros(5), mid=[100, 100, np.nan, 101, 101])
    m = aggregate([_shard(make_fills([(1.0, 1, 100.0, 1.0, 0.0, 100.0, True)]), eq)])
    assert math.isnan(m.markout_1s)  # mid at 2 s is NaN: no observation
    assert math.isnan(m.markout_10s)  # past the end


def test_as_dict_has_exactly_the_canonical_names():
    d = aggregate([_shard()]).as_dict()
    assert tuple(d) == METRIC_NAMES
    assert len(set(METRIC_NAMES)) == len(METRIC_NAMES)
    assert all(isinstance(v, float) for v in d.values())


def test_shard_arrays_are_read_only():
    s = _shard()
    with pytest.raises(ValueError):
        s.interval_pnl[0] = 1.0
    assert s.start_ns == T0 * NS and s.end_ns == ns(180)


def test_shard_metrics_pickle_round_trip():
    import pickle

    s = _shard(quoted_half_spread=QUOTED_H)
    back = pickle.loads(pickle.dumps(s))
    there, here = aggregate([back]).as_dict(), aggregate([s]).as_dict()
    assert there == here or all(
        a == b or (math.isnan(a) and math.isnan(b))
        for a, b in zip(there.values(), here.values(), strict=True)
    )
    assert back.interval_pnl.tolist() == s.interval_pnl.tolist()


def test_quoted_half_spread_read_from_a_fill_field():
    fills = make_fills(ROUND_TRIP_ROWS)
    fills["quoted_half_spread"] = QUOTED_H
    via_field = aggregate([_shard(fills)])
    assert (
        via_field.spread_captured
        == aggregate([_shard(quoted_half_spread=QUOTED_H)]).spread_captured
    )
