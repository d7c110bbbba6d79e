"""Order book operations of the synthetic market kernel (numba): emit rows, add, cancel, trade,
refill, auction orders and the auction uncross. See ``_synth_kernel`` for the model.

The book is an int64 array ``book[side, tick index]`` of lots (side 0 = bids, 1 = asks); the
state vector ``s`` holds the row count, the current timestamps and the best index of each side.

Numba's on-disk cache keys ``_synth_kernel.simulate`` on its own file only: after editing this
file, touch ``_synth_kernel.py`` too (or delete ``mmopt/data/__pycache__``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mmopt.data._schema import (
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
)
from mmopt.data._synth_params import (
    P_ADD_LOTS,
    P_BASE,
    P_DEPTH,
    P_FADE,
    P_IMPROVE,
    P_JIT_NS,
    P_KAPPA,
    P_LAT_NS,
    P_LEVEL_LOGQ,
    P_LEVELS,
    P_LOT,
    P_OVERLAP,
    P_SIZE_SIG,
    P_SWEEP,
    P_TICK,
    P_TOP,
    P_TRADE_LOTS,
    S_BEST,
    S_EX,
    S_N,
    S_TOP_IDX,
    S_TOP_Q,
    S_TS,
)


@njit(cache=True)
def _emit(
    out: np.ndarray,
    s: np.ndarray,
    prm: np.ndarray,
    kind: int,
    side: int,
    idx: int,
    lots: int,
    snap: bool,
) -> None:
    n = s[S_N]
    if n < out.shape[0]:
        r = out[n]
        r.ts_ns = s[S_TS]
        r.exch_ts_ns = s[S_EX]
        r.price = (prm[P_BASE] + idx) * prm[P_TICK]
        r.qty = lots * prm[P_LOT]
        r.level = 0
        r.kind = kind
        r.side = side
        r.is_snapshot = snap
    s[S_N] = n + 1


@njit(cache=True)
def _lots(mean: float, sig: float) -> int:
    """A lognormal size in whole lots (at least one) with the given mean."""
    v = math.exp(math.log(max(mean, 1e-9)) - 0.5 * sig * sig + sig * np.random.standard_normal())
    return max(1, int(v + 0.5))


@njit(cache=True)
def _size(mean: float) -> int:
    """An exponential size in whole lots (at least one) with about the given mean: cheaper than
    ``_lots``, used for the many limit adds."""
    return max(1, int(-mean * math.log(1.0 - np.random.random()) + 0.5))


@njit(cache=True)
def _level(log_q: float, d: int) -> int:
    """A geometric depth rank in 0..d-1 (0 = best); ``log_q`` = log(1 - p)."""
    k = int(math.log(1.0 - np.random.random()) / log_q)
    return k % d


@njit(cache=True)
def _level_kind(sd: int) -> int:
    return KIND_BID_LEVEL if sd == 0 else KIND_ASK_LEVEL


@njit(cache=True)
def _set_time(s: np.ndarray, prm: np.ndarray, t0_ns: int, t: float) -> None:
    ex = t0_ns + np.int64(t * 1e9)
    lat = np.int64(prm[P_LAT_NS] + 2.0 * prm[P_JIT_NS] * np.random.random())
    s[S_EX] = ex
    s[S_TS] = max(s[S_TS], ex + lat)


@njit(cache=True)
def _fill_window(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    sd: int,
    liq: float,
    snap: bool,
) -> None:
    """Give every empty tick among the best D of side ``sd`` fresh resting size."""
    d = int(prm[P_LEVELS])
    step = -1 if sd == 0 else 1
    b = s[S_BEST + sd]
    for k in range(d):
        j = b + step * k
        if j < 0 or j >= book.shape[1]:
            break
        if book[sd, j] == 0:
            book[sd, j] = _lots(prm[P_DEPTH] * (0.5 + 0.1 * k) * liq, prm[P_SIZE_SIG])
            _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, book[sd, j], snap)


@njit(cache=True)
def _retreat(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    sd: int,
    liq: float,
) -> None:
    """The best level of side ``sd`` is empty: move the best one tick deeper or more."""
    step = -1 if sd == 0 else 1
    j = s[S_BEST + sd] + step
    while 0 < j < book.shape[1] - 1 and book[sd, j] == 0:
        j += step
    s[S_BEST + sd] = j
    _fill_window(out, s, book, prm, sd, liq, False)


@njit(cache=True)
def _emit_top(out: np.ndarray, s: np.ndarray, book: np.ndarray, prm: np.ndarray) -> None:
    if prm[P_TOP] == 0.0:
        return
    for sd in range(2):
        b = s[S_BEST + sd]
        q = book[sd, b]
        if b != s[S_TOP_IDX + sd] or q != s[S_TOP_Q + sd]:
            _emit(out, s, prm, KIND_BID if sd == 0 else KIND_ASK, SIDE_NONE, b, q, False)
            s[S_TOP_IDX + sd] = b
            s[S_TOP_Q + sd] = q


@njit(cache=True)
def _trade(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    pstar: float,
    liq: float,
) -> None:
    """A market order at the best bid or ask; informed ones lean to the fair price."""
    gap = pstar - 0.5 * (s[S_BEST] + s[S_BEST + 1])
    buy = np.random.random() < 1.0 / (1.0 + math.exp(-prm[P_KAPPA] * gap))
    sd = 1 if buy else 0  # the side that is hit
    j = s[S_BEST + sd]
    edge = pstar - j if buy else j - pstar  # how far the fair price lies beyond the quote
    avail = book[sd, j]
    size = _lots(prm[P_TRADE_LOTS], prm[P_SIZE_SIG])
    if edge > 0.0 and np.random.random() < min(0.9, prm[P_SWEEP] * edge):
        size = avail
    size = min(size, avail)
    _emit(out, s, prm, KIND_TRADE, SIDE_BUY if buy else SIDE_SELL, j, size, False)
    book[sd, j] = avail - size
    _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, book[sd, j], False)
    if book[sd, j] == 0:
        _retreat(out, s, book, prm, sd, liq)


@njit(cache=True)
def _add(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    pstar: float,
    liq: float,
) -> None:
    """A limit order: steps into a wide spread (towards the fair price) or joins a level.

    Adds lean to the side the fair price has moved towards; a step into the spread goes one tick,
    or half-way to the fair price when it is far away (then the ticks passed over are filled).
    """
    gap = pstar - 0.5 * (s[S_BEST] + s[S_BEST + 1])
    sd = 0 if np.random.random() < 0.5 + min(max(0.125 * gap, -0.45), 0.45) else 1
    lean = gap if sd == 0 else -gap
    step = -1 if sd == 0 else 1
    bb, ba = s[S_BEST], s[S_BEST + 1]
    spread = ba - bb
    if spread > 1 and np.random.random() < (
        (1.0 - (1.0 - prm[P_IMPROVE]) ** (spread - 1)) * math.exp(min(max(lean, -3.0), 1.0))
    ):
        if sd == 0:
            j = max(bb + 1, min(ba - 1, bb + (np.int64(math.floor(pstar)) - bb) // 2))
        else:
            j = min(ba - 1, max(bb + 1, ba - (ba - np.int64(math.ceil(pstar))) // 2))
        book[sd, j] = _size(prm[P_ADD_LOTS] * 2.0 * liq)
        s[S_BEST + sd] = j
        _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, book[sd, j], False)
        if abs(j - (bb if sd == 0 else ba)) > 1:
            _fill_window(out, s, book, prm, sd, liq, False)
        return
    k = _level(prm[P_LEVEL_LOGQ], int(prm[P_LEVELS]))
    j = s[S_BEST + sd] + step * k
    book[sd, j] += _size(prm[P_ADD_LOTS] * (0.5 + 0.1 * k) * liq)
    _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, book[sd, j], False)


@njit(cache=True)
def _cancel(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    pstar: float,
    liq: float,
) -> None:
    """A cancel: a stale best quote may be pulled whole, otherwise a level shrinks (>= 1 lot)."""
    sd = 0 if np.random.random() < 0.5 else 1
    step = -1 if sd == 0 else 1
    k = _level(prm[P_LEVEL_LOGQ], int(prm[P_LEVELS]))
    j = s[S_BEST + sd] + step * k
    q = book[sd, j]
    stale = j - pstar if sd == 0 else pstar - j  # the fair price lies beyond the quote
    if k == 0 and stale > 0.0 and np.random.random() < min(0.9, prm[P_FADE] * stale):
        book[sd, j] = 0
        _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, 0, False)
        _retreat(out, s, book, prm, sd, liq)
        return
    new_q = max(1, q - math.ceil(q * 0.5 * np.random.random()))
    if new_q != q:
        book[sd, j] = new_q
        _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, new_q, False)


@njit(cache=True)
def _auction_order(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    pstar: float,
    liq: float,
) -> None:
    """Auction: an add around the fair price (may cross) or a cancel that keeps >= 1 lot."""
    sd = 0 if np.random.random() < 0.5 else 1
    step = -1 if sd == 0 else 1
    d = int(prm[P_LEVELS])
    k = _level(prm[P_LEVEL_LOGQ], d)
    if np.random.random() < 0.6:
        j = round(pstar) - step * int(prm[P_OVERLAP]) + step * k
        j = min(max(j, 1), book.shape[1] - 2)
        book[sd, j] += _size(prm[P_ADD_LOTS] * (0.5 + 0.1 * k) * liq)
        if (sd == 0 and j > s[S_BEST]) or (sd == 1 and j < s[S_BEST + 1]):
            s[S_BEST + sd] = j
    else:
        j = s[S_BEST + sd] + step * k
        q = book[sd, j]
        if q <= 1:
            return
        book[sd, j] = max(1, q - math.ceil(q * 0.5 * np.random.random()))
    _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, book[sd, j], False)


@njit(cache=True)
def _clearing_index(book: np.ndarray, bb: int, ba: int, pstar: float) -> tuple[int, int]:
    """The price (index) maximising matched volume; ties: least imbalance, then nearest fair."""
    m = bb - ba + 1
    dem = np.zeros(m, np.int64)
    sup = np.zeros(m, np.int64)
    acc = np.int64(0)
    for i in range(m - 1, -1, -1):
        acc += book[0, ba + i]
        dem[i] = acc
    acc = np.int64(0)
    for i in range(m):
        acc += book[1, ba + i]
        sup[i] = acc
    best = 0
    for i in range(1, m):
        v, vb = min(dem[i], sup[i]), min(dem[best], sup[best])
        imb, imbb = abs(dem[i] - sup[i]), abs(dem[best] - sup[best])
        if v > vb or (v == vb and imb < imbb) or (
            v == vb and imb == imbb and abs(ba + i - pstar) < abs(ba + best - pstar)
        ):
            best = i
    return ba + best, min(dem[best], sup[best])


@njit(cache=True)
def _uncross(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    pstar: float,
) -> None:
    """End of an auction: one print at the clearing price, then the matched size leaves."""
    bb, ba = s[S_BEST], s[S_BEST + 1]
    if bb < ba:
        return
    px, vol = _clearing_index(book, bb, ba, pstar)
    _emit(out, s, prm, KIND_TRADE, SIDE_NONE, px, vol, False)
    for sd in range(2):
        step = -1 if sd == 0 else 1
        j = s[S_BEST + sd]
        rem = vol
        while rem > 0:
            q = book[sd, j]
            if q > 0:
                take = min(q, rem)
                book[sd, j] = q - take
                rem -= take
                _emit(out, s, prm, _level_kind(sd), SIDE_NONE, j, book[sd, j], False)
            j += step
        j = s[S_BEST + sd]
        while 0 < j < book.shape[1] - 1 and book[sd, j] == 0:
            j += step
        s[S_BEST + sd] = j
