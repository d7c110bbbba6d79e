"""Market-feature kernels against hand computation and a direct numpy/pandas recomputation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmopt.engine import _features as f

NS = 1_000_000_000
T_ORIGIN = 1_723_161_600 * NS  # 2024-08-09 00:00:00 UTC, a multiple of every bucket width used
LN2 = math.log(2.0)


def make_state(vol_hl=30.0, base_hl=600.0, vol_win=60.0, ofi_win=10.0, z_win=300.0):
    params = np.array([vol_hl, base_hl, vol_win, ofi_win, z_win])
    state = np.zeros(f.features_state_size())
    f.features_init(state, params)
    return state, params


def top(state, t_s, bid, bid_qty, ask, ask_qty):
    """Feed a top at t_s seconds after T_ORIGIN and refresh the outputs, as the engine would."""
    ts = T_ORIGIN + round(t_s * NS)
    f.features_on_top(state, ts, bid, bid_qty, ask, ask_qty)
    f.features_refresh(state, ts)
    return state


def advance(state, t_s):
    f.features_refresh(state, T_ORIGIN + round(t_s * NS))
    return state


# ---- hand-made streams ---------------------------------------------------------------------------


def test_book_features_exact():
    s = top(make_state()[0], 0.0, 100.0, 1.0, 101.0, 3.0)
    assert s[f.F_MID] == 100.5
    assert s[f.F_MICRO] == (3.0 * 100.0 + 1.0 * 101.0) / 4.0  # 100.25: the heavier ask pulls down
    assert s[f.F_IMBALANCE] == 0.25
    assert s[f.F_TWO_SIDED] == 1.0
    assert s[f.F_LAST_MID] == 100.5
    for slot in (f.F_VOL_EWMA, f.F_VOL_BASE, f.F_VOL_ROLL, f.F_OFI, f.F_OFI_Z, f.F_ELAPSED_S):
        assert s[slot] == 0.0


def test_zero_sizes_give_mid_and_neutral_imbalance():
    s = top(make_state()[0], 0.0, 100.0, 0.0, 102.0, 0.0)
    assert s[f.F_MICRO] == 101.0
    assert s[f.F_IMBALANCE] == 0.5


def test_ofi_each_cont_kukanov_stoikov_case():
    s, _ = make_state(ofi_win=100.0)
    top(s, 0.0, 100.0, 5.0, 101.0, 4.0)
    steps = [  # (bid, bid_qty, ask, ask_qty, e_n)
        (100.0, 7.0, 101.0, 4.0, +2.0),  # bid queue grows at the same price: +7 - 5
        (100.5, 1.0, 101.0, 4.0, +1.0),  # bid improves: the whole new queue counts
        (100.0, 6.0, 101.0, 4.0, -1.0),  # bid worsens: the old queue (1) is lost
        (100.0, 6.0, 100.5, 2.0, -2.0),  # ask improves: new ask queue is selling pressure
        (100.0, 6.0, 100.5, 3.0, -1.0),  # ask queue grows at the same price: -3 + 2
        (100.0, 6.0, 101.0, 9.0, +3.0),  # ask worsens: the old ask queue (3) is gone
        (np.nan, 6.0, 101.0, 9.0, -6.0),  # bid side empties (price -inf): old bid queue lost
        (99.0, 4.0, 101.0, 9.0, +4.0),  # bid side returns: the new queue counts
        (99.0, 4.0, np.nan, np.nan, +9.0),  # ask side empties (price +inf)
        (99.0, 4.0, 102.0, 1.0, -1.0),  # ask side returns
    ]
    total = 0.0
    for i, (b, bq, a, aq, e) in enumerate(steps, start=1):
        top(s, 0.1 * i, b, bq, a, aq)
        total += e
        assert s[f.F_OFI] == pytest.approx(total, abs=1e-12), f"step {i}"


def test_ofi_first_update_contributes_nothing_and_window_expires():
    s, _ = make_state(ofi_win=1.0)  # 100 buckets of 10 ms
    top(s, 0.0, 100.0, 5.0, 101.0, 4.0)
    assert s[f.F_OFI] == 0.0
    top(s, 0.005, 100.0, 8.0, 101.0, 4.0)  # +3 in bucket 0
    top(s, 0.5, 100.0, 8.0, 101.0, 2.0)  # +2 in bucket 50
    assert s[f.F_OFI] == 5.0
    advance(s, 0.995)  # bucket 99: the window is buckets 0..99
    assert s[f.F_OFI] == 5.0
    advance(s, 1.0)  # bucket 100: bucket 0 leaves
    assert s[f.F_OFI] == 2.0
    advance(s, 1.5)
    assert s[f.F_OFI] == 0.0


def test_ewma_volatility_by_hand():
    s, _ = make_state(vol_hl=2.0, base_hl=20.0)
    top(s, 0.0, 99.0, 1.0, 101.0, 1.0)  # mid 100
    top(s, 1.0, 100.0, 1.0, 102.0, 1.0)  # mid 101
    top(s, 3.0, 99.0, 1.0, 101.0, 1.0)  # mid 100
    r1, r2 = math.log(101 / 100), math.log(100 / 101)
    for hl, slot in ((2.0, f.F_VOL_EWMA), (20.0, f.F_VOL_BASE)):
        lam = LN2 / hl
        num = r1**2 * math.exp(-lam * 2.0) + r2**2
        denom = (1.0 - math.exp(-lam * 3.0)) / lam  # integral of the kernel over [0, 3] s
        assert s[slot] == pytest.approx(math.sqrt(num / denom), rel=1e-12)
    assert s[f.F_ELAPSED_S] == pytest.approx(3.0)
    advance(s, 5.0)  # nothing trades: the per-second variance decays
    lam = LN2 / 2.0
    num = r1**2 * math.exp(-lam * 4.0) + r2**2 * math.exp(-lam * 2.0)
    expected = math.sqrt(num / ((1.0 - math.exp(-lam * 5.0)) / lam))
    assert s[f.F_VOL_EWMA] == pytest.approx(expected, rel=1e-12)


def sampled_state(sample_s=1.0, vol_hl=2.0, base_hl=20.0, vol_win=6.0):
    params = np.array([vol_hl, base_hl, vol_win, 10.0, 300.0, sample_s])
    state = np.zeros(f.features_state_size())
    f.features_init(state, params)
    return state


def test_sampled_volatility_by_hand():
    """vol_sample_s = 1: returns of the mid sampled at whole seconds (the last mid before each
    grid point); the flips inside a second add nothing."""
    s = sampled_state()
    top(s, 0.25, 99.0, 1.0, 101.0, 1.0)  # mid 100: T0 and the first sample
    top(s, 0.5, 100.0, 1.0, 102.0, 1.0)  # mid 101
    top(s, 0.75, 99.0, 1.0, 101.0, 1.0)  # mid 100 again: bounce inside the second
    top(s, 0.9, 100.0, 1.0, 102.0, 1.0)  # mid 101: in force at t = 1
    assert s[f.F_VOL_EWMA] == 0.0  # no grid point passed yet: no return
    top(s, 1.0, 101.0, 1.0, 103.0, 1.0)  # mid 102 AT t = 1: not part of the sample at 1
    r1 = math.log(101 / 100)  # sample(1) / first mid, observed at t = 1
    top(s, 3.5, 99.0, 1.0, 101.0, 1.0)  # closes 2 (mid 102) and 3 (102): r2 observed at 2
    r2 = math.log(102 / 101)
    for hl, slot in ((2.0, f.F_VOL_EWMA), (20.0, f.F_VOL_BASE)):
        lam = LN2 / hl
        num = r1**2 * math.exp(-lam * 2.5) + r2**2 * math.exp(-lam * 1.5)
        denom = (1.0 - math.exp(-lam * 3.25)) / lam  # kernel integral since T0 = 0.25 s
        assert s[slot] == pytest.approx(math.sqrt(num / denom), rel=1e-12)
    assert s[f.F_VOL_ROLL] == pytest.approx(math.sqrt((r1**2 + r2**2) / 3.25), rel=1e-12)
    advance(s, 4.0)  # a refresh closes grid point 4: mid 100 since 3.5
    r3 = math.log(100 / 102)
    lam = LN2 / 2.0
    num = r1**2 * math.exp(-lam * 3.0) + r2**2 * math.exp(-lam * 2.0) + r3**2
    assert s[f.F_VOL_EWMA] == pytest.approx(
        math.sqrt(num / ((1.0 - math.exp(-lam * 3.75)) / lam)), rel=1e-12)


def test_sampled_volatility_ignores_bounce_and_never_looks_ahead():
    """Per-change sigma grows with the flip rate of a bouncing mid; sampled sigma does not.
    The outputs at a time never depend on the tops after it."""
    rng = np.random.default_rng(7)
    per_change, sampled = make_state(vol_hl=5.0)[0], sampled_state(vol_hl=5.0)
    seen = []
    level = 0.0
    for k in range(4000):  # 40 s: a slow random walk in whole ticks, flipping every 10 ms
        t = 0.01 * k
        if k % 100 == 0:
            level += rng.choice([-1.0, 1.0])
        bid = 100.0 + level - (k % 2)  # the bid bounces by one tick on every event
        for s in (per_change, sampled):
            top(s, t, bid, 1.0, 101.0 + level, 1.0)
        seen.append(sampled[f.F_VOL_EWMA])
    assert per_change[f.F_VOL_EWMA] > 5.0 * sampled[f.F_VOL_EWMA] > 0.0
    again = sampled_state(vol_hl=5.0)
    level = 0.0
    rng = np.random.default_rng(7)
    for k in range(2000):  # the first half only: the same values up to its end
        t = 0.01 * k
        if k % 100 == 0:
            level += rng.choice([-1.0, 1.0])
        top(again, t, 100.0 + level - (k % 2), 1.0, 101.0 + level, 1.0)
        assert again[f.F_VOL_EWMA] == seen[k]


def test_rolling_volatility_by_hand():
    s, _ = make_state(vol_win=6.0)  # 600 buckets of 10 ms
    top(s, 0.0, 99.0, 1.0, 101.0, 1.0)  # mid 100 at T0 = 0
    top(s, 0.5, 100.0, 1.0, 102.0, 1.0)  # r1 in bucket 50
    top(s, 3.0, 99.0, 1.0, 101.0, 1.0)  # r2 in bucket 300
    r1, r2 = math.log(101 / 100), math.log(100 / 101)
    assert s[f.F_VOL_ROLL] == pytest.approx(math.sqrt((r1**2 + r2**2) / 3.0), rel=1e-12)
    advance(s, 7.0)  # bucket 700: window = buckets 101..700 = [1.01 s, 7 s]
    assert s[f.F_VOL_ROLL] == pytest.approx(math.sqrt(r2**2 / 5.99), rel=1e-12)
    advance(s, 10.0)
    assert s[f.F_VOL_ROLL] == 0.0


def test_empty_side_gives_nan_mid_then_recovers():
    s, _ = make_state(vol_hl=2.0)
    top(s, 0.0, 99.0, 1.0, 101.0, 1.0)
    top(s, 1.0, np.nan, 7.0, 101.0, 3.0)  # bid empty: its size is ignored
    assert math.isnan(s[f.F_MID]) and math.isnan(s[f.F_MICRO])
    assert s[f.F_TWO_SIDED] == 0.0
    assert s[f.F_IMBALANCE] == 0.0
    assert s[f.F_LAST_MID] == 100.0
    top(s, 2.0, np.nan, np.nan, np.nan, np.nan)  # both empty
    assert s[f.F_IMBALANCE] == 0.5
    for slot in (f.F_VOL_EWMA, f.F_VOL_ROLL, f.F_OFI, f.F_OFI_Z):
        assert math.isfinite(s[slot])
    top(s, 3.0, 100.0, 1.0, 102.0, 1.0)  # back: the return is taken against the last valid mid
    assert s[f.F_MID] == 101.0 and s[f.F_TWO_SIDED] == 1.0
    lam = LN2 / 2.0
    r = math.log(101 / 100)
    assert s[f.F_VOL_EWMA] == pytest.approx(math.sqrt(r * r / ((1 - 2**-1.5) / lam)), rel=1e-12)


def test_no_valid_mid_yet_keeps_volatility_zero():
    s, _ = make_state()
    top(s, 0.0, np.nan, 0.0, 101.0, 2.0)
    advance(s, 5.0)
    assert s[f.F_ELAPSED_S] == 0.0 and s[f.F_VOL_EWMA] == 0.0 and s[f.F_VOL_ROLL] == 0.0
    assert math.isnan(s[f.F_LAST_MID])


def test_z_is_zero_while_samples_are_constant():
    s, _ = make_state(ofi_win=0.1, z_win=1.0)  # q = 1 ms, samples every ms, M = 1000
    top(s, 0.0, 100.0, 1.0, 101.0, 1.0)
    for i in range(1, 400):
        advance(s, 0.001 * i)
        assert s[f.F_OFI_Z] == 0.0
    top(s, 0.4, 100.0, 2.0, 101.0, 1.0)  # OFI jumps while every sample so far was 0
    assert s[f.F_OFI] == 1.0 and s[f.F_OFI_Z] == 0.0


def test_long_gap_clears_windows_and_decays_ewma():
    s, _ = random_stream_state(n=500)
    advance(s, 1e6)
    assert s[f.F_OFI] == 0.0 and s[f.F_OFI_Z] == 0.0 and s[f.F_VOL_ROLL] == 0.0
    assert s[f.F_VOL_EWMA] == 0.0 and s[f.F_VOL_BASE] < 1e-12
    assert s.shape == (f.FEATURE_STATE_SIZE,)
    top(s, 1e6 + 1.0, 100.0, 1.0, 101.0, 1.0)  # and keeps working afterwards
    assert np.isfinite(s[: f.N_FEATURE_OUTPUTS]).all()


def test_time_going_backwards_counts_as_the_last_time():
    s, _ = make_state()
    top(s, 1.0, 100.0, 1.0, 101.0, 1.0)
    top(s, 0.5, 100.0, 2.0, 101.0, 1.0)
    assert s[f.F_ELAPSED_S] == 0.0 and s[f.F_OFI] == 1.0


def test_redundant_calls_change_nothing_but_rounding():
    calls = make_calls(np.random.default_rng(7), 800)
    plain = run_kernels(calls, PARAM_SETS[0])
    s, _ = make_state(*PARAM_SETS[0])
    noisy = np.empty_like(plain)
    for j, c in enumerate(calls):
        call_kernel(s, c)
        f.features_refresh(s, c.ts)  # same time again
        if c.is_top:
            f.features_on_top(s, c.ts, c.bid, c.bid_qty, c.ask, c.ask_qty)  # same top again
        f.features_refresh(s, c.ts)
        noisy[j] = s[: f.N_FEATURE_OUTPUTS]
    np.testing.assert_allclose(noisy, plain, rtol=1e-9, atol=1e-9)


def test_state_size_is_fixed_and_outputs_come_first():
    assert f.features_state_size() == f.FEATURE_STATE_SIZE
    assert f.FEATURE_STATE_SIZE == f.R_Z + f.Z_CAPACITY
    assert f.N_FEATURE_OUTPUTS <= f.I_INITIALISED < f.N_FEATURE_HEADER <= f.R_VOL
    s, _ = random_stream_state(n=3000)
    assert s.shape == (f.FEATURE_STATE_SIZE,)  # the kernels only ever write into this vector


def test_params_validation():
    good = np.array([30.0, 600.0, 60.0, 10.0, 300.0])
    assert f.feature_params_invalid(good) == -1
    assert f.feature_params_invalid(good[:4]) == f.N_FEATURE_PARAMS
    for i in range(f.N_FEATURE_PARAMS):
        for bad in (0.0, -1.0, np.nan, np.inf, f.MIN_WINDOW_S / 2):
            p = good.copy()
            p[i] = bad
            assert f.feature_params_invalid(p) == i, (f.FEATURE_PARAM_NAMES[i], bad)
    for ok in (0.0, f.MIN_WINDOW_S, 1.0):  # the optional sampling grid: 0 = off
        assert f.feature_params_invalid(np.append(good, ok)) == -1
    for bad in (-1.0, np.nan, np.inf, f.MIN_WINDOW_S / 2):
        p = np.append(good, bad)
        assert f.feature_params_invalid(p) == f.P_VOL_SAMPLE_S, bad
        assert f.FEATURE_PARAM_NAMES[f.P_VOL_SAMPLE_S] == "vol_sample_s"
    with pytest.raises(ValueError, match="feature_params_invalid"):
        f.features_init(np.zeros(f.FEATURE_STATE_SIZE), np.zeros(5))
    with pytest.raises(ValueError, match="features_state_size"):
        f.features_init(np.zeros(10), good)
    with pytest.raises(ValueError, match="features_init"):
        f.features_refresh(np.zeros(f.FEATURE_STATE_SIZE), T_ORIGIN)
    with pytest.raises(ValueError, match="features_init"):
        f.features_on_top(np.zeros(f.FEATURE_STATE_SIZE), T_ORIGIN, 1.0, 1.0, 2.0, 1.0)


# ---- hypothesis properties -----------------------------------------------------------------------

price = st.floats(1.0, 1e6, allow_nan=False)
size = st.floats(0.0, 1e6, allow_nan=False)
maybe_price = st.one_of(price, st.just(math.nan))
quote = st.tuples(maybe_price, size, maybe_price, size, st.integers(0, 5 * NS))


@settings(max_examples=60, deadline=None)
@given(st.lists(quote, min_size=1, max_size=40))
def test_properties_on_any_stream(quotes):
    s, _ = make_state(vol_hl=1.0, base_hl=5.0, vol_win=2.0, ofi_win=0.5, z_win=3.0)
    ts = T_ORIGIN
    for b, bq, a, aq, dt in quotes:
        ts += dt
        bid, ask = (min(b, a), max(b, a)) if not (math.isnan(b) or math.isnan(a)) else (b, a)
        f.features_on_top(s, ts, bid, bq, ask, aq)
        f.features_refresh(s, ts)
        assert 0.0 <= s[f.F_IMBALANCE] <= 1.0
        two_sided = not (math.isnan(bid) or math.isnan(ask))
        assert math.isnan(s[f.F_MID]) != two_sided
        if two_sided:
            assert bid <= s[f.F_MICRO] <= ask
            assert bid <= s[f.F_MID] <= ask
        for slot in (f.F_VOL_EWMA, f.F_VOL_BASE, f.F_VOL_ROLL, f.F_OFI, f.F_OFI_Z):
            assert math.isfinite(s[slot]), slot
        assert s[f.F_VOL_EWMA] >= 0.0 and s[f.F_VOL_ROLL] >= 0.0


@settings(max_examples=100, deadline=None)
@given(price, price, size, size)
def test_microprice_between_touch_and_leans_to_the_thin_side(p1, p2, bq, aq):
    bid, ask = min(p1, p2), max(p1, p2)
    s = top(make_state()[0], 0.0, bid, bq, ask, aq)
    assert bid <= s[f.F_MICRO] <= ask
    if bq > aq:  # more size on the bid: the price is more likely to go up
        assert s[f.F_MICRO] >= s[f.F_MID] - 1e-9 * ask


# ---- a seeded random stream against a direct recomputation ---------------------------------------

PARAM_SETS = [
    (2.0, 20.0, 5.0, 1.0, 30.0),  # OFI q = 10 ms, k = 2, M = 1500
    (0.5, 4.0, 0.3, 0.2, 0.5),  # q = 2 ms, k = 1, M = 250: many laps of every ring
]


@dataclass(frozen=True)
class Call:
    is_top: bool
    ts: int
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float


def make_calls(rng: np.random.Generator, n: int) -> list[Call]:
    """Tops on a 0.5 tick grid with bursts, quiet gaps, empty sides and decision-step advances."""
    calls, ts, mid_ticks = [], T_ORIGIN + 123_456_789, 200_000
    for _ in range(n):
        u = rng.random()
        gap = 0 if u < 0.15 else int(rng.exponential(0.05) * NS)
        if u > 0.995:
            gap = int(rng.choice([20, 120, 2000]) * NS)
        ts += gap
        if rng.random() < 0.2:
            calls.append(Call(False, ts, math.nan, math.nan, math.nan, math.nan))
            continue
        mid_ticks += int(rng.choice([-2, -1, 0, 0, 0, 1, 2]))
        half = int(rng.integers(1, 3))
        bid, ask = (mid_ticks - half) * 0.5, (mid_ticks + half) * 0.5
        bq, aq = float(rng.integers(1, 50)) / 10, float(rng.integers(1, 50)) / 10
        if rng.random() < 0.03:
            bid = math.nan
        if rng.random() < 0.03:
            ask, aq = math.nan, 0.0
        calls.append(Call(True, ts, bid, bq, ask, aq))
    return calls


def call_kernel(state, c: Call, refresh_every_call: bool = True):
    if c.is_top:
        f.features_on_top(state, c.ts, c.bid, c.bid_qty, c.ask, c.ask_qty)
    if not c.is_top or refresh_every_call:
        f.features_refresh(state, c.ts)


def run_kernels(calls, params, refresh_every_call: bool = True) -> np.ndarray:
    s, _ = make_state(*params)
    out = np.empty((len(calls), f.N_FEATURE_OUTPUTS))
    for j, c in enumerate(calls):
        call_kernel(s, c, refresh_every_call)
        out[j] = s[: f.N_FEATURE_OUTPUTS]
    return out


def random_stream_state(n: int):
    s, p = make_state(*PARAM_SETS[0])
    for c in make_calls(np.random.default_rng(1), n):
        call_kernel(s, c)
    return s, p


def reference_book(df: pd.DataFrame) -> pd.DataFrame:
    """Mid, microprice, imbalance as of each call (advances repeat the last top)."""
    bid = df.bid.where(np.isfinite(df.bid))
    ask = df.ask.where(np.isfinite(df.ask))
    bq = df.bid_qty.where(bid.notna(), 0.0).fillna(0.0)
    aq = df.ask_qty.where(ask.notna(), 0.0).fillna(0.0)
    total = bq + aq
    mid = (bid + ask) / 2
    out = pd.DataFrame(
        {
            "mid": mid,
            "micro": ((aq * bid + bq * ask) / total).where(total > 0, mid),
            "imb": (bq / total).where(total > 0, 0.5),
            "bid": bid,
            "bq": bq,
            "ask": ask,
            "aq": aq,
        }
    )
    last_top = np.maximum.accumulate(np.where(df.is_top, np.arange(len(df)), -1))
    assert last_top[0] >= 0, "streams in these tests start with a top"
    return out.iloc[last_top].reset_index(drop=True)


def reference_ofi_events(book: pd.DataFrame, is_top: np.ndarray) -> np.ndarray:
    """e_n of every top call (0 for the first one and for advances)."""
    tops = book[is_top]
    pb = tops.bid.fillna(-np.inf).to_numpy()
    pa = tops.ask.fillna(np.inf).to_numpy()
    qb, qa = tops.bq.to_numpy(), tops.aq.to_numpy()
    e = np.zeros(len(tops))
    e[1:] = (
        (pb[1:] >= pb[:-1]) * qb[1:]
        - (pb[1:] <= pb[:-1]) * qb[:-1]
        - (pa[1:] <= pa[:-1]) * qa[1:]
        + (pa[1:] >= pa[:-1]) * qa[:-1]
    )
    out = np.zeros(len(book))
    out[is_top] = e
    return out


def reference(calls: list[Call], params) -> dict[str, np.ndarray]:
    vol_hl, base_hl, vol_win, ofi_win, z_win = params
    df = pd.DataFrame([c.__dict__ for c in calls])
    ts = df.ts.to_numpy(np.int64)
    is_top = df.is_top.to_numpy(bool)
    book = reference_book(df)
    n = len(df)
    valid = is_top & np.isfinite(book.mid.to_numpy()) & (book.mid.to_numpy() > 0)
    mid_idx = np.flatnonzero(valid)
    log_mid = np.log(book.mid.to_numpy()[mid_idx])
    r2, r_idx, r_ts = np.diff(log_mid) ** 2, mid_idx[1:], ts[mid_idx[1:]]
    t0 = ts[mid_idx[0]]
    q_vol = max(1, round(vol_win * NS / f.N_VOL_BUCKETS))
    e = reference_ofi_events(book, is_top)
    q_ofi = max(1, round(ofi_win * NS / f.N_OFI_BUCKETS))
    k = max(1, math.ceil(z_win * NS / (q_ofi * f.Z_CAPACITY)))
    m = int(min(f.Z_CAPACITY, max(2, round(z_win * NS / (k * q_ofi)))))
    # OFI window sums at every bucket boundary c: buckets c - N .. c - 1
    b_ofi = ts // q_ofi
    first_b = b_ofi[0]
    per_bucket = np.bincount(b_ofi - first_b, weights=e, minlength=b_ofi[-1] - first_b + 2)
    csum = np.concatenate([[0.0], np.cumsum(per_bucket)])
    bounds = np.arange(first_b + f.N_OFI_BUCKETS, b_ofi[-1] + 1)
    bounds = bounds[bounds % k == 0]
    samples = csum[bounds - first_b] - csum[bounds - first_b - f.N_OFI_BUCKETS]
    scale = np.maximum.accumulate(np.abs(e))
    res = {name: np.zeros(n) for name in ("ewma", "base", "roll", "ofi", "z", "elapsed")}
    for j in range(n):
        tj = ts[j]
        nr = np.searchsorted(r_idx, j, side="right")
        if j >= mid_idx[0]:
            res["elapsed"][j] = elapsed = (tj - t0) / NS
            age = (tj - r_ts[:nr]) / NS
            for key, hl in (("ewma", vol_hl), ("base", base_hl)):
                lam = LN2 / hl
                num = np.sum(np.exp(-lam * age) * r2[:nr])
                res[key][j] = math.sqrt(num / (-math.expm1(-lam * elapsed) / lam)) if nr else 0.0
            bj = tj // q_vol
            in_win = r_ts[:nr] // q_vol > bj - f.N_VOL_BUCKETS
            span = (tj - max(t0, (bj - f.N_VOL_BUCKETS + 1) * q_vol)) / NS
            total = r2[:nr][in_win].sum()
            res["roll"][j] = math.sqrt(total / span) if total > 0 else 0.0
        in_ofi = (np.arange(n) <= j) & (b_ofi > b_ofi[j] - f.N_OFI_BUCKETS)
        res["ofi"][j] = ofi = e[in_ofi].sum()
        held = samples[: np.searchsorted(bounds, b_ofi[j], side="right")][-m:]
        if len(held) >= min(f.Z_MIN_SAMPLES, m):
            mean, std = held.mean(), pd.Series(held).std(ddof=1)
            zero = std == 0 or std <= 1e-12 * abs(mean) or std <= 1e-9 * scale[j]
            res["z"][j] = 0.0 if zero else (ofi - mean) / std
    res.update(mid=book.mid.to_numpy(), micro=book.micro.to_numpy(), imb=book.imb.to_numpy())
    return res


SLOTS = {
    "mid": f.F_MID,
    "micro": f.F_MICRO,
    "imb": f.F_IMBALANCE,
    "ewma": f.F_VOL_EWMA,
    "base": f.F_VOL_BASE,
    "roll": f.F_VOL_ROLL,
    "ofi": f.F_OFI,
    "z": f.F_OFI_Z,
    "elapsed": f.F_ELAPSED_S,
}


@pytest.mark.parametrize("params", PARAM_SETS)
def test_random_stream_matches_direct_recomputation(params):
    calls = make_calls(np.random.default_rng(2024), 3000)
    want = reference(calls, params)
    assert np.count_nonzero(want["z"]) > 2000, "the stream should exercise the z-score"
    assert np.count_nonzero(want["roll"]) > 2000
    assert np.isnan(want["mid"]).sum() > 100, "and empty sides"
    refreshed = np.array([not c.is_top for c in calls])
    atols = {"z": 1e-6, "ofi": 1e-9, "ewma": 1e-11, "base": 1e-11, "roll": 1e-11}
    # refreshed after every call, and (as the engine does) only at decision steps
    for every, rows in ((True, slice(None)), (False, refreshed)):
        got = run_kernels(calls, params, refresh_every_call=every)
        for name, slot in SLOTS.items():
            np.testing.assert_allclose(
                got[rows, slot], want[name][rows], rtol=1e-7, atol=atols.get(name, 0.0),
                err_msg=f"{name} (refresh after every call: {every})",
            )  # fmt: skip


def test_state_may_live_inside_a_larger_vector():
    calls = make_calls(np.random.default_rng(3), 300)
    alone = run_kernels(calls, PARAM_SETS[1])
    big = np.full(f.FEATURE_STATE_SIZE + 20, -7.0)
    s = big[10 : 10 + f.FEATURE_STATE_SIZE]
    f.features_init(s, np.array(PARAM_SETS[1]))
    for j, c in enumerate(calls):
        call_kernel(s, c)
        np.testing.assert_array_equal(s[: f.N_FEATURE_OUTPUTS], alone[j])
    assert (big[:10] == -7.0).all() and (big[-10:] == -7.0).all()
