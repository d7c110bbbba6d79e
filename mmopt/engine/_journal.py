"""One book for two clocks whose rows keep their order: the strategy's book by undoing rows.

When every row's exchange time keeps the rows' local order (``MarketData.ex_in_local_order``,
the synthetic streams and any feed whose latency jitter never reorders rows), the strategy's
book at local time T is the exchange's book without the rows "in flight" at T: those the
exchange has applied (exchange time <= T) but the strategy has not seen yet (local time > T).
Rather than a second book fed with every row again, the kernel then keeps one book and a
journal of the rows in flight:

* before each row the exchange applies, the book's scalars and stale-depth bounds
  (``journal_row``), and the previous size of every level the row changes (``journal_level``,
  ``journal_cut``, ``journal_clear``: a `bid`/`ask` row that removes better levels, a NaN
  price that empties a side);
* the top of the book after a row that changes it (``journal_top``), which the strategy's
  features see at the row's local time (``journal_retire``);
* at a read by the strategy (a decision, an equity sample) at local time T, the rows in flight
  are undone (``local_view``: the level log backwards, then the first such row's scalars) and
  applied again after it (``exchange_view``, the book rules of ``_book.py``).

A row is retired (no longer in flight) once its local time is at or before the exchange time
of the row being applied or the time of a read: every later event is at or after that time.
``journal_alloc`` sizes the journal from the rows' two clocks: at most ``F`` rows are in
flight at once (one pass over the rows), and the level log holds what those rows can change
(one entry per row plus every level stored at the start of the window or set inside it, each
removed at most once per set). docs/engine.md, section "Clocks", gives the rules; the tests
in tests/engine/test_one_book.py check this path against the two-book one, bit for bit.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from mmopt.engine._book import (
    BK_BEST_ASK,
    BK_BEST_BID,
    BK_MAX_ASK,
    BK_MAX_BID,
    BK_MIN_ASK,
    BK_MIN_BID,
    BK_NOV_ASK,
    BK_NOV_BID,
    BK_OV_HIGH_BID,
    BK_OV_LOW_ASK,
    BK_W,
    NO_ASK,
    NO_BID,
    _set_qty,
    clear_asks,
    clear_bids,
    qty_at,
    remove_asks_below,
    remove_bids_above,
    sync_book,
    update_ask,
    update_bid,
)
from mmopt.engine._features import features_on_top
from mmopt.engine._jit import cold, hot
from mmopt.engine._orders import tick_price
from mmopt.engine.market import (
    CODE_ASK_CLEAR,
    CODE_ASK_DEL,
    CODE_ASK_SET,
    CODE_ASK_TOP,
    CODE_ASK_TOP_DEL,
    CODE_BID_CLEAR,
    CODE_BID_DEL,
    CODE_BID_SET,
    CODE_BID_TOP,
    CODE_BID_TOP_DEL,
)

__all__ = [
    "Journal",
    "exchange_view",
    "journal_alloc",
    "journal_clear",
    "journal_cut",
    "journal_level",
    "journal_retire",
    "journal_row",
    "journal_top",
    "local_view",
    "view_for_read",
]

Journal = namedtuple("Journal", ["rows", "tops", "log_at", "log_q", "ptr"])
"""``rows``: per row in flight (slot = row % len): the book's scalars before it (``JR_*``);
``tops``: the top it left for the features (bid price, bid size, ask price, ask size);
``log_at``: (side, relative tick) of each level change, ``log_q`` its previous size (a ring);
``ptr``: ``[first row in flight, log entries written]``."""

# rows[slot, JR_*]
JR_BB = 0
JR_BA = 1
JR_LOWB = 2
JR_HIGHA = 3
JR_MINB = 4
JR_MAXB = 5
JR_MINA = 6
JR_MAXA = 7
JR_TOPB = 8  # stale-depth bounds (tick of the last `bid` / `ask` row)
JR_TOPA = 9
JR_OV_HIGH_BID = 10
JR_OV_LOW_ASK = 11
JR_LOG = 12  # log entries written before the row
JR_TOP = 13  # 1: the row changed the top (``tops`` holds it)
JR_N = 14

P_FIRST = 0  # ptr[P_FIRST]: first row in flight
P_LOG = 1  # ptr[P_LOG]: log entries written so far


@njit(cache=True)
def journal_alloc(ts, ex_ts, sh, w, n_ov, on):
    """The journal for rows ``ts`` (local, shifted by ``sh``) and ``ex_ts`` (exchange, same
    order); a one-slot stub when ``on`` is False (the kernel's other modes)."""
    if not on:
        return Journal(np.zeros((1, JR_N), dtype=np.int64), np.zeros((1, 4)),
                       np.zeros((1, 2), dtype=np.int64), np.zeros(1),
                       np.zeros(2, dtype=np.int64))
    n = ts.shape[0]
    first = 0
    most = 1
    for j in range(n):  # as journal_retire sees it, just before row j is applied
        while first < j and ts[first] + sh <= ex_ts[j]:
            first += 1
        most = max(most, j - first + 1)
    n_rows = _pow2(most + 2)  # powers of two: a slot is an index & (length - 1)
    n_log = _pow2(2 * n_rows + 2 * (w + n_ov) + 64)
    return Journal(np.zeros((n_rows, JR_N), dtype=np.int64), np.zeros((n_rows, 4)),
                   np.zeros((n_log, 2), dtype=np.int64), np.zeros(n_log),
                   np.zeros(2, dtype=np.int64))


@njit(cache=True)
def _pow2(k):
    p = 1
    while p < k:
        p *= 2
    return p


@hot
def journal_row(J, j, bb, ba, lowb, higha, minb, maxb, mina, maxa, topb, topa, bk):
    """Row ``j`` is about to be applied: the book's state before it."""
    s = np.uint64(j & (J.rows.shape[0] - 1))
    r = J.rows
    r[s, JR_BB] = bb
    r[s, JR_BA] = ba
    r[s, JR_LOWB] = lowb
    r[s, JR_HIGHA] = higha
    r[s, JR_MINB] = minb
    r[s, JR_MAXB] = maxb
    r[s, JR_MINA] = mina
    r[s, JR_MAXA] = maxa
    r[s, JR_TOPB] = topb
    r[s, JR_TOPA] = topa
    r[s, JR_OV_HIGH_BID] = bk[BK_OV_HIGH_BID]
    r[s, JR_OV_LOW_ASK] = bk[BK_OV_LOW_ASK]
    r[s, JR_LOG] = J.ptr[P_LOG]
    r[s, JR_TOP] = 0


@hot
def journal_level(J, side, t, prev):
    """The level at relative tick ``t`` of ``side`` (0 bid, 1 ask) had size ``prev``."""
    k = J.ptr[P_LOG]
    s = np.uint64(k & (J.log_q.shape[0] - 1))
    J.log_at[s, 0] = side
    J.log_at[s, 1] = t
    J.log_q[s] = prev
    J.ptr[P_LOG] = k + 1


@cold
def journal_cut(J, bk, B, side, r, far):
    """A `bid` (`ask`) row at ``r`` is about to remove the stored levels above (below) it, up
    to ``far`` (the side's highest bid / lowest ask bound): log those with a size."""
    dense = B[0] if side == 0 else B[1]
    ov_t = B[2] if side == 0 else B[4]
    ov_q = B[3] if side == 0 else B[5]
    w = bk[BK_W]
    if side == 0:
        for k in range(max(r + 1, 0), min(far, w - 1) + 1):
            if dense[k] > 0.0:
                journal_level(J, 0, k, dense[k])
        if bk[BK_NOV_BID] > 0 and bk[BK_OV_HIGH_BID] > r:
            for j in range(ov_t.shape[0]):
                if ov_t[j] > r and ov_q[j] > 0.0:
                    journal_level(J, 0, ov_t[j], ov_q[j])
    else:
        for k in range(max(far, 0), min(r - 1, w - 1) + 1):
            if dense[k] > 0.0:
                journal_level(J, 1, k, dense[k])
        if bk[BK_NOV_ASK] > 0 and bk[BK_OV_LOW_ASK] < r:
            for j in range(ov_t.shape[0]):
                if ov_t[j] != 0 and ov_t[j] < r and ov_q[j] > 0.0:
                    journal_level(J, 1, ov_t[j], ov_q[j])


@cold
def journal_clear(J, bk, B, asks):
    """A NaN-price row is about to empty the bid side (the ask side if ``asks``) of the synced
    book ``bk``: log every level with a size (the dense window and the overflow store)."""
    side = 1 if asks else 0
    lo = bk[BK_MIN_ASK] if asks else bk[BK_MIN_BID]
    hi = bk[BK_MAX_ASK] if asks else bk[BK_MAX_BID]
    dense = B[0] if side == 0 else B[1]
    ov_t = B[2] if side == 0 else B[4]
    ov_q = B[3] if side == 0 else B[5]
    for k in range(max(lo, 0), min(hi, bk[BK_W] - 1) + 1):
        if dense[k] > 0.0:
            journal_level(J, side, k, dense[k])
    if bk[BK_NOV_BID if side == 0 else BK_NOV_ASK] > 0:
        for j in range(ov_q.shape[0]):
            if ov_q[j] > 0.0:
                journal_level(J, side, ov_t[j], ov_q[j])


@hot
def journal_top(J, j, bk, B, fc, ic):
    """Row ``j`` changed the top of the (synced) book: keep it for the features."""
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    s = np.uint64(j & (J.rows.shape[0] - 1))
    bb = bk[BK_BEST_BID]
    ba = bk[BK_BEST_ASK]
    J.tops[s, 0] = tick_price(bb, fc, ic) if bb != NO_BID else np.nan
    J.tops[s, 1] = qty_at(bid, bov_t, bov_q, bk[BK_NOV_BID], bk[BK_W], bb) if bb != NO_BID else 0.0
    J.tops[s, 2] = tick_price(ba, fc, ic) if ba != NO_ASK else np.nan
    J.tops[s, 3] = qty_at(ask, aov_t, aov_q, bk[BK_NOV_ASK], bk[BK_W], ba) if ba != NO_ASK else 0.0
    J.rows[s, JR_TOP] = 1


@hot
def journal_retire(J, fstate, use_feat, ts, sh, t, first, upto):
    """Rows from ``first`` to ``upto`` (exclusive) whose local time is at or before ``t`` leave
    the flight: the strategy's features see the top each of them left, in row order, at its
    local time. Returns the first row still in flight."""
    k = first
    while k < upto and ts[np.uint64(k)] + sh <= t:
        if use_feat:
            s = np.uint64(k & (J.rows.shape[0] - 1))
            if J.rows[s, JR_TOP] == 1:
                tp = J.tops
                features_on_top(fstate, ts[np.uint64(k)] + sh, tp[s, 0], tp[s, 1], tp[s, 2],
                                tp[s, 3])
        k += 1
    return k


@hot
def view_for_read(J, bk, B, fstate, use_feat, ts, sh, t, upto):
    """Before the strategy reads its book at local time ``t`` (rows before ``upto`` applied by
    the exchange): the rows it has seen by ``t`` retired, those still in flight undone. True
    when rows were undone: ``exchange_view`` after the read."""
    first = journal_retire(J, fstate, use_feat, ts, sh, t, J.ptr[P_FIRST], upto)
    J.ptr[P_FIRST] = first
    return first < upto and local_view(J, bk, B, upto)


@cold
def local_view(J, bk, B, upto):
    """The book as the strategy sees it: rows from the first in flight to ``upto`` (exclusive)
    undone. False (nothing changed) when no row is in flight."""
    first = J.ptr[P_FIRST]
    if first >= upto:
        return False
    n_log = J.log_q.shape[0]
    s = first & (J.rows.shape[0] - 1)
    r = J.rows
    k = J.ptr[P_LOG] - 1
    while k >= r[s, JR_LOG]:
        e = k & (n_log - 1)
        if J.log_at[e, 0] == 0:
            _set_qty(B[0], B[2], B[3], bk, BK_NOV_BID, J.log_at[e, 1], J.log_q[e])
        else:
            _set_qty(B[1], B[4], B[5], bk, BK_NOV_ASK, J.log_at[e, 1], J.log_q[e])
        k -= 1
    sync_book(bk, r[s, JR_BB], r[s, JR_BA], r[s, JR_LOWB], r[s, JR_HIGHA], r[s, JR_MINB],
              r[s, JR_MAXB], r[s, JR_MINA], r[s, JR_MAXA])
    bk[BK_OV_HIGH_BID] = r[s, JR_OV_HIGH_BID]
    bk[BK_OV_LOW_ASK] = r[s, JR_OV_LOW_ASK]
    return True


@cold
def exchange_view(J, bk, B, code, rel, qty, upto):
    """Back to the exchange's book after ``local_view``: the rows in flight applied again (the
    book rules only; their queue effects and fills happened when the exchange first saw them,
    and the journal already holds what they change)."""
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    first = J.ptr[P_FIRST]
    s = first & (J.rows.shape[0] - 1)
    topb = J.rows[s, JR_TOPB]
    topa = J.rows[s, JR_TOPA]
    for j in range(first, upto):
        c = code[j]
        r = rel[j]
        q = qty[j]
        if c == CODE_BID_TOP or c == CODE_BID_TOP_DEL:  # noqa: SIM109
            topb = r
            remove_bids_above(bid, bov_t, bov_q, bk, r)
            c = CODE_BID_SET if c == CODE_BID_TOP else CODE_BID_DEL
        elif c == CODE_ASK_TOP or c == CODE_ASK_TOP_DEL:  # noqa: SIM109
            topa = r
            remove_asks_below(ask, aov_t, aov_q, bk, r)
            c = CODE_ASK_SET if c == CODE_ASK_TOP else CODE_ASK_DEL
        elif ((c == CODE_BID_SET or c == CODE_BID_DEL) and r > topb) or (  # noqa: SIM109
                (c == CODE_ASK_SET or c == CODE_ASK_DEL) and r < topa):  # noqa: SIM109
            continue  # stale depth, as the row loops skip it
        if c == CODE_BID_SET or c == CODE_BID_DEL:  # noqa: SIM109
            update_bid(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, c == CODE_BID_DEL)
        elif c == CODE_ASK_SET or c == CODE_ASK_DEL:  # noqa: SIM109
            update_ask(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, c == CODE_ASK_DEL)
        elif c == CODE_BID_CLEAR:
            clear_bids(bid, bov_q, bk)
            topb = NO_BID
        elif c == CODE_ASK_CLEAR:
            clear_asks(ask, aov_q, bk)
            topa = NO_ASK
