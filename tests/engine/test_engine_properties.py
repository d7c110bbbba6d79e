"""Hypothesis properties of the engine on random streams with the shipped strategies."""

from __future__ import annotations

import numpy as np
from engine_helpers import INST, MS, T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmopt.data._schema import EVENT_DTYPE, KIND_ASK, KIND_BID, KIND_BID_LEVEL, KIND_TRADE
from mmopt.engine import EngineConfig, run_backtest
from mmopt.engine.order_actions import ORDER_ARRIVE
from mmopt.strategies import FixedIntervalParams, PriceFollowParams, get_strategy


def random_stream(seed: int, n: int) -> np.ndarray:
    """A random walk of the touch with level updates and trades on both sides (some outside)."""
    rng = np.random.default_rng(seed)
    rows = []
    t = T0
    mid = 1000
    for _ in range(n):
        t += int(rng.integers(0, 3 * MS))
        mid += int(rng.integers(-1, 2))
        spread = int(rng.integers(1, 3))
        u = rng.random()
        if u < 0.35:
            rows.append((t, -1, float(mid), float(rng.integers(1, 6)), 0, KIND_BID, 0, False))
        elif u < 0.7:
            rows.append((t, -1, float(mid + spread), float(rng.integers(1, 6)), 0, KIND_ASK, 0,
                         False))
        elif u < 0.8:
            px = float(mid - int(rng.integers(0, 4)))
            rows.append((t, -1, px, float(rng.integers(0, 4)), 0, KIND_BID_LEVEL, 0, False))
        else:
            side = 1 if rng.random() < 0.5 else -1
            px = float(mid + (spread if side > 0 else 0) + int(rng.integers(-1, 2)))
            rows.append((t, -1, px, float(rng.integers(1, 5)), 0, KIND_TRADE, side, False))
    return np.array(rows, dtype=EVENT_DTYPE)


configs = st.builds(
    EngineConfig,
    step_ms=st.sampled_from([1.0, 2.0, 5.0]),
    entry_latency_ns=st.sampled_from([0, MS, 3 * MS]),
    response_latency_ns=st.sampled_from([0, MS]),
    queue_model=st.sampled_from(["risk_averse", "prob_power"]),
    partial_fills=st.booleans(),
    decide_on_fill=st.booleans(),
    record_orders=st.just(True),
    equity_interval_ms=st.sampled_from([3.0, 10.0]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cfg=configs, size=st.integers(1, 3),
       max_pos=st.integers(1, 4), follow=st.booleans())
def test_position_bound_equity_identity_arrival_and_fee_sign(
    seed: int, cfg: EngineConfig, size: int, max_pos: int, follow: bool
) -> None:
    events = random_stream(seed, 400)
    if follow:
        strategy = get_strategy("price_follow")
        params: object = PriceFollowParams(quote_size=size, max_position=max_pos)
    else:
        strategy = get_strategy("fixed_interval")
        params = FixedIntervalParams(refill_interval_s=0.004, quote_size=size,
                                     max_position=max_pos)
    r = run_backtest(events, INST, strategy, params, cfg)
    # |position| never beyond max_position, at any fill
    assert np.all(np.abs(r.fills["position_after"]) <= max_pos + 1e-9)
    assert r.max_abs_position <= max_pos + 1e-9
    # equity = cash + position x mid on the whole series
    eq = r.equity
    marked = ~np.isnan(eq["mid"])
    np.testing.assert_allclose(eq["equity"][marked],
                               eq["cash"][marked] + eq["position"][marked] * eq["mid"][marked],
                               rtol=0, atol=1e-9)
    # no fill before its order reached the exchange
    ev = r.order_events
    arrivals = dict(zip(ev["order_id"][ev["action"] == ORDER_ARRIVE].tolist(),
                        ev["ts_ns"][ev["action"] == ORDER_ARRIVE].tolist(), strict=True))
    for oid, ts, queue in zip(r.fills["order_id"], r.fills["ts_ns"], r.fills["queue_ns"],
                              strict=True):
        if int(oid) in arrivals:
            assert ts >= arrivals[int(oid)]
        assert queue >= 0
    # maker fees (2 bps) and taker fees (5 bps) are both paid: positive
    assert np.all(r.fills["fee"] > 0)
    assert r.fees == np.sum(r.fills["fee"]) or abs(r.fees - np.sum(r.fills["fee"])) < 1e-9
    # the final row is the final state
    assert eq["position"][-1] == r.position


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_same_inputs_same_outputs(seed: int) -> None:
    events = random_stream(seed, 300)
    cfg = EngineConfig(step_ms=2.0, entry_latency_ns=MS, response_latency_ns=MS)
    a = run_backtest(events, INST, get_strategy("price_follow"), None, cfg)
    b = run_backtest(events, INST, get_strategy("price_follow"), None, cfg)
    assert a.fills.tobytes() == b.fills.tobytes()
    assert a.equity.tobytes() == b.equity.tobytes()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), rebate=st.floats(-3.0, -0.1))
def test_rebates_are_negative_fees(seed: int, rebate: float) -> None:
    events = random_stream(seed, 300)
    cfg = EngineConfig(step_ms=2.0, maker_fee_bps=rebate)
    r = run_backtest(events, INST, get_strategy("price_follow"), None, cfg)
    assert np.all(r.fills["fee"][r.fills["is_maker"]] < 0)
    assert np.all(r.fills["fee"][~r.fills["is_maker"]] > 0)
