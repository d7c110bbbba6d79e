"""The numba kernel of the synthetic market: one (security, day) as rows of ``EVENT_DTYPE``.

Model, in one paragraph: a latent "fair" log-price diffuses with a volatility that switches
between a calm and a volatile regime (a two-state Markov chain), plus an optional drift
(``trending``) and a deterministic fall-and-recovery (``flash_crash``). Order flow arrives as a
state-dependent point process: limit adds and cancels at a rate following an intraday U-curve
and the regime, and market orders at a rate that also grows with the gap between the fair price
and the mid and with a Hawkes-like excitation from past trades (clustering). Market orders hit
the best bid or ask only, with a side that leans towards the fair price; informed ones clear the
whole best level. Quotes on the stale side fade, the other side steps into the spread, so the
mid follows the fair price on the tick grid. The book lives in two integer arrays of lots (one
per side, indexed by tick); during continuous trading the best ``D`` ticks of each side are
always populated and the book is never locked or crossed. Auctions accept adds and cancels that
may cross and end with one uncross trade at the volume-maximising price.

Numbers are in the kernel's units: prices as tick indices into the book arrays (absolute tick =
``P_BASE`` + index), sizes as integer lots, times in seconds from the session start.
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

# --- indices into the float64 parameter vector -------------------------------------------------
P_TICK = 0  # tick size (price units)
P_LOT = 1  # lot size (quantity units)
P_BASE = 2  # absolute tick index of book index 0
P_P0T = 3  # latent price at the open, in absolute ticks
P_OPEN_END = 4  # end of the opening auction (s from session start)
P_CLOSE_START = 5  # start of the closing auction
P_SESSION = 6  # session length
P_SIG_CALM = 7  # log-vol per sqrt(s), calm regime
P_SIG_VOL = 8  # log-vol per sqrt(s), volatile regime
P_UP_RATE = 9  # calm -> volatile switch rate (1/s)
P_DOWN_RATE = 10  # volatile -> calm switch rate (1/s)
P_VOL_ACT = 11  # activity multiplier in the volatile regime
P_RATE_ADD = 12  # limit add rate (1/s) at activity 1
P_RATE_CXL = 13  # cancel rate
P_RATE_TRADE = 14  # baseline market order rate
P_AUCTION_ACT = 15  # activity multiplier during auctions
P_H_ALPHA = 16  # Hawkes jump of the trade intensity per trade (1/s)
P_H_BETA = 17  # Hawkes decay rate (1/s)
P_KAPPA = 18  # how strongly the aggressor side leans to the fair price (per tick)
P_URGENCY = 19  # extra trade rate per tick of fair-price gap
P_SWEEP = 20  # probability per tick of gap that an informed order clears the best level
P_IMPROVE = 21  # probability that an add steps into a spread wider than one tick
P_FADE = 22  # probability per tick of gap that a stale best quote is pulled
P_DEPTH = 23  # mean resting lots at the best level (deeper levels hold more)
P_ADD_LOTS = 24  # mean lots of a limit add at the best level
P_TRADE_LOTS = 25  # mean lots of a market order
P_SIZE_SIG = 26  # lognormal dispersion of sizes
P_LEVEL_LOGQ = 27  # log(1 - p), p: geometric parameter of the level an add / cancel goes to
P_DRIFT = 28  # log drift per second (continuous session)
P_CRASH_START = 29  # flash crash: start (s)
P_CRASH_DUR = 30  # duration of the fall (s)
P_CRASH_DEPTH = 31  # log drop (0 = no crash)
P_CRASH_REC = 32  # share recovered
P_CRASH_TAU = 33  # recovery time constant (s)
P_CRASH_ACT = 34  # activity multiplier during the stress window
P_CRASH_VOL = 35  # volatility multiplier during the stress window
P_CRASH_LIQ = 36  # size multiplier of resting liquidity during the stress window
P_UCURVE = 37  # amplitude of the intraday U-shape of activity (0 = flat)
P_LAT_NS = 38  # base feed latency (ns)
P_JIT_NS = 39  # mean extra latency (ns, uniform)
P_OVERLAP = 40  # auction: how many ticks orders reach past the fair price
P_LEVELS = 41  # D: populated levels per side
P_TOP = 42  # 1.0: emit bid/ask top-of-book rows when the best changes
N_PARAMS = 43

# --- indices into the int64 state vector ------------------------------------------------------
S_N = 0  # rows emitted so far (may exceed the buffer: the caller retries with a larger one)
S_TS = 1  # local receive time of the current event (ns)
S_EX = 2  # exchange time of the current event (ns)
S_BEST = 3  # best bid index; S_BEST + 1 = best ask index
S_TOP_IDX = 5  # last emitted top-of-book price index, bid then ask
S_TOP_Q = 7  # last emitted top-of-book lots, bid then ask
N_STATE = 9


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


@njit(cache=True)
def _crash_offset(prm: np.ndarray, t: float) -> float:
    """Log-price offset of the flash crash at time t: a linear fall, then an exponential rebound."""
    depth = prm[P_CRASH_DEPTH]
    t_s, dur = prm[P_CRASH_START], prm[P_CRASH_DUR]
    if depth == 0.0 or t < t_s:
        return 0.0
    if t < t_s + dur:
        return -depth * (t - t_s) / dur
    return -depth * (1.0 - prm[P_CRASH_REC] * (1.0 - math.exp(-(t - t_s - dur) / prm[P_CRASH_TAU])))


@njit(cache=True)
def _stressed(prm: np.ndarray, t: float) -> bool:
    """Inside the flash crash's stress window (the fall and two recovery time constants)."""
    t_s = prm[P_CRASH_START]
    return prm[P_CRASH_DEPTH] != 0.0 and t_s <= t < t_s + prm[P_CRASH_DUR] + 2.0 * prm[P_CRASH_TAU]


@njit(cache=True)
def _ucurve(prm: np.ndarray, t: float) -> float:
    z = 2.0 * t / prm[P_SESSION] - 1.0
    return 1.0 + prm[P_UCURVE] * (3.0 * z * z - 1.0)


@njit(cache=True)
def _latent_step(
    prm: np.ndarray, x: float, t: float, dt: float, sig: float, drift: float, lo: float, hi: float
) -> tuple[float, float]:
    """Advance the latent log-price by dt; return (x, fair price as a book index)."""
    x += drift * dt + sig * math.sqrt(dt) * np.random.standard_normal()
    c = _crash_offset(prm, t + dt)
    p = prm[P_P0T] * math.exp(x + c) - prm[P_BASE]
    if p < lo or p > hi:  # keep the fair price inside the book arrays (never hit in practice)
        p = min(max(p, lo), hi)
        x = math.log((p + prm[P_BASE]) / prm[P_P0T]) - c
    return x, p


@njit(cache=True)
def _open_book(
    out: np.ndarray,
    s: np.ndarray,
    book: np.ndarray,
    prm: np.ndarray,
    pstar: float,
) -> None:
    """The initial snapshot: D levels per side around the fair price, two ticks wide."""
    c = np.int64(round(pstar))
    s[S_BEST] = c - 1
    s[S_BEST + 1] = c + 1
    for sd in range(2):
        _fill_window(out, s, book, prm, sd, 1.0, True)
    _emit_top(out, s, book, prm)


@njit(cache=True)
def simulate(
    out: np.ndarray, prm: np.ndarray, seed: int, t0_ns: int, n_grid: int, stop_at: int
) -> int:
    """Fill ``out`` with one session's rows; return the number of rows the session needs.

    If the return value exceeds ``len(out)``, the buffer was too small: call again with a buffer
    of at least that size (the same seed gives the same rows). With ``stop_at`` > 0 the session
    stops after the event that brings the row count to at least ``stop_at``.
    """
    np.random.seed(seed)
    book = np.zeros((2, n_grid), np.int64)
    s = np.zeros(N_STATE, np.int64)
    s[S_TOP_IDX] = s[S_TOP_IDX + 1] = -1
    d = int(prm[P_LEVELS])
    lo, hi = 3.0 * d + 2.0, n_grid - 3.0 * d - 3.0
    x, t, hawkes = 0.0, 0.0, 0.0
    up, down = prm[P_UP_RATE], prm[P_DOWN_RATE]
    regime = 1 if np.random.random() < up / (up + down) else 0
    t_switch = np.random.exponential(1.0 / (down if regime == 1 else up))
    pstar = prm[P_P0T] - prm[P_BASE]
    _set_time(s, prm, t0_ns, 0.0)
    _open_book(out, s, book, prm, pstar)
    phase = 0
    ends = (prm[P_OPEN_END], prm[P_CLOSE_START], prm[P_SESSION])
    while phase < 3:
        if 0 < stop_at <= s[S_N]:
            break
        stress = _stressed(prm, t)
        u = _ucurve(prm, t)
        act = u * (prm[P_VOL_ACT] if regime == 1 else 1.0)
        sig = (prm[P_SIG_VOL] if regime == 1 else prm[P_SIG_CALM]) * math.sqrt(u)
        drift = prm[P_DRIFT] if phase == 1 else 0.0
        liq = 1.0
        if stress:
            act *= prm[P_CRASH_ACT]
            sig *= prm[P_CRASH_VOL]
            liq = prm[P_CRASH_LIQ]
        if phase == 1:
            edge = max(0.0, pstar - s[S_BEST + 1], s[S_BEST] - pstar)
            spread = s[S_BEST + 1] - s[S_BEST]
            taking = 1.0 / (1.0 + 0.5 * (spread - 1)) + prm[P_URGENCY] * edge
            lam_tr = prm[P_RATE_TRADE] * act * taking + hawkes
            lam_add = prm[P_RATE_ADD] * act
        else:
            lam_tr = 0.0
            lam_add = prm[P_RATE_ADD] * act * prm[P_AUCTION_ACT]
        lam_cxl = lam_add * prm[P_RATE_CXL] / prm[P_RATE_ADD]
        lam = lam_tr + lam_add + lam_cxl
        dt = np.random.exponential(1.0 / lam)
        t_stop = min(t_switch, ends[phase])
        if t + dt >= t_stop:  # a regime switch or the end of a phase comes first
            x, pstar = _latent_step(prm, x, t, t_stop - t, sig, drift, lo, hi)
            hawkes *= math.exp(-prm[P_H_BETA] * (t_stop - t))
            t = t_stop
            if t_switch <= ends[phase]:
                regime = 1 - regime
                t_switch = t + np.random.exponential(1.0 / (down if regime == 1 else up))
            else:
                _set_time(s, prm, t0_ns, t)
                _uncross(out, s, book, prm, pstar)
                phase += 1
                if phase == 1:
                    for sd in range(2):
                        _fill_window(out, s, book, prm, sd, liq, False)
                _emit_top(out, s, book, prm)
            continue
        x, pstar = _latent_step(prm, x, t, dt, sig, drift, lo, hi)
        hawkes *= math.exp(-prm[P_H_BETA] * dt)
        t += dt
        _set_time(s, prm, t0_ns, t)
        pick = np.random.random() * lam
        if phase != 1:
            _auction_order(out, s, book, prm, pstar, liq)
        elif pick < lam_tr:
            _trade(out, s, book, prm, pstar, liq)
            hawkes += prm[P_H_ALPHA]
        elif pick < lam_tr + lam_add:
            _add(out, s, book, prm, pstar, liq)
        else:
            _cancel(out, s, book, prm, pstar, liq)
        _emit_top(out, s, book, prm)
    return s[S_N]
