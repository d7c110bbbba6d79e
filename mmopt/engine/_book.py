"""Local L2 book on the tick grid (numba).

A dense window of ``W`` ticks per side (index = tick - base, "relative ticks") plus an
overflow store for the levels outside the window: an open-addressing hash table (capacity a
power of two, at least twice the shard's distinct outside ticks; slot key = tick & (capacity -
1), linear probing; key 0 marks an empty slot, as tick 0 is always inside the window).
Best-price rules are those of hftbacktest's HashMapMarketDepth (see docs/engine.md, Book):
* a level update sets the level (qty >= lot/2) or removes it;
* removing the best level rescans towards the far side, down to the lowest bid ever inserted;
* a better price becomes best at once; if it crosses the other side, the other best moves past
  it (the crossed levels stay stored but hidden).

State lives in ``bk`` (int64[BK_SIZE]) and the qty arrays; every function mutates in place.
"""

from __future__ import annotations

import numpy as np

from mmopt.engine._jit import cold, hot
from mmopt.engine._named import layout_from_constants

NO_BID = np.int64(-(2**62))  # best bid of an empty side (hftbacktest: INVALID_MIN)
NO_ASK = np.int64(2**62)  # best ask of an empty side (INVALID_MAX)

BK_BEST_BID = 0
BK_BEST_ASK = 1
BK_LOW_BID = 2  # lowest bid tick inserted since the side was last empty (scan bound)
BK_HIGH_ASK = 3
BK_MAX_BID = 4  # highest / lowest bid tick stored since the side was cleared (for clearing)
BK_MIN_ASK = 5
BK_W = 6  # window length
BK_NOV_BID = 7  # overflow entries used
BK_NOV_ASK = 8
BK_MIN_BID = 9
BK_MAX_ASK = 10
BK_OV_HIGH_BID = 11  # highest overflow bid tick stored with qty > 0 since last cut (a bound)
BK_OV_LOW_ASK = 12
BK_SIZE = 13
# the same slots by name in compiled code: ``bk.best_bid`` is ``bk[BK_BEST_BID]``
BOOK = layout_from_constants("Book", np.int64, globals(), {"BK_": ""}, "BK_SIZE",
                             rename={"BK_W": "window"})
as_book = BOOK.view


@hot
def sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa):
    """Write the book's scalars back (the kernel's row loop keeps them in locals)."""
    bk.best_bid = bb
    bk.best_ask = ba
    bk.low_bid = lowb
    bk.high_ask = higha
    bk.min_bid = minb
    bk.max_bid = maxb
    bk.min_ask = mina
    bk.max_ask = maxa


@hot
def book_scalars(bk):
    """The book's scalars (bb, ba, lowb, higha, minb, maxb, mina, maxa), for a row loop's
    locals; ``sync_book`` writes them back."""
    return (bk.best_bid, bk.best_ask, bk.low_bid, bk.high_ask, bk.min_bid,
            bk.max_bid, bk.min_ask, bk.max_ask)


@hot
def book_init(bk, w):
    sync_book(bk, NO_BID, NO_ASK, NO_ASK, NO_BID, NO_ASK, NO_BID, NO_ASK, NO_BID)
    bk.window = w
    bk.nov_bid = 0
    bk.nov_ask = 0
    bk.ov_high_bid = NO_BID
    bk.ov_low_ask = NO_ASK


@hot
def _ov_slot(ov_t, t):
    """The overflow table's slot holding tick ``t``, or the empty slot where it would go."""
    mask = ov_t.shape[0] - 1
    j = t & mask
    while ov_t[j] != t and ov_t[j] != 0:
        j = (j + 1) & mask
    return j


@hot
def qty_at(dense, ov_t, ov_q, n_ov, w, t):
    """Stored qty at relative tick ``t`` (0 if none)."""
    if 0 <= t < w:
        return dense[t]
    if n_ov == 0:
        return 0.0
    j = _ov_slot(ov_t, t)
    return ov_q[j] if ov_t[j] == t else 0.0


@hot
def _set_qty(dense, ov_t, ov_q, bk, is_bid, t, q):
    """Store ``q`` (0 removes) at ``t``; returns the previous qty."""
    w = bk.window
    if 0 <= t < w:
        prev = dense[t]
        dense[t] = q
        return prev
    return _set_overflow(ov_t, ov_q, bk, is_bid, t, q)


@cold
def _set_overflow(ov_t, ov_q, bk, is_bid, t, q):
    """``_set_qty`` outside the window: the hash table, and the side's overflow bound."""
    if q > 0.0:
        if is_bid:
            bk.ov_high_bid = max(bk.ov_high_bid, t)
        else:
            bk.ov_low_ask = min(bk.ov_low_ask, t)
    j = _ov_slot(ov_t, t)
    if ov_t[j] == t:
        prev = ov_q[j]
        ov_q[j] = q
        return prev
    if q > 0.0:
        n = bk.nov_bid if is_bid else bk.nov_ask
        if 2 * (n + 1) > ov_t.shape[0]:
            raise ValueError("book overflow store full: prepare_market() sized it too small")
        ov_t[j] = t
        ov_q[j] = q
        if is_bid:
            bk.nov_bid = n + 1
        else:
            bk.nov_ask = n + 1
    return 0.0


@cold
def _ov_best(ov_t, ov_q, n_ov, lo, hi, highest):
    """Highest (else lowest) overflow tick in [lo, hi] with qty > 0; NO_BID (NO_ASK) if none."""
    best = NO_BID if highest else NO_ASK
    for j in range(ov_t.shape[0]):  # empty slots have qty 0
        t = ov_t[j]
        if lo <= t <= hi and ov_q[j] > 0.0 and ((t > best) if highest else (t < best)):
            best = t
    return best


@hot
def depth_below(dense, ov_t, ov_q, n_ov, w, start, end):
    """Highest tick in [end, start) with qty > 0, else NO_BID (hftbacktest depth_below)."""
    if n_ov > 0 and start - 1 >= w:
        found = _ov_best(ov_t, ov_q, n_ov, max(end, w), start - 1, True)
        if found != NO_BID:
            return found
    t = min(start - 1, w - 1)
    lo = max(end, 0)
    while t >= lo:
        if dense[t] > 0.0:
            return t
        t -= 1
    if n_ov > 0 and end < 0:
        return _ov_best(ov_t, ov_q, n_ov, end, min(start - 1, -1), True)
    return NO_BID


@hot
def depth_above(dense, ov_t, ov_q, n_ov, w, start, end):
    """Lowest tick in (start, end] with qty > 0, else NO_ASK (hftbacktest depth_above)."""
    if n_ov > 0 and start + 1 < 0:
        found = _ov_best(ov_t, ov_q, n_ov, start + 1, min(end, -1), False)
        if found != NO_ASK:
            return found
    t = max(start + 1, 0)
    hi = min(end, w - 1)
    while t <= hi:
        if dense[t] > 0.0:
            return t
        t += 1
    if n_ov > 0 and end >= w:
        return _ov_best(ov_t, ov_q, n_ov, max(start + 1, w), end, False)
    return NO_ASK


@cold
def update_bid(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, t, q, remove):
    """Bid level update at relative tick t; returns the previous qty at t."""
    if remove:
        prev = _set_qty(bid, bov_t, bov_q, bk, True, t, 0.0)
        if t == bk.best_bid:
            nb = depth_below(bid, bov_t, bov_q, bk.nov_bid, bk.window, t, bk.low_bid)
            bk.best_bid = nb
            if nb == NO_BID:
                bk.low_bid = NO_ASK
        return prev
    prev = _set_qty(bid, bov_t, bov_q, bk, True, t, q)
    if t > bk.best_bid:
        bk.best_bid = t
        if t >= bk.best_ask:
            bk.best_ask = depth_above(ask, aov_t, aov_q, bk.nov_ask, bk.window, t,
                                          bk.high_ask)
    if t < bk.low_bid:
        bk.low_bid = t
    if t > bk.max_bid:
        bk.max_bid = t
    if t < bk.min_bid:
        bk.min_bid = t
    return prev


@cold
def update_ask(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, t, q, remove):
    """Ask level update at relative tick t; returns the previous qty at t."""
    if remove:
        prev = _set_qty(ask, aov_t, aov_q, bk, False, t, 0.0)
        if t == bk.best_ask:
            na = depth_above(ask, aov_t, aov_q, bk.nov_ask, bk.window, t, bk.high_ask)
            bk.best_ask = na
            if na == NO_ASK:
                bk.high_ask = NO_BID
        return prev
    prev = _set_qty(ask, aov_t, aov_q, bk, False, t, q)
    if t < bk.best_ask:
        bk.best_ask = t
        if bk.best_bid >= t:
            bk.best_bid = depth_below(bid, bov_t, bov_q, bk.nov_bid, bk.window, t,
                                          bk.low_bid)
    if t > bk.high_ask:
        bk.high_ask = t
    if t < bk.min_ask:
        bk.min_ask = t
    if t > bk.max_ask:
        bk.max_ask = t
    return prev


@cold
def _zero_side(dense, ov_q, lowest, highest, n_ov, window):
    """Zero a side's stored sizes: the window's ticks in [lowest, highest] and, when the side
    has overflow entries, every overflow size (their ticks stay as keys)."""
    for t in range(max(lowest, 0), min(highest, window - 1) + 1):
        dense[t] = 0.0
    if n_ov > 0:
        for j in range(ov_q.shape[0]):
            ov_q[j] = 0.0


@hot
def clear_bids(bid, bov_q, bk):
    """A `bid` row with a NaN price: the bid side is empty."""
    _zero_side(bid, bov_q, bk.min_bid, bk.max_bid, bk.nov_bid, bk.window)
    bk.best_bid = NO_BID
    bk.low_bid = NO_ASK
    bk.max_bid = NO_BID
    bk.min_bid = NO_ASK
    bk.ov_high_bid = NO_BID


@hot
def clear_asks(ask, aov_q, bk):
    """An `ask` row with a NaN price: the ask side is empty."""
    _zero_side(ask, aov_q, bk.min_ask, bk.max_ask, bk.nov_ask, bk.window)
    bk.best_ask = NO_ASK
    bk.high_ask = NO_BID
    bk.max_ask = NO_BID
    bk.min_ask = NO_ASK
    bk.ov_low_ask = NO_ASK


@cold
def _zero_overflow(ov_t, ov_q, t, above):
    """Every overflow level above (else below) tick ``t`` is gone."""
    for j in range(ov_t.shape[0]):
        if (ov_t[j] > t) if above else (ov_t[j] < t):
            ov_q[j] = 0.0


@hot
def remove_bids_above(bid, bov_t, bov_q, bk, t):
    """A `bid` row at relative tick ``t``: every stored bid level above it is gone.

    The same book as removing those levels one by one (hftbacktest's explicit removals): the
    best bid, if it was above ``t``, becomes the highest stored level in [low bid, t]."""
    hi = bk.max_bid
    if hi <= t:
        return
    w = bk.window
    for k in range(max(t + 1, 0), min(hi, w - 1) + 1):
        bid[k] = 0.0
    if bk.nov_bid > 0 and bk.ov_high_bid > t:
        _zero_overflow(bov_t, bov_q, t, True)
        bk.ov_high_bid = t
    bk.max_bid = t  # a tighter bound: nothing above t is stored now
    if bk.best_bid > t:
        nb = depth_below(bid, bov_t, bov_q, bk.nov_bid, w, t + 1, bk.low_bid)
        bk.best_bid = nb
        if nb == NO_BID:
            bk.low_bid = NO_ASK


@hot
def remove_asks_below(ask, aov_t, aov_q, bk, t):
    """An `ask` row at relative tick ``t``: every stored ask level below it is gone."""
    lo = bk.min_ask
    if lo >= t:
        return
    w = bk.window
    for k in range(max(lo, 0), min(t - 1, w - 1) + 1):
        ask[k] = 0.0
    if bk.nov_ask > 0 and bk.ov_low_ask < t:
        _zero_overflow(aov_t, aov_q, t, False)
        bk.ov_low_ask = t
    bk.min_ask = t
    if bk.best_ask < t:
        na = depth_above(ask, aov_t, aov_q, bk.nov_ask, w, t - 1, bk.high_ask)
        bk.best_ask = na
        if na == NO_ASK:
            bk.high_ask = NO_BID


# ---- the row fast path: the book's scalars in the caller's locals (registers), not in bk ----


@hot
def bid_level(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, remove, bb, ba, lowb, higha,
              minb, maxb, mina, maxa):
    """``update_bid`` on a book whose scalars the caller keeps in locals (the row loops):
    returns (previous qty at r, bb, ba, lowb, minb, maxb). Outside the dense window it goes
    through ``update_bid`` (bk synced before, read back after)."""
    w = bk.window
    if 0 <= r < w:
        u = np.uint64(r)  # in the window: unsigned, no negative-index wraparound
        prev = bid[u]
        if not remove:
            bid[u] = q
            if r > bb:
                bb = r
                if bb >= ba:
                    ba = depth_above(ask, aov_t, aov_q, bk.nov_ask, w, bb, higha)
            lowb = min(lowb, r)
            minb = min(minb, r)
            maxb = max(maxb, r)
        else:
            bid[u] = 0.0
            if r == bb:
                lo = max(lowb, 0)
                k = r - 1
                while k >= lo and bid[k] <= 0.0:
                    k -= 1
                if k >= lo:
                    bb = k
                elif bk.nov_bid > 0 and lowb < 0:
                    bb = depth_below(bid, bov_t, bov_q, bk.nov_bid, w, r, lowb)
                else:
                    bb = NO_BID
                if bb == NO_BID:
                    lowb = NO_ASK
        return prev, bb, ba, lowb, minb, maxb
    sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
    prev = update_bid(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, remove)
    return prev, bk.best_bid, bk.best_ask, bk.low_bid, bk.min_bid, bk.max_bid


@hot
def ask_level(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, remove, bb, ba, lowb, higha,
              minb, maxb, mina, maxa):
    """``update_ask`` with the book's scalars in locals: returns (previous qty at r, bb, ba,
    higha, mina, maxa)."""
    w = bk.window
    if 0 <= r < w:
        u = np.uint64(r)  # in the window: unsigned, no negative-index wraparound
        prev = ask[u]
        if not remove:
            ask[u] = q
            if r < ba:
                ba = r
                if bb >= ba:
                    bb = depth_below(bid, bov_t, bov_q, bk.nov_bid, w, ba, lowb)
            higha = max(higha, r)
            mina = min(mina, r)
            maxa = max(maxa, r)
        else:
            ask[u] = 0.0
            if r == ba:
                hi = min(higha, w - 1)
                k = r + 1
                while k <= hi and ask[k] <= 0.0:
                    k += 1
                if k <= hi:
                    ba = k
                elif bk.nov_ask > 0 and higha >= w:
                    ba = depth_above(ask, aov_t, aov_q, bk.nov_ask, w, r, higha)
                else:
                    ba = NO_ASK
                if ba == NO_ASK:
                    higha = NO_BID
        return prev, bb, ba, higha, mina, maxa
    sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
    prev = update_ask(bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, remove)
    return prev, bk.best_bid, bk.best_ask, bk.high_ask, bk.min_ask, bk.max_ask
