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

from mmopt.data._synth_book import (
    _add,
    _auction_order,
    _cancel,
    _emit_top,
    _fill_window,
    _set_time,
    _trade,
    _uncross,
)
from mmopt.data._synth_params import (
    N_STATE,
    P_AUCTION_ACT,
    P_BASE,
    P_CLOSE_START,
    P_CRASH_ACT,
    P_CRASH_DEPTH,
    P_CRASH_DUR,
    P_CRASH_LIQ,
    P_CRASH_REC,
    P_CRASH_START,
    P_CRASH_TAU,
    P_CRASH_VOL,
    P_DOWN_RATE,
    P_DRIFT,
    P_H_ALPHA,
    P_H_BETA,
    P_LEVELS,
    P_OPEN_END,
    P_P0T,
    P_RATE_ADD,
    P_RATE_CXL,
    P_RATE_TRADE,
    P_SESSION,
    P_SIG_CALM,
    P_SIG_VOL,
    P_UCURVE,
    P_UP_RATE,
    P_URGENCY,
    P_VOL_ACT,
    S_BEST,
    S_N,
    S_TOP_IDX,
)

__all__ = ["simulate"]


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
def _latent_to(
    prm: np.ndarray, z: np.ndarray, x: float, k: int, t: float, h: float, sig: float,
    drift: float, lo: float, hi: float,
) -> tuple[float, int, float]:
    """Advance the latent log-price to time t over the grid steps of length h passed since step
    k, with standard normals ``z`` (one per step); return (x, k, fair price as a book index)."""
    k_end = min(int(t / h), z.shape[0])
    step_sig = sig * math.sqrt(h)
    while k < k_end:
        x += drift * h + step_sig * z[k]
        k += 1
    c = _crash_offset(prm, t)
    p = prm[P_P0T] * math.exp(x + c) - prm[P_BASE]
    if p < lo or p > hi:  # keep the fair price inside the book arrays (never hit in practice)
        p = min(max(p, lo), hi)
        x = math.log((p + prm[P_BASE]) / prm[P_P0T]) - c
    return x, k, p


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
def _conditions(
    prm: np.ndarray, t: float, regime: int, phase: int
) -> tuple[float, float, float, float]:
    """(activity, volatility per sqrt(s), drift per s, liquidity multiplier) at time t."""
    u = _ucurve(prm, t)
    act = u * (prm[P_VOL_ACT] if regime == 1 else 1.0)
    sig = (prm[P_SIG_VOL] if regime == 1 else prm[P_SIG_CALM]) * math.sqrt(u)
    drift = prm[P_DRIFT] if phase == 1 else 0.0
    if _stressed(prm, t):
        return act * prm[P_CRASH_ACT], sig * prm[P_CRASH_VOL], drift, prm[P_CRASH_LIQ]
    return act, sig, drift, 1.0


@njit(cache=True)
def _rates(
    prm: np.ndarray, s: np.ndarray, pstar: float, act: float, hawkes: float, phase: int
) -> tuple[float, float, float]:
    """Intensities (1/s) of market orders, limit adds and cancels in the current state."""
    if phase != 1:  # auctions: adds and cancels only
        lam_add = prm[P_RATE_ADD] * act * prm[P_AUCTION_ACT]
        return 0.0, lam_add, lam_add * prm[P_RATE_CXL] / prm[P_RATE_ADD]
    edge = max(0.0, pstar - s[S_BEST + 1], s[S_BEST] - pstar)
    spread = s[S_BEST + 1] - s[S_BEST]
    taking = 1.0 / (1.0 + 0.5 * (spread - 1)) + prm[P_URGENCY] * edge
    return prm[P_RATE_TRADE] * act * taking + hawkes, prm[P_RATE_ADD] * act, prm[P_RATE_CXL] * act


@njit(cache=True)
def _end_phase(
    out: np.ndarray, s: np.ndarray, book: np.ndarray, prm: np.ndarray, pstar: float, phase: int,
    liq: float,
) -> None:
    """An auction ends in its uncross; after the opening one the book is topped up."""
    _uncross(out, s, book, prm, pstar)
    if phase == 0:
        for sd in range(2):
            _fill_window(out, s, book, prm, sd, liq, False)
    _emit_top(out, s, book, prm)


@njit(cache=True, nogil=True)  # nogil: generate_dataset makes shards on threads
def simulate(
    out: np.ndarray, prm: np.ndarray, z: np.ndarray, seed: int, t0_ns: int, n_grid: int,
    stop_at: int,
) -> int:
    """Fill ``out`` with one session's rows; return the number of rows the session needs.

    ``z`` holds the standard normal shocks of the latent price, one per grid step of
    ``P_SESSION / len(z)`` seconds (drawn outside, vectorised, from the same day seed).
    If the return value exceeds ``len(out)``, the buffer was too small: call again with a buffer
    of at least that size (the same seed gives the same rows). With ``stop_at`` > 0 the session
    stops after the event that brings the row count to at least ``stop_at``.
    """
    np.random.seed(seed)
    book = np.zeros((2, n_grid), np.int64)
    s = np.zeros(N_STATE, np.int64)
    s[S_TOP_IDX] = s[S_TOP_IDX + 1] = -1
    lo, hi = 3.0 * prm[P_LEVELS] + 2.0, n_grid - 3.0 * prm[P_LEVELS] - 3.0
    x, t, hawkes, k_z, phase = 0.0, 0.0, 0.0, 0, 0
    h = prm[P_SESSION] / z.shape[0]
    switch = (prm[P_UP_RATE], prm[P_DOWN_RATE])  # leaving calm (0), leaving volatile (1)
    regime = 1 if np.random.random() < switch[0] / (switch[0] + switch[1]) else 0
    t_switch = np.random.exponential(1.0 / switch[regime])
    pstar = prm[P_P0T] - prm[P_BASE]
    _set_time(s, prm, t0_ns, 0.0)
    _open_book(out, s, book, prm, pstar)
    ends = (prm[P_OPEN_END], prm[P_CLOSE_START], prm[P_SESSION])
    while phase < 3 and not 0 < stop_at <= s[S_N]:
        act, sig, drift, liq = _conditions(prm, t, regime, phase)
        lam_tr, lam_add, lam_cxl = _rates(prm, s, pstar, act, hawkes, phase)
        lam = lam_tr + lam_add + lam_cxl
        dt = np.random.exponential(1.0 / lam)
        t_next = min(t + dt, t_switch, ends[phase])
        x, k_z, pstar = _latent_to(prm, z, x, k_z, t_next, h, sig, drift, lo, hi)
        hawkes *= math.exp(-prm[P_H_BETA] * (t_next - t))
        t = t_next
        if t == t_switch:  # memoryless rates: switching first and redrawing is exact
            regime = 1 - regime
            t_switch = t + np.random.exponential(1.0 / switch[regime])
            continue
        _set_time(s, prm, t0_ns, t)
        if t == ends[phase]:
            _end_phase(out, s, book, prm, pstar, phase, liq)
            phase += 1
            continue
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
