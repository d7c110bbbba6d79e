"""The second benchmark stream: a shallow book with a one-tick spread most of the time.

Shape (unlike ``mmopt.data.synth``'s 20-level book): ``levels`` price levels per side (default
3), price-keyed ``bid_level`` / ``ask_level`` rows only (a size of 0 removes a level), about
10 % trade rows. A trade hits the best bid (aggressor ``sell``) or lifts the best ask (``buy``)
and is followed by the level update at that price; when it empties the touch, the level goes,
the spread opens to two ticks and a new deep level appears; an "improve" event soon fills the
gap on either side, so the price walks and the spread is back to one tick. The other rows are
size changes at a random level. One clock (``exch_ts_ns`` = ``ts_ns``). Seeded: same arguments,
same rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK_LEVEL,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_SELL,
    Instrument,
)

__all__ = ["ONE_TICK_INSTRUMENT", "one_tick_events"]

ONE_TICK_INSTRUMENT = Instrument(
    security="bench.ONETICK",
    tick_size=0.01,
    lot_size=1.0,
    contract_type="linear",
    contract_size=1.0,
    quote_currency="USD",
    maker_fee_bps=-0.2,
    taker_fee_bps=0.5,
)


def one_tick_events(n_rows: int, seed: int = 11, levels: int = 3,
                    trade_event_share: float = 0.11, improve_share: float = 0.35,
                    mean_gap_ns: int = 2_000_000,
                    start_ns: int = 1_723_161_600_000_000_000) -> np.ndarray:
    """``n_rows`` rows of ``EVENT_DTYPE``, sorted by ``ts_ns`` (see the module doc)."""
    if n_rows < 2 * levels + 1:
        raise ValueError(f"n_rows must be >= {2 * levels + 1}, got {n_rows}")
    ts = np.empty(n_rows, np.int64)
    tick = np.empty(n_rows, np.int64)
    lots = np.empty(n_rows, np.int64)
    kind = np.empty(n_rows, np.int8)
    side = np.empty(n_rows, np.int8)
    _generate(n_rows, seed, levels, trade_event_share, improve_share, mean_gap_ns, start_ns,
              ts, tick, lots, kind, side)
    out = np.zeros(n_rows, dtype=EVENT_DTYPE)
    out["ts_ns"] = ts
    out["exch_ts_ns"] = ts
    out["price"] = tick * ONE_TICK_INSTRUMENT.tick_size
    out["qty"] = lots * ONE_TICK_INSTRUMENT.lot_size
    out["kind"] = kind
    out["side"] = side
    out["is_snapshot"][: 2 * levels] = True
    return out


@njit(cache=True)
def _put(i, t, px, q, k, s, ts, tick, lots, kind, side):  # type: ignore[no-untyped-def]
    if i < len(ts):
        ts[i] = t
        tick[i] = px
        lots[i] = q
        kind[i] = k
        side[i] = s
    return i + 1


@njit(cache=True)
def _generate(n, seed, levels, p_trade, p_improve, gap, t,  # type: ignore[no-untyped-def]
              ts, tick, lots, kind, side):
    np.random.seed(seed)
    bid = 10_000  # best bid tick; asks from ask = bid + 1
    ask = bid + 1
    bsz = np.empty(levels, np.int64)  # size at bid - l / ask + l, l = 0..levels-1
    asz = np.empty(levels, np.int64)
    i = 0
    for lv in range(levels):
        bsz[lv] = np.random.randint(5, 40)
        asz[lv] = np.random.randint(5, 40)
        i = _put(i, t, bid - lv, bsz[lv], KIND_BID_LEVEL, 0, ts, tick, lots, kind, side)
        i = _put(i, t, ask + lv, asz[lv], KIND_ASK_LEVEL, 0, ts, tick, lots, kind, side)
    while i < n:
        t += 1 + int(np.random.exponential(gap))
        u = np.random.random()
        if ask - bid > 1 and u < p_improve:  # fill the gap: a new touch on a random side
            q = np.random.randint(1, 20)
            if np.random.random() < 0.5:
                i = _put(i, t, bid - (levels - 1), 0, KIND_BID_LEVEL, 0, ts, tick, lots, kind,
                         side)
                for lv in range(levels - 1, 0, -1):
                    bsz[lv] = bsz[lv - 1]
                bid += 1
                bsz[0] = q
                i = _put(i, t, bid, q, KIND_BID_LEVEL, 0, ts, tick, lots, kind, side)
            else:
                i = _put(i, t, ask + (levels - 1), 0, KIND_ASK_LEVEL, 0, ts, tick, lots, kind,
                         side)
                for lv in range(levels - 1, 0, -1):
                    asz[lv] = asz[lv - 1]
                ask -= 1
                asz[0] = q
                i = _put(i, t, ask, q, KIND_ASK_LEVEL, 0, ts, tick, lots, kind, side)
        elif np.random.random() < p_trade:  # a trade at the touch, then the level's new size
            q = np.random.randint(1, 8)
            if np.random.random() < 0.5:  # buyer lifts the ask
                q = min(q, asz[0])
                i = _put(i, t, ask, q, KIND_TRADE, SIDE_BUY, ts, tick, lots, kind, side)
                asz[0] -= q
                i = _put(i, t, ask, asz[0], KIND_ASK_LEVEL, 0, ts, tick, lots, kind, side)
                if asz[0] == 0:
                    for lv in range(levels - 1):
                        asz[lv] = asz[lv + 1]
                    ask += 1
                    asz[levels - 1] = np.random.randint(5, 40)
                    i = _put(i, t, ask + levels - 1, asz[levels - 1], KIND_ASK_LEVEL, 0, ts,
                             tick, lots, kind, side)
            else:  # seller hits the bid
                q = min(q, bsz[0])
                i = _put(i, t, bid, q, KIND_TRADE, SIDE_SELL, ts, tick, lots, kind, side)
                bsz[0] -= q
                i = _put(i, t, bid, bsz[0], KIND_BID_LEVEL, 0, ts, tick, lots, kind, side)
                if bsz[0] == 0:
                    for lv in range(levels - 1):
                        bsz[lv] = bsz[lv + 1]
                    bid -= 1
                    bsz[levels - 1] = np.random.randint(5, 40)
                    i = _put(i, t, bid - (levels - 1), bsz[levels - 1], KIND_BID_LEVEL, 0, ts,
                             tick, lots, kind, side)
        else:  # a size change at a random level
            lv = np.random.randint(0, levels)
            q = np.random.randint(1, 40)
            if np.random.random() < 0.5:
                bsz[lv] = q
                i = _put(i, t, bid - lv, q, KIND_BID_LEVEL, 0, ts, tick, lots, kind, side)
            else:
                asz[lv] = q
                i = _put(i, t, ask + lv, q, KIND_ASK_LEVEL, 0, ts, tick, lots, kind, side)
    return i
