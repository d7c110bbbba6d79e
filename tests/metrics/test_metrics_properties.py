"""Hypothesis properties of the metrics on random, consistent fills and equity series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_builders import LINEAR, NS, make_equity, make_fills

from mmopt.metrics import OrderCounts, aggregate, compute_shard_metrics

INTERVAL_S = 10.0
money = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def shards(draw, min_points=2):
    """(fills, equity): equity on a 1 s grid from a random second; fills at half seconds."""
    offset = draw(st.integers(0, 59))
    n = draw(st.integers(min_points, 120))
    t = np.arange(offset, offset + n, dtype=np.float64)
    values = draw(st.lists(money, min_size=n, max_size=n))
    positions = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    quoted = draw(st.lists(st.booleans(), min_size=2 * n, max_size=2 * n))
    mids = 100.0 + 0.01 * np.array(draw(st.lists(st.integers(-500, 500), min_size=n, max_size=n)))
    equity = make_equity(t, values, position=positions, mid=mids, bid=quoted[:n], ask=quoted[n:])
    n_fills = draw(st.integers(0, 25)) if n > 1 else 0
    slots = sorted(draw(st.lists(st.integers(0, n - 2), min_size=n_fills, max_size=n_fills)))
    rows = []
    for slot in slots:
        price = 100.0 + 0.01 * draw(st.integers(-500, 500))
        rows.append(
            (
                offset + slot + 0.5,
                draw(st.sampled_from([1, -1])),
                price,
                float(draw(st.integers(1, 3))),
                draw(st.floats(-0.05, 0.05)),
                price + 0.01 * draw(st.integers(-3, 3)),
                draw(st.booleans()),
            )
        )
    return make_fills(rows, position0=float(draw(st.integers(-2, 2)))), equity


def _metrics(fills, equity, orders=None):
    return compute_shard_metrics(
        fills,
        equity,
        orders or OrderCounts(len(fills) + 5),
        LINEAR,
        3.0,
        interval_s=INTERVAL_S,
        quoted_half_spread=np.full(len(fills), 0.02),
    )


@settings(max_examples=100, deadline=None)
@given(shards())
def test_net_pnl_is_last_minus_first_equity(data):
    fills, equity = data
    shard = _metrics(fills, equity)
    assert shard.net_pnl == equity["equity"][-1] - equity["equity"][0]
    assert math.fsum(shard.interval_pnl) == pytest.approx(shard.net_pnl, abs=1e-9)
    m = aggregate([shard])
    assert m.gross_pnl == pytest.approx(m.net_pnl + m.fees_paid - m.rebates_earned)


@settings(max_examples=100, deadline=None)
@given(shards())
def test_cvar95_is_at_least_minus_mean(data):
    m = aggregate([_metrics(*data)])
    assert m.cvar95 >= -m.mean_interval_pnl - 1e-9 * (1 + abs(m.mean_interval_pnl))


@settings(max_examples=100, deadline=None)
@given(shards(), st.floats(-1e6, 1e6))
def test_shifted_equity_keeps_drawdown(data, shift):
    fills, equity = data
    shifted = equity.copy()
    shifted["equity"] += shift
    a, b = aggregate([_metrics(fills, equity)]), aggregate([_metrics(fills, shifted)])
    assert b.max_drawdown == pytest.approx(a.max_drawdown, abs=1e-6)
    assert b.net_pnl == pytest.approx(a.net_pnl, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(shards(min_points=25), st.data())
def test_split_in_two_by_time_pools_back(data, draw):
    fills, equity = data
    ts = equity["ts_ns"]
    on_grid = np.flatnonzero(ts % round(INTERVAL_S * NS) == 0)
    inner = on_grid[(on_grid > 0) & (on_grid < ts.size - 1)]
    k = int(draw.draw(st.sampled_from(inner.tolist())))
    cut = int(np.searchsorted(fills["ts_ns"], ts[k]))
    orders = OrderCounts(len(fills) + 5, cancelled=3, filled=min(len(fills), 4))
    left_orders = OrderCounts(cut + 2, cancelled=1, filled=min(cut, 2))
    right_orders = OrderCounts(
        orders.submitted - left_orders.submitted,
        cancelled=2,
        filled=orders.filled - left_orders.filled,
    )
    whole = aggregate([_metrics(fills, equity, orders)])
    halves = aggregate(
        [
            _metrics(fills[:cut], equity[: k + 1], left_orders),
            _metrics(fills[cut:], equity[k:], right_orders),
        ]
    )
    exact = (
        "fills",
        "maker_fills",
        "orders_submitted",
        "orders_cancelled",
        "orders_filled",
        "fill_ratio",
        "cancel_ratio",
        "n_intervals",
        "sharpe",
        "sortino",
        "cvar95",
        "mean_interval_pnl",
        "std_interval_pnl",
        "max_drawdown",
    )
    close = (
        "net_pnl",
        "gross_pnl",
        "fees_paid",
        "rebates_earned",
        "volume",
        "notional",
        "duration_s",
        "rms_inventory_ratio",
        "time_two_sided",
        "time_quoted",
        "spread_captured",
        "realised_spread_bps",
    )
    w, h = whole.as_dict(), halves.as_dict()
    for name in exact:
        assert w[name] == h[name] or (math.isnan(w[name]) and math.isnan(h[name])), name
    for name in close:
        assert h[name] == pytest.approx(w[name], rel=1e-9, abs=1e-9, nan_ok=True), name
    # a round trip open at the cut is lost by the halves; otherwise the trips are the same
    flat_at_cut = cut == 0 or fills["position_after"][cut - 1] == 0
    if flat_at_cut:
        assert (h["round_trips"], h["round_trip_wins"]) == (w["round_trips"], w["round_trip_wins"])
    assert w["round_trips"] - 1 <= h["round_trips"] <= w["round_trips"]


@settings(max_examples=100, deadline=None)
@given(shards())
def test_round_trips_sum_to_cash_flow_when_flat_at_both_ends(data):
    fills, _ = data
    rows = [
        (
            0.5 + i * 1e-3,
            int(f["side"]),
            float(f["price"]),
            float(f["qty"]),
            float(f["fee"]),
            float(f["mid"]),
            bool(f["is_maker"]),
        )
        for i, f in enumerate(fills)
    ]
    pos = sum(side * qty for _, side, _, qty, *_ in rows)
    if pos != 0:
        rows.append((0.9, -int(np.sign(pos)), 100.0, abs(pos), 0.01, 100.0, False))
    flat = make_fills(rows)
    equity = make_equity([0, 1], [0.0, 0.0])
    m = aggregate([compute_shard_metrics(flat, equity, OrderCounts(len(flat)), LINEAR, 3.0)])
    flows = -flat["side"] * flat["price"] * flat["qty"] - flat["fee"]
    total = m.avg_round_trip_pnl * m.round_trips if m.round_trips else 0.0
    assert total == pytest.approx(math.fsum(flows), abs=1e-6)
    assert m.round_trip_wins + m.round_trip_losses <= m.round_trips
    assert (m.round_trips > 0) == (len(flat) > 0)
