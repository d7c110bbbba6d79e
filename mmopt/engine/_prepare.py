"""One pass over a shard's rows: integer ticks and the kernel's row codes (numba)."""

from __future__ import annotations

import math

from numba import njit

KIND_BID = 1
KIND_ASK = 2
KIND_TRADE = 3
KIND_BID_LEVEL = 4
KIND_ASK_LEVEL = 5


@njit(cache=True)
def round_half_away(x):
    """Rust's f64::round (half away from zero), exact: x - trunc(x) has no rounding error."""
    t = math.trunc(x)
    f = x - t
    if f >= 0.5:
        return t + 1.0
    if f <= -0.5:
        return t - 1.0
    return t


@njit(cache=True)
def encode_rows(kind, side, price, qty, tick_size, lot_size, codes, ticks):
    """Fill ``codes`` (see market.CODE_*) and ``ticks``; returns (min, max) tick of the touch and
    trade rows (the dense window's core), or (1, 0) when there are none."""
    lo = 2**62
    hi = -(2**62)
    for i in range(kind.shape[0]):
        k = kind[i]
        p = price[i]
        if not math.isfinite(p):
            ticks[i] = 0
            codes[i] = 7 if k == KIND_BID else 8 if k == KIND_ASK else 0
            continue
        t = int(round_half_away(p / tick_size))
        ticks[i] = t
        if k == KIND_TRADE:
            s = side[i]
            codes[i] = 5 if s == 1 else 6 if s == -1 else 0
        else:
            remove = qty[i] / lot_size < 0.5
            if k == KIND_BID:
                codes[i] = 11 if remove else 9
            elif k == KIND_ASK:
                codes[i] = 12 if remove else 10
            elif k == KIND_BID_LEVEL:
                codes[i] = 3 if remove else 1
            else:
                codes[i] = 4 if remove else 2
        if k <= KIND_TRADE and codes[i] != 0:
            lo = min(lo, t)
            hi = max(hi, t)
    if lo > hi:
        return 1, 0
    return lo, hi
