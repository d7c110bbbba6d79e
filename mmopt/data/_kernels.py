"""numba kernels of the loader: one pass to check every row, one pass to pack the records.

``check_rows`` returns, per check, the first offending row (-1 if none) and how many rows fail
it; ``mmopt.data.validate`` turns that into a DataError message. ``EVENT_DTYPE`` is a packed
(unaligned, 39-byte) record, for which numpy's field-by-field assignment is several times
slower than ``pack_events``' single pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "CHECK_EXCH_TS_NEGATIVE",
    "CHECK_KIND",
    "CHECK_LEVEL",
    "CHECK_OFF_TICK",
    "CHECK_PRICE",
    "CHECK_QTY_NEGATIVE",
    "CHECK_QTY_NOT_FINITE",
    "CHECK_SIDE",
    "CHECK_TS_DECREASING",
    "CHECK_TS_NEGATIVE",
    "N_CHECKS",
    "check_rows",
    "pack_events",
]

# Check ids, in the order their errors are reported.
CHECK_TS_NEGATIVE = 0
CHECK_TS_DECREASING = 1
CHECK_EXCH_TS_NEGATIVE = 2
CHECK_KIND = 3
CHECK_SIDE = 4
CHECK_LEVEL = 5
CHECK_QTY_NOT_FINITE = 6
CHECK_QTY_NEGATIVE = 7
CHECK_PRICE = 8
CHECK_OFF_TICK = 9
N_CHECKS = 10

_EPS = float(np.finfo(np.float64).eps)


@njit(cache=True, nogil=True)
def _note(first, count, check, i):  # type: ignore[no-untyped-def]
    if count[check] == 0:
        first[check] = i
    count[check] += 1


@njit(cache=True, nogil=True)
def _check(ts, exch_ts, price, qty, level, kind, side, tick, first, count):  # type: ignore[no-untyped-def]
    prev = ts[0] if ts.shape[0] else 0
    for i in range(ts.shape[0]):
        t = ts[i]
        if t < 0:
            _note(first, count, CHECK_TS_NEGATIVE, i)
        if t < prev:
            _note(first, count, CHECK_TS_DECREASING, i)
        prev = t
        if exch_ts[i] < -1:
            _note(first, count, CHECK_EXCH_TS_NEGATIVE, i)
        k = kind[i]
        if k < 1 or k > 5:
            _note(first, count, CHECK_KIND, i)
        s = side[i]
        if s != 0 and s != 1 and s != -1:
            _note(first, count, CHECK_SIDE, i)
        if level[i] < 0:
            _note(first, count, CHECK_LEVEL, i)
        q = qty[i]
        if not np.isfinite(q):
            _note(first, count, CHECK_QTY_NOT_FINITE, i)
        elif q < 0:
            _note(first, count, CHECK_QTY_NEGATIVE, i)
        p = price[i]
        if np.isnan(p):
            if k != 1 and k != 2:  # NaN is an empty side, only on bid/ask rows
                _note(first, count, CHECK_PRICE, i)
        elif not (p > 0) or np.isinf(p):
            _note(first, count, CHECK_PRICE, i)
        elif tick > 0 and k != 3:  # trades may print between ticks (midpoint/hidden executions)
            r = p / tick
            if abs(r - np.floor(r + 0.5)) > 1e-6 + 4.0 * _EPS * r:
                _note(first, count, CHECK_OFF_TICK, i)


def check_rows(
    ts: np.ndarray,
    exch_ts: np.ndarray,
    price: np.ndarray,
    qty: np.ndarray,
    level: np.ndarray,
    kind: np.ndarray,
    side: np.ndarray,
    tick: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(first offending row or -1, number of offending rows) per check; tick <= 0 skips it."""
    first = np.full(N_CHECKS, -1, dtype=np.int64)
    count = np.zeros(N_CHECKS, dtype=np.int64)
    _check(ts, exch_ts, price, qty, level, kind, side, float(tick), first, count)
    return first, count


@njit(cache=True, nogil=True)
def _pack(out, ts, exch_ts, price, qty, level, kind, side, is_snapshot):  # type: ignore[no-untyped-def]
    for i in range(ts.shape[0]):
        rec = out[i]
        rec.ts_ns = ts[i]
        rec.exch_ts_ns = exch_ts[i]
        rec.price = price[i]
        rec.qty = qty[i]
        rec.level = level[i]
        rec.kind = kind[i]
        rec.side = side[i]
        rec.is_snapshot = is_snapshot[i]


def pack_events(
    out: np.ndarray,
    ts: np.ndarray,
    exch_ts: np.ndarray,
    price: np.ndarray,
    qty: np.ndarray,
    level: np.ndarray,
    kind: np.ndarray,
    side: np.ndarray,
    is_snapshot: np.ndarray,
) -> np.ndarray:
    """Fill ``out`` (``EVENT_DTYPE``, same length as the columns) and return it."""
    _pack(out, ts, exch_ts, price, qty, level, kind, side, is_snapshot)
    return out
