"""Exact pooling over shards, the per-security table, KPI targets and constraints."""

from __future__ import annotations

import dataclasses
import math

import pytest
from metrics_builders import INVERSE, LINEAR, make_equity, make_fills

from mmopt.data._schema import Instrument
from mmopt.errors import ConfigError
from mmopt.metrics import (
    METRIC_NAMES,
    UNEVALUABLE_VIOLATION,
    KpiRow,
    KpiTargets,
    OrderCounts,
    TrialMetrics,
    aggregate,
    compute_shard_metrics,
    kpi_constraints,
    kpi_table,
)

OTHER = Instrument("TEST.OTHER", tick_size=0.01, lot_size=1.0, quote_currency="USDT")
TRIP = [(1, 1, 100.0, 1.0, 0.0, 100.0, True), (2, -1, 101.0, 1.0, 0.0, 101.0, True)]
LOSS = [(1, 1, 100.0, 1.0, 0.0, 100.0, True), (2, -1, 99.5, 1.0, 0.0, 99.5, True)]


def _shard(rows, orders, instrument=LINEAR, t_start=0.0, equity_end=1.0, **kw):
    eq = make_equity([t_start, t_start + 30, t_start + 60], [0.0, -1.0, equity_end])
    fills = make_fills([(t_start + r[0], *r[1:]) for r in rows])
    return compute_shard_metrics(fills, eq, orders, instrument, 2.0, label=str(t_start), **kw)


def test_ratios_pool_sums_not_averages():
    a = _shard(TRIP, OrderCounts(submitted=10, cancelled=9, filled=1))
    b = _shard(TRIP, OrderCounts(submitted=30, cancelled=0, filled=30), t_start=120)
    m = aggregate([a, b])
    assert m.fill_ratio == 31 / 40  # the average of the shard ratios would be 0.55
    assert m.cancel_ratio == 9 / 40
    assert m.n_shards == 2 and m.fills == 4 and m.round_trips == 2


def test_aggregate_is_independent_of_order():
    a = _shard(TRIP, OrderCounts(10, 2, 0, 2))
    b = _shard(LOSS, OrderCounts(5, 1, 0, 2), t_start=300, equity_end=-3.0)
    assert aggregate([a, b]).as_dict() == aggregate([b, a]).as_dict()


def test_per_security_table():
    a1 = _shard(TRIP, OrderCounts(2, 0, 0, 2))
    a2 = _shard(LOSS, OrderCounts(2, 0, 0, 2), t_start=120, equity_end=-0.5)
    b = _shard(
        [*TRIP, (3, 1, 101.0, 1.0, 0.0, 101.0, True)], OrderCounts(3, 0, 0, 3), instrument=OTHER
    )
    rows = aggregate([a1, a2, b]).per_security
    assert [r.security for r in rows] == ["TEST.LIN", "TEST.OTHER"]
    lin, other = rows
    assert (lin.shards, lin.fills, lin.round_trips, lin.wins, lin.losses) == (2, 4, 2, 1, 1)
    assert lin.win_rate == 0.5
    assert lin.pnl == pytest.approx(0.5)  # net PnL: 1.0 + (-0.5)
    assert lin.avg_round_trip_pnl == pytest.approx((1.0 - 0.5) / 2)
    assert (other.fills, other.round_trips, other.wins) == (3, 1, 1)
    assert other.avg_round_trip_pnl == pytest.approx(1.0)


def test_drawdown_pools_simultaneous_shards_in_time():
    # two securities on the same minutes: A -1 then +2; B +1 then -3 -> portfolio 0, -1
    a = _shard([], OrderCounts(0), equity_end=1.0, interval_s=30.0)
    b = compute_shard_metrics(
        make_fills([]),
        make_equity([0, 30, 60], [0.0, 1.0, -2.0]),
        OrderCounts(0),
        OTHER,
        2.0,
        interval_s=30.0,
    )
    assert aggregate([a]).max_drawdown == 1.0
    assert aggregate([b]).max_drawdown == 3.0
    m = aggregate([a, b])
    assert m.max_drawdown == 1.0  # portfolio curve 0, 0 (t=30), -1 (t=60)
    assert m.n_intervals == 4  # Sharpe/CVaR pool the per-shard intervals [-1, 2, 1, -3]
    assert m.cvar95 == 3.0  # k = ceil(0.05 * 4) = 1 worst interval


def test_aggregate_errors():
    with pytest.raises(ConfigError, match="no shard metrics"):
        aggregate([])
    a = _shard(TRIP, OrderCounts(2))
    b = _shard(TRIP, OrderCounts(2), interval_s=30.0)
    with pytest.raises(ConfigError, match="same interval_s"):
        aggregate([a, b])
    c = _shard(TRIP, OrderCounts(2), instrument=INVERSE)
    with pytest.warns(UserWarning, match="mix currencies"):
        aggregate([a, c])


def test_metric_names_match_trial_fields():
    scalar = [
        f.name
        for f in dataclasses.fields(TrialMetrics)
        if f.name not in ("currencies", "per_security")
    ]
    assert tuple(scalar) == METRIC_NAMES


METRICS = {
    "spread_captured": 0.75,
    "rms_inventory_ratio": 0.5,
    "fill_ratio": 0.05,
    "cancel_ratio": math.nan,
}


def test_kpi_table_defaults():
    rows = kpi_table(METRICS)
    assert rows[:3] == (
        KpiRow("spread_captured", 0.75, 0.70, ">=", True),
        KpiRow("rms_inventory_ratio", 0.5, 0.40, "<=", False),
        KpiRow("fill_ratio", 0.05, 0.05, ">=", True),
    )
    last = rows[3]
    assert (last.name, last.target, last.op, last.passed) == ("cancel_ratio", 0.70, "<=", False)
    assert math.isnan(last.value)


def test_kpi_constraints_sign_convention():
    c = kpi_constraints(METRICS)
    assert c[0] == pytest.approx(-0.05)  # satisfied: <= 0
    assert c[1] == pytest.approx(0.1)  # violated by 0.1
    assert c[2] == 0.0  # exactly on target: satisfied
    assert c[3] == UNEVALUABLE_VIOLATION


def test_kpi_disabled_target_and_trial_input():
    targets = KpiTargets(spread_captured_min=None, cancel_ratio_max=0.9,
                         ack_latency_p99_ms_max=None)
    assert [r.name for r in kpi_table(METRICS, targets)] == [
        "rms_inventory_ratio",
        "fill_ratio",
        "cancel_ratio",
    ]
    m = aggregate([_shard(TRIP, OrderCounts(10, 5, 0, 2))])
    rows = kpi_table(m, targets)
    assert rows[1] == KpiRow("fill_ratio", 0.2, 0.05, ">=", True)
    assert rows[2] == KpiRow("cancel_ratio", 0.5, 0.9, "<=", True)
    assert len(kpi_constraints(m, targets)) == 3


def test_kpi_targets_validation():
    assert KpiTargets.from_mapping({"fill_ratio_min": 0.1}).fill_ratio_min == 0.1
    with pytest.raises(ConfigError, match=r"unknown key\(s\) fill_ratio; known keys"):
        KpiTargets.from_mapping({"fill_ratio": 0.1})
    with pytest.raises(ConfigError, match=r"kpi\.cancel_ratio_max: must be a finite fraction"):
        KpiTargets(cancel_ratio_max=-0.1)
    with pytest.raises(ConfigError, match=r"kpi\.fill_ratio_min: expected a number or null"):
        KpiTargets.from_mapping({"fill_ratio_min": "5%"})
