"""A seeded L2 event stream for the conformance test and the engine benchmark.

Used until ``mmopt.data.synth`` can produce the same shape; it is deliberately adversarial for
the fill rules: queue over-trading, sweeps that trade through the touch, a bid that crosses the
ask before the ask level is removed, and occasional trades printed outside the book (the
real-feed quirk). Ten contiguous price levels per side on the tick grid, a full snapshot at the
start, about ``trade_frac`` of the rows are trades.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
)

__all__ = ["SYNTH_INSTRUMENT", "synth_events"]

SYNTH_INSTRUMENT = Instrument(
    security="synth.BTCUSDT",
    tick_size=0.1,
    lot_size=0.001,
    contract_type="linear",
    contract_size=1.0,
    quote_currency="USDT",
    maker_fee_bps=-0.5,
    taker_fee_bps=4.0,
)

_LEVELS = 10


def synth_events(
    n_rows: int,
    seed: int,
    instrument: Instrument = SYNTH_INSTRUMENT,
    start_ns: int = 1_723_161_600_000_000_000,
    mean_gap_ns: int = 2_000_000,
    trade_frac: float = 0.10,
    mid_price: float = 60_000.0,
) -> np.ndarray:
    """``n_rows`` rows of ``EVENT_DTYPE`` (exactly), sorted by ``ts_ns``; same seed, same rows."""
    if n_rows < 4 * _LEVELS:
        raise ValueError(f"n_rows must be >= {4 * _LEVELS}, got {n_rows}")
    ts = np.empty(n_rows, np.int64)
    tick_px = np.empty(n_rows, np.int64)
    lots = np.empty(n_rows, np.int64)
    kind = np.empty(n_rows, np.int8)
    side = np.empty(n_rows, np.int8)
    mid_tick = round(mid_price / instrument.tick_size)
    n_snap = _generate(n_rows, seed, start_ns, mean_gap_ns, trade_frac, mid_tick,
                       ts, tick_px, lots, kind, side)
    out = np.zeros(n_rows, dtype=EVENT_DTYPE)
    out["ts_ns"] = ts
    out["exch_ts_ns"] = ts
    out["price"] = tick_px * instrument.tick_size
    out["qty"] = lots * instrument.lot_size
    out["kind"] = kind
    out["side"] = side
    out["is_snapshot"][:n_snap] = True
    return out


@njit(cache=False)  # test helper: imported under several module names
def _emit(i, n, t, px, q, k, s, ts, tick_px, lots, kind, side):  # type: ignore[no-untyped-def]
    if i < n:
        ts[i] = t
        tick_px[i] = px
        lots[i] = q
        kind[i] = k
        side[i] = s
    return i + 1


@njit(cache=False)  # test helper: imported under several module names
def _new_qty():  # type: ignore[no-untyped-def]
    return 1 + int(np.random.exponential(20.0))


@njit(cache=False)  # test helper: imported under several module names
def _shift_out(q, levels):  # type: ignore[no-untyped-def]
    """Drop the best level: level i+1 becomes level i, a new deepest level appears."""
    for j in range(levels - 1):
        q[j] = q[j + 1]
    q[levels - 1] = _new_qty()


@njit(cache=False)  # test helper: imported under several module names
def _shift_in(q, levels, new_best):  # type: ignore[no-untyped-def]
    """A new best level in front: level i becomes i+1, the deepest falls off."""
    for j in range(levels - 1, 0, -1):
        q[j] = q[j - 1]
    q[0] = new_best


@njit(cache=False)  # test helper: imported under several module names
def _generate(n, seed, t0, gap, trade_frac, mid, ts, tick_px, lots, kind, side):  # type: ignore[no-untyped-def]
    np.random.seed(seed)
    L = _LEVELS
    bq = np.empty(L, np.int64)
    aq = np.empty(L, np.int64)
    bb = mid
    ba = mid + 1
    i = 0
    t = t0
    for j in range(L):
        bq[j] = _new_qty()
        aq[j] = _new_qty()
        i = _emit(i, n, t, bb - j, bq[j], KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
        i = _emit(i, n, t, ba + j, aq[j], KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
    n_snap = i
    while i < n:
        t += int(np.random.exponential(gap)) if np.random.random() > 0.1 else 0
        r = np.random.random()
        buy = np.random.random() < 0.5
        if r < trade_frac * 1.6:
            # a trade at the touch; sometimes larger than the best level (a sweep)
            q = 1 + int(np.random.exponential(6.0))
            best_q = aq[0] if buy else bq[0]
            px = ba if buy else bb
            s = 1 if buy else -1
            i = _emit(i, n, t, px, min(q, best_q), KIND_TRADE, s, ts, tick_px, lots, kind, side)
            if q < best_q:
                t += int(np.random.exponential(50_000.0))
                if buy:
                    aq[0] -= q
                    i = _emit(i, n, t, ba, aq[0], KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                    i = _emit(i, n, t, ba, aq[0], KIND_ASK, 0, ts, tick_px, lots, kind, side)
                else:
                    bq[0] -= q
                    i = _emit(i, n, t, bb, bq[0], KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                    i = _emit(i, n, t, bb, bq[0], KIND_BID, 0, ts, tick_px, lots, kind, side)
            else:
                rest = q - best_q
                if buy:
                    if rest > 0:
                        i = _emit(i, n, t, ba + 1, min(rest, aq[1]), KIND_TRADE, 1,
                                  ts, tick_px, lots, kind, side)
                    t += int(np.random.exponential(200_000.0))
                    i = _emit(i, n, t, ba, 0, KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                    ba += 1
                    _shift_out(aq, L)
                    aq[0] = max(1, aq[0] - rest)
                    i = _emit(i, n, t, ba, aq[0], KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                    i = _emit(i, n, t, ba, aq[0], KIND_ASK, 0, ts, tick_px, lots, kind, side)
                    i = _emit(i, n, t, ba + L - 1, aq[L - 1], KIND_ASK_LEVEL, 0,
                              ts, tick_px, lots, kind, side)
                else:
                    if rest > 0:
                        i = _emit(i, n, t, bb - 1, min(rest, bq[1]), KIND_TRADE, -1,
                                  ts, tick_px, lots, kind, side)
                    t += int(np.random.exponential(200_000.0))
                    i = _emit(i, n, t, bb, 0, KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                    bb -= 1
                    _shift_out(bq, L)
                    bq[0] = max(1, bq[0] - rest)
                    i = _emit(i, n, t, bb, bq[0], KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                    i = _emit(i, n, t, bb, bq[0], KIND_BID, 0, ts, tick_px, lots, kind, side)
                    i = _emit(i, n, t, bb - L + 1, bq[L - 1], KIND_BID_LEVEL, 0,
                              ts, tick_px, lots, kind, side)
        elif r < trade_frac * 1.6 + 0.02:
            # a stray trade printed near (possibly outside) the book, no book change
            off = int(np.random.randint(-2, 3))
            px = (ba + off) if buy else (bb + off)
            i = _emit(i, n, t, px, 1 + int(np.random.exponential(3.0)), KIND_TRADE,
                      1 if buy else -1, ts, tick_px, lots, kind, side)
        elif r < trade_frac * 1.6 + 0.03:
            # the bid jumps onto the ask price before the ask level is removed (crossed feed)
            if buy:
                _shift_in(bq, L, _new_qty())
                bb = ba
                i = _emit(i, n, t, bb, bq[0], KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, bb, bq[0], KIND_BID, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, ba, 0, KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                ba += 1
                _shift_out(aq, L)
                i = _emit(i, n, t, ba, aq[0], KIND_ASK, 0, ts, tick_px, lots, kind, side)
            else:
                _shift_in(aq, L, _new_qty())
                ba = bb
                i = _emit(i, n, t, ba, aq[0], KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, ba, aq[0], KIND_ASK, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, bb, 0, KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                bb -= 1
                _shift_out(bq, L)
                i = _emit(i, n, t, bb, bq[0], KIND_BID, 0, ts, tick_px, lots, kind, side)
        elif r < 0.30:
            # the best level is cancelled away (the touch backs off one tick)
            if buy:
                i = _emit(i, n, t, bb, 0, KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                bb -= 1
                _shift_out(bq, L)
                i = _emit(i, n, t, bb, bq[0], KIND_BID, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, bb - L + 1, bq[L - 1], KIND_BID_LEVEL, 0,
                          ts, tick_px, lots, kind, side)
            else:
                i = _emit(i, n, t, ba, 0, KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                ba += 1
                _shift_out(aq, L)
                i = _emit(i, n, t, ba, aq[0], KIND_ASK, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, ba + L - 1, aq[L - 1], KIND_ASK_LEVEL, 0,
                          ts, tick_px, lots, kind, side)
        elif r < 0.42 and ba - bb > 1:
            # a new level inside the spread (the touch improves one tick)
            if buy:
                i = _emit(i, n, t, bb - L + 1, 0, KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                _shift_in(bq, L, _new_qty())
                bb += 1
                i = _emit(i, n, t, bb, bq[0], KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, bb, bq[0], KIND_BID, 0, ts, tick_px, lots, kind, side)
            else:
                i = _emit(i, n, t, ba + L - 1, 0, KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                _shift_in(aq, L, _new_qty())
                ba -= 1
                i = _emit(i, n, t, ba, aq[0], KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                i = _emit(i, n, t, ba, aq[0], KIND_ASK, 0, ts, tick_px, lots, kind, side)
        else:
            # a size change at one of the ten levels (the best level half of the time)
            lvl = 0 if np.random.random() < 0.5 else int(np.random.randint(1, L))
            q = _new_qty()
            if buy:
                bq[lvl] = q
                i = _emit(i, n, t, bb - lvl, q, KIND_BID_LEVEL, 0, ts, tick_px, lots, kind, side)
                if lvl == 0:
                    i = _emit(i, n, t, bb, q, KIND_BID, 0, ts, tick_px, lots, kind, side)
            else:
                aq[lvl] = q
                i = _emit(i, n, t, ba + lvl, q, KIND_ASK_LEVEL, 0, ts, tick_px, lots, kind, side)
                if lvl == 0:
                    i = _emit(i, n, t, ba, q, KIND_ASK, 0, ts, tick_px, lots, kind, side)
    return n_snap
