"""The kernel's two row loops (inlined into the event loop; each runs a batch of market rows
between two other events, with the book's scalars in locals).

``exchange_rows``: rows at their exchange time into the exchange's book, with the queue and fill
rules for our resting orders. ``local_rows`` (two clocks only): rows at their local time into the
strategy's own book. Both stop at the first row whose time is at or past a limit the kernel
gives (the next response, request, decision or equity sample); ``exchange_rows`` also stops after
a row that filled an order of ours, as responses may then be due. Rows are read with unsigned
indices: numba then skips its negative-index wraparound on each read.
"""

from __future__ import annotations

import numpy as np

from mmopt.engine._book import (
    NO_ASK,
    NO_BID,
    ask_level,
    bid_level,
    book_scalars,
    clear_asks,
    clear_bids,
    qty_at,
    remove_asks_below,
    remove_bids_above,
    sync_book,
)
from mmopt.engine._exchange import on_cross, on_trade, queue_depth, queue_removed, resting_bounds
from mmopt.engine._features import features_on_top
from mmopt.engine._jit import hot
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
    CODE_BUY_TRADE,
    CODE_IGNORE,
    CODE_SELL_TRADE,
)

__all__ = ["exchange_rows", "local_rows"]


@hot
def top_to_features(bk, B, fc, ic, fstate, t):
    """The book's top (prices and sizes) into the feature state after a top change."""
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    bb = bk.best_bid
    ba = bk.best_ask
    pb = tick_price(bb, fc, ic) if bb != NO_BID else np.nan
    pa = tick_price(ba, fc, ic) if ba != NO_ASK else np.nan
    qb = qty_at(bid, bov_t, bov_q, bk.nov_bid, bk.window, bb) if bb != NO_BID else 0.0
    qa = qty_at(ask, aov_t, aov_q, bk.nov_ask, bk.window, ba) if ba != NO_ASK else 0.0
    features_on_top(fstate, t, pb, qb, pa, qa)


@hot
def _cut_bids(E, bk, B, r, bb, ba, lowb, higha, minb, maxb, mina, maxa, queues):
    """A `bid` row at ``r``: the stored bid levels above it go first (``queues``: our resting
    bids there see their level go). Returns the new (bb, lowb, maxb)."""
    if maxb <= r:
        return bb, lowb, maxb
    sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
    if queues:
        queue_removed(E, bk, B, 0, r)
    remove_bids_above(B[0], B[2], B[3], bk, r)
    return bk.best_bid, bk.low_bid, bk.max_bid


@hot
def _cut_asks(E, bk, B, r, bb, ba, lowb, higha, minb, maxb, mina, maxa, queues):
    """An `ask` row at ``r``: the stored ask levels below it go first. Returns the new (ba,
    higha, mina)."""
    if mina >= r:
        return ba, higha, mina
    sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
    if queues:
        queue_removed(E, bk, B, 1, r)
    remove_asks_below(B[1], B[4], B[5], bk, r)
    return bk.best_ask, bk.high_ask, bk.min_ask


@hot
def _clear(E, bk, B, c, topb, topa, queues_b, queues_s):
    """A `bid` / `ask` row with a NaN price: the side is empty (our resting orders on it see
    their levels go when ``queues_*``). Returns the new stale-depth bounds (topb, topa)."""
    if c == CODE_BID_CLEAR:
        if queues_b:
            queue_removed(E, bk, B, 0, NO_BID)
        clear_bids(B[0], B[3], bk)
        return NO_BID, topa
    if queues_s:
        queue_removed(E, bk, B, 1, NO_ASK)
    clear_asks(B[1], B[5], bk)
    return topb, NO_ASK


@hot
def _is_stale(c, r, topb, topa):
    """A level row better than the last best-price row of its side (stale depth): skipped."""
    if c == CODE_BID_SET or c == CODE_BID_DEL:  # noqa: SIM109
        return r > topb
    if c == CODE_ASK_SET or c == CODE_ASK_DEL:  # noqa: SIM109
        return r < topa
    return False


@hot
def local_rows(E, bk, BL, fc, ic, fstate, use_feat, ts, code, rel, qty, il, n, sh, lim, lt):
    """Two clocks: rows with local time ``ts + sh <= lim`` into the strategy's own book ``bk``
    / ``BL`` (no fills: the exchange side has its own book). ``lt`` holds the stale-depth
    bounds (last top tick per side). The book's scalars live in locals here (the same fast path
    as the exchange's rows). Returns the next row."""
    bid, ask, bov_t, bov_q, aov_t, aov_q = BL
    bb, ba, lowb, higha, minb, maxb, mina, maxa = book_scalars(bk)
    topb = lt[0]
    topa = lt[1]
    while il < n:
        u = np.uint64(il)  # unsigned: no negative-index wraparound on the reads
        t = ts[u] + sh
        if t > lim:
            break
        c = code[u]
        r = rel[u]
        q = qty[u]
        il += 1
        if c == CODE_IGNORE or c == CODE_BUY_TRADE or c == CODE_SELL_TRADE:  # noqa: SIM109
            continue
        pb = bb
        pa = ba
        if c == CODE_BID_TOP or c == CODE_BID_TOP_DEL:  # noqa: SIM109
            topb = r
            bb, lowb, maxb = _cut_bids(E, bk, BL, r, bb, ba, lowb, higha, minb, maxb, mina, maxa,
                                       False)
            c = CODE_BID_SET if c == CODE_BID_TOP else CODE_BID_DEL
        elif c == CODE_ASK_TOP or c == CODE_ASK_TOP_DEL:  # noqa: SIM109
            topa = r
            ba, higha, mina = _cut_asks(E, bk, BL, r, bb, ba, lowb, higha, minb, maxb, mina, maxa,
                                        False)
            c = CODE_ASK_SET if c == CODE_ASK_TOP else CODE_ASK_DEL
        elif _is_stale(c, r, topb, topa):
            continue
        if c == CODE_BID_SET or c == CODE_BID_DEL:  # noqa: SIM109
            _prev, bb, ba, lowb, minb, maxb = bid_level(
                bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, c == CODE_BID_DEL, bb, ba, lowb,
                higha, minb, maxb, mina, maxa)
        elif c == CODE_ASK_SET or c == CODE_ASK_DEL:  # noqa: SIM109
            _prev, bb, ba, higha, mina, maxa = ask_level(
                bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, c == CODE_ASK_DEL, bb, ba, lowb,
                higha, minb, maxb, mina, maxa)
        else:
            sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
            topb, topa = _clear(E, bk, BL, c, topb, topa, False, False)
            bb, ba, lowb, higha, minb, maxb, mina, maxa = book_scalars(bk)
        if use_feat and (bb != pb or ba != pa or r == bb or r == ba):  # noqa: SIM109
            sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
            top_to_features(bk, BL, fc, ic, fstate, t)
    sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
    lt[0] = topb
    lt[1] = topa
    return il


@hot
def exchange_rows(E, bk, B, fc, ic, fi, ff, ei, ef, cs, cq, fstate, feat_x, code, rel, qty,
                  ex_ts, ex_order, two, i, n, lim, xt):
    """Rows ``i``.. (in exchange-time order: through ``ex_order`` with two clocks) with
    exchange time below ``lim`` into the exchange's book ``bk``/``B``: queue positions of our
    resting orders, fills of crossed or traded-through orders, feature updates on a top change
    (one clock). ``xt`` holds the stale-depth bounds (tick of the last `bid` / `ask` row).
    Returns the next row; stops after a row that filled an order of ours."""
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    bb, ba, lowb, higha, minb, maxb, mina, maxa = book_scalars(bk)
    topb = xt[0]
    topa = xt[1]
    nrb, nrs, bmin, bmax, smin, smax = resting_bounds(E)
    while i < n:
        # unsigned row indices: numba then skips the negative-index wraparound on each read
        j = np.uint64(ex_order[np.uint64(i)]) if two else np.uint64(i)
        t = ex_ts[j]
        if t >= lim:
            break
        c = code[j]
        r = rel[j]
        q = qty[j]
        i += 1
        pb = bb
        pa = ba
        nfill = 0
        if c == CODE_BID_TOP or c == CODE_BID_TOP_DEL:  # noqa: SIM109
            topb = r
            bb, lowb, maxb = _cut_bids(E, bk, B, r, bb, ba, lowb, higha, minb, maxb, mina, maxa,
                                       nrb > 0 and bmax > r)
            c = CODE_BID_SET if c == CODE_BID_TOP else CODE_BID_DEL
        elif c == CODE_ASK_TOP or c == CODE_ASK_TOP_DEL:  # noqa: SIM109
            topa = r
            ba, higha, mina = _cut_asks(E, bk, B, r, bb, ba, lowb, higha, minb, maxb, mina, maxa,
                                        nrs > 0 and smin < r)
            c = CODE_ASK_SET if c == CODE_ASK_TOP else CODE_ASK_DEL
        elif _is_stale(c, r, topb, topa):
            continue
        if c == CODE_BID_SET or c == CODE_BID_DEL:  # noqa: SIM109
            prev, bb, ba, lowb, minb, maxb = bid_level(
                bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, c == CODE_BID_DEL, bb, ba, lowb,
                higha, minb, maxb, mina, maxa)
            if nrb > 0 and bmin <= r <= bmax:
                queue_depth(E, 0, r, prev, q)
            if bb > pb and nrs > 0 and bb >= smin:
                sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
                nfill = on_cross(E, fi, ff, ei, ef, cs, cq, True, bb, t)
        elif c == CODE_ASK_SET or c == CODE_ASK_DEL:  # noqa: SIM109
            prev, bb, ba, higha, mina, maxa = ask_level(
                bid, ask, bov_t, bov_q, aov_t, aov_q, bk, r, q, c == CODE_ASK_DEL, bb, ba, lowb,
                higha, minb, maxb, mina, maxa)
            if nrs > 0 and smin <= r <= smax:
                queue_depth(E, 1, r, prev, q)
            if ba < pa and nrb > 0 and ba <= bmax:
                sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
                nfill = on_cross(E, fi, ff, ei, ef, cs, cq, False, ba, t)
        elif (c == CODE_BUY_TRADE and nrs > 0 and r >= smin) or (
                c == CODE_SELL_TRADE and nrb > 0 and r <= bmax):
            sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
            nfill = on_trade(E, fi, ff, ei, ef, cs, cq, c == CODE_BUY_TRADE, r, q, t)
        elif c == CODE_BID_CLEAR or c == CODE_ASK_CLEAR:  # noqa: SIM109
            sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
            topb, topa = _clear(E, bk, B, c, topb, topa, nrb > 0, nrs > 0)
            bb, ba, lowb, higha, minb, maxb, mina, maxa = book_scalars(bk)
        book_row = c != CODE_IGNORE and (c <= CODE_ASK_DEL or c >= CODE_BID_CLEAR)
        if feat_x and book_row and (bb != pb or ba != pa or r == bb or r == ba):  # noqa: SIM109
            sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
            top_to_features(bk, B, fc, ic, fstate, t)
        if nfill > 0:
            break  # responses may now be due at t: re-evaluate the next event
    sync_book(bk, bb, ba, lowb, higha, minb, maxb, mina, maxa)
    xt[0] = topb
    xt[1] = topa
    return i
