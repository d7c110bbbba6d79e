"""Strategy side (numba): responses, the decision call, reconciling targets into requests."""

from __future__ import annotations

import math

import numpy as np

from mmopt.engine._book import (
    NO_ASK,
    NO_BID,
    qty_at,
)
from mmopt.engine._jit import cold, hot
from mmopt.engine._latency import entry_latency, record_ack
from mmopt.engine._orders import (
    account_local,
    book_mid,
    push_request,
    record_event,
    tick_price,
)
from mmopt.engine._slots import (
    ACT_CANCEL_REQ,
    ACT_SUBMIT,
    EX_FLIGHT,
    LOC_ACKED,
    LOC_DONE,
    LOC_SENT,
    RPK_ACK,
    RPK_CANCEL_REJECT,
    RPK_CANCELLED,
    RPK_EXPIRED,
    RPK_REJECT,
    RQK_CANCEL,
    RQK_NEW,
)
from mmopt.engine.layout import (
    A_MAX_LONG,
    A_MAX_SHORT,
    A_TAKER_QTY,
    A_TAKER_SIDE,
    C_ASK_QTY,
    C_AVG_ENTRY,
    C_BEST_ASK,
    C_BEST_ASK_TICK,
    C_BEST_BID,
    C_BEST_BID_TICK,
    C_BID_QTY,
    C_BOOK_BASE,
    C_BOOK_LEN,
    C_CASH,
    C_CONTRACT_SIZE,
    C_IMBALANCE,
    C_IS_INVERSE,
    C_LAST_ASK_FILL_T,
    C_LAST_ASK_PLACE_T,
    C_LAST_BID_FILL_T,
    C_LAST_BID_PLACE_T,
    C_LOT_SIZE,
    C_MICROPRICE,
    C_MID,
    C_N_ORDERS,
    C_OPEN_BUY_QTY,
    C_OPEN_SELL_QTY,
    C_POSITION,
    C_SESSION_END_T,
    C_TAKER_PENDING,
    C_TICK_SIZE,
    C_TIME,
    C_TIME_NS_HI,
    C_TIME_NS_LO,
    C_TRIGGER,
    C_UNREALISED,
    KEEP,
    O_LEAVES,
    O_LEVEL,
    O_QTY,
    O_SIDE,
    O_STATE,
    O_SUBMIT_T,
    O_TICK,
    OS_ACKED,
    OS_CANCEL_SENT,
    OS_SENT,
    Q_QTY,
    Q_TICK,
)


@hot
def _free_if_done(oi, ul, ctr, slot):
    """Release the slot once the strategy knows its final state and no cancel is in flight."""
    if oi.loc[slot] != LOC_DONE or oi.cxl[slot] != 0:
        return
    oi.used[slot] = 0
    n = ctr.nused
    for j in range(n):
        if ul[j] == slot:
            for k in range(j, n - 1):
                ul[k] = ul[k + 1]
            ctr.nused = n - 1
            return


@hot
def on_response(E, rp, rpq, t, acks):
    """Apply the next response (due at ``t``) to the strategy's view; True if it was a fill.
    The ack or reject of a new order adds a row to ``acks`` (the kernel keeps room)."""
    oi, of, ctr, cnt, acc = E.oi, E.of, E.ctr, E.cnt, E.acc
    rp, rpq, fc, ic, ul = E.rp, E.rpq, E.fc, E.ic, E.ul
    head = ctr.rp_head
    k = head % rp.shape[0]
    ctr.rp_head = head + 1
    slot = rp.slot[k]
    kind = rp.kind[k]
    if kind == RPK_ACK or kind == RPK_REJECT:  # noqa: SIM109
        record_ack(E, acks, t, t - oi.submit[slot], oi.id[slot])
    if kind == RPK_ACK:
        if oi.loc[slot] == LOC_SENT:
            oi.loc[slot] = LOC_ACKED
        return False
    if kind == RPK_EXPIRED:  # cancelled by the exchange at the session close
        oi.loc[slot] = LOC_DONE
        cnt.cancelled += 1
        _free_if_done(oi, ul, ctr, slot)
        return False
    if kind == RPK_REJECT:
        oi.loc[slot] = LOC_DONE
        if oi.taker[slot] == 1:
            acc.local_taker_pending = 0.0
        cnt.rejected += 1
        _free_if_done(oi, ul, ctr, slot)
        return False
    if kind == RPK_CANCELLED:
        oi.loc[slot] = LOC_DONE
        oi.cxl[slot] = 0
        cnt.cancelled += 1
        _free_if_done(oi, ul, ctr, slot)
        return False
    if kind == RPK_CANCEL_REJECT:
        oi.cxl[slot] = 0
        cnt.cancel_rejected += 1
        _free_if_done(oi, ul, ctr, slot)
        return False
    # a fill
    side = oi.side[slot]
    qty = rpq[k]
    price = tick_price(rp.tick[k], fc, ic)
    account_local(acc, fc, ic, side, price, qty, rp.maker[k] == 1)
    if side > 0:
        acc.local_last_bid_fill = float(t - ic.t0)
    else:
        acc.local_last_ask_fill = float(t - ic.t0)
    of.leaves_loc[slot] -= qty
    if of.leaves_loc[slot] <= 1e-9 * fc.lot_size:
        of.leaves_loc[slot] = 0.0
        oi.loc[slot] = LOC_DONE
        cnt.filled += 1
        if oi.taker[slot] == 1:
            acc.local_taker_pending = 0.0
        _free_if_done(oi, ul, ctr, slot)
    return True


@hot
def submit(E, ei, ef, t, side, level, tick, qty, taker):
    """A new order (limit post-only or taker) leaves for the exchange; False if no free slot."""
    bk, oi, of, ctr, cnt = E.bk, E.oi, E.of, E.ctr, E.cnt
    acc, fc, ic, rq, ul = E.acc, E.fc, E.ic, E.rq, E.ul
    slot = -1
    for s in range(oi.shape[0]):
        if oi.used[s] == 0:
            slot = s
            break
    if slot < 0:
        cnt.blocked += 1
        return False
    oid = cnt.next_id
    cnt.next_id = oid + 1
    ul[ctr.nused] = slot
    ctr.nused += 1
    oi.used[slot] = 1
    oi.id[slot] = oid
    oi.side[slot] = side
    oi.level[slot] = level
    oi.tick[slot] = tick
    oi.ex[slot] = EX_FLIGHT
    oi.loc[slot] = LOC_SENT
    oi.cxl[slot] = 0
    oi.submit[slot] = t
    oi.taker[slot] = 1 if taker else 0
    of.qty[slot] = qty
    of.leaves_ex[slot] = qty
    of.leaves_loc[slot] = qty
    of.mid[slot] = book_mid(bk, fc, ic)
    push_request(rq, ctr, t + entry_latency(E, t), slot, RQK_NEW)
    if taker:
        cnt.takers += 1
        acc.local_taker_pending = qty * side
    else:
        cnt.submitted += 1
        if side > 0:
            acc.local_last_bid_place = float(t - ic.t0)
        else:
            acc.local_last_ask_place = float(t - ic.t0)
    price = tick_price(tick, fc, ic) if not taker else math.nan
    record_event(ei, ef, cnt, ic, t, oid, ACT_SUBMIT, side, price, qty)
    return True


@hot
def send_cancel(E, ei, ef, slot, t):
    oi, of, ctr, cnt, fc, ic, rq = E.oi, E.of, E.ctr, E.cnt, E.fc, E.ic, E.rq
    oi.cxl[slot] = 1
    push_request(rq, ctr, t + entry_latency(E, t), slot, RQK_CANCEL)
    cnt.cancel_sent += 1
    record_event(ei, ef, cnt, ic, t, oi.id[slot], ACT_CANCEL_REQ, oi.side[slot],
                 tick_price(oi.tick[slot], fc, ic), of.leaves_loc[slot])


@hot
def _alive(oi, s):
    return oi.used[s] == 1 and (oi.loc[s] == LOC_SENT or oi.loc[s] == LOC_ACKED)


@hot
def open_qty(oi, of, ul, ctr, side):
    """Sum of leaves of our locally alive orders on ``side`` (any state, takers included)."""
    total = 0.0
    for j in range(ctr.nused):
        s = ul[j]
        if _alive(oi, s) and oi.side[s] == side:
            total += of.leaves_loc[s]
    return total


@hot
def _reconcile_level(E, ei, ef, t, side, level, ttick, tqty, max_pos):
    oi, of, ctr, cnt, acc, fc, ul = E.oi, E.of, E.ctr, E.cnt, E.acc, E.fc, E.ul
    matched = False
    for j in range(ctr.nused):
        s = ul[j]
        if not _alive(oi, s) or oi.taker[s] == 1:
            continue
        if oi.side[s] != side or oi.level[s] != level:
            continue
        if (not matched and tqty > 0.0 and oi.cxl[s] == 0 and oi.tick[s] == ttick
                and of.qty[s] == tqty):
            matched = True
            continue
        if oi.loc[s] == LOC_ACKED and oi.cxl[s] == 0:
            send_cancel(E, ei, ef, s, t)
    if tqty <= 0.0 or matched:
        return
    signed_pos = acc.local_pos * side
    if signed_pos + open_qty(oi, of, ul, ctr, side) + tqty > max_pos + 1e-9 * fc.lot_size:
        cnt.blocked += 1
        return
    submit(E, ei, ef, t, side, level, ttick, tqty, False)


@hot
def reconcile(E, ei, ef, quotes, act, t, allowed):
    """Turn the strategy's targets into cancels and submits (docs/engine.md, Decisions)."""
    ic = E.ic
    base = ic.book_base
    for si in range(2):
        side = 1 if si == 0 else -1
        max_pos = act[A_MAX_LONG] if si == 0 else act[A_MAX_SHORT]
        for level in range(ic.nlevels):
            tqty = quotes[si, level, Q_QTY]
            if not allowed:
                tqty = 0.0
            elif tqty < 0.0 or math.isnan(tqty):
                continue
            traw = quotes[si, level, Q_TICK]
            if tqty > 0.0 and not math.isfinite(traw):
                tqty = 0.0
            ttick = np.int64(round(traw)) - base if tqty > 0.0 else np.int64(0)
            _reconcile_level(E, ei, ef, t, side, level, ttick, tqty, max_pos)


@cold
def send_taker(E, ei, ef, t, side, qty):
    """A taker order unless one is already in flight; the tick field is unused."""
    acc = E.acc
    if acc.local_taker_pending != 0.0 or not qty > 0.0:
        return
    submit(E, ei, ef, t, side, -1, np.int64(0), qty, True)


@hot
def _order_view(oi, of, ctr, ul, ordview, t0, base):
    """The strategy's view of our alive orders (one row each in ``ordview``); returns (number of
    orders, open buy qty, open sell qty)."""
    n = 0
    buy_open = 0.0
    sell_open = 0.0
    for j in range(ctr.nused):
        s = ul[j]
        if not _alive(oi, s):
            continue
        leaves = of.leaves_loc[s]
        if oi.side[s] > 0:
            buy_open += leaves
        else:
            sell_open += leaves
        ordview[n, O_SIDE] = float(oi.side[s])
        ordview[n, O_LEVEL] = float(oi.level[s])
        ordview[n, O_TICK] = float(oi.tick[s] + base) if oi.taker[s] == 0 else np.nan
        ordview[n, O_QTY] = of.qty[s]
        ordview[n, O_LEAVES] = leaves
        if oi.cxl[s] == 1:
            ordview[n, O_STATE] = OS_CANCEL_SENT
        elif oi.loc[s] == LOC_ACKED:
            ordview[n, O_STATE] = OS_ACKED
        else:
            ordview[n, O_STATE] = OS_SENT
        ordview[n, O_SUBMIT_T] = (oi.submit[s] - t0) / 1e9
        n += 1
    return n, buy_open, sell_open


@hot
def _book_context(ctx, bk, B, fc, ic, base):
    """The top of the strategy's book: best prices and ticks, their sizes, imbalance, mid and
    microprice (NaN where a side is empty)."""
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    bb = bk.best_bid
    ba = bk.best_ask
    bq = 0.0
    aq = 0.0
    if bb != NO_BID:
        ctx[C_BEST_BID] = tick_price(bb, fc, ic)
        ctx[C_BEST_BID_TICK] = float(bb + base)
        bq = qty_at(bid, bov_t, bov_q, bk.nov_bid, bk.window, bb)
    else:
        ctx[C_BEST_BID] = np.nan
        ctx[C_BEST_BID_TICK] = np.nan
    if ba != NO_ASK:
        ctx[C_BEST_ASK] = tick_price(ba, fc, ic)
        ctx[C_BEST_ASK_TICK] = float(ba + base)
        aq = qty_at(ask, aov_t, aov_q, bk.nov_ask, bk.window, ba)
    else:
        ctx[C_BEST_ASK] = np.nan
        ctx[C_BEST_ASK_TICK] = np.nan
    ctx[C_BID_QTY] = bq
    ctx[C_ASK_QTY] = aq
    total = bq + aq
    ctx[C_IMBALANCE] = bq / total if total > 0.0 else 0.5
    if bb != NO_BID and ba != NO_ASK:
        mid = 0.5 * (ctx[C_BEST_BID] + ctx[C_BEST_ASK])
        ctx[C_MID] = mid
        ctx[C_MICROPRICE] = (aq * ctx[C_BEST_BID] + bq * ctx[C_BEST_ASK]) / total \
            if total > 0.0 else mid
    else:
        ctx[C_MID] = np.nan
        ctx[C_MICROPRICE] = np.nan


@hot
def _account_context(ctx, acc, fc, ic):
    """Position, average entry, cash and unrealised PnL at the context's mid (0 when flat or
    without a mid), and the times of the last fills and placements (a pending taker order:
    ``fill_context``, in the order the slots were always written)."""
    pos = acc.local_pos
    ctx[C_POSITION] = pos
    ctx[C_AVG_ENTRY] = acc.local_avg if pos != 0.0 else np.nan
    ctx[C_CASH] = acc.local_cash
    mid = ctx[C_MID]
    avg = ctx[C_AVG_ENTRY]
    if pos == 0.0 or math.isnan(mid) or math.isnan(avg):
        ctx[C_UNREALISED] = 0.0
    elif ic.inverse:
        ctx[C_UNREALISED] = fc.contract_size * pos * (1.0 / avg - 1.0 / mid)
    else:
        ctx[C_UNREALISED] = fc.contract_size * pos * (mid - avg)
    ctx[C_LAST_BID_FILL_T] = acc.local_last_bid_fill / 1e9
    ctx[C_LAST_ASK_FILL_T] = acc.local_last_ask_fill / 1e9
    ctx[C_LAST_BID_PLACE_T] = acc.local_last_bid_place / 1e9
    ctx[C_LAST_ASK_PLACE_T] = acc.local_last_ask_place / 1e9


@hot
def fill_context(E, B, ctx, ordview, t, t0, trigger, session_end):
    """Write the read-only context and the alive-orders view the strategy sees at ``t``."""
    bk, oi, of, ctr, acc, fc, ic, ul = E.bk, E.oi, E.of, E.ctr, E.acc, E.fc, E.ic, E.ul
    base = ic.book_base
    ctx[C_TIME] = (t - t0) / 1e9
    ctx[C_TIME_NS_HI] = float(t // 1_000_000_000)
    ctx[C_TIME_NS_LO] = float(t % 1_000_000_000)
    ctx[C_TRIGGER] = float(trigger)
    _book_context(ctx, bk, B, fc, ic, base)
    _account_context(ctx, acc, fc, ic)
    ctx[C_SESSION_END_T] = (session_end - t0) / 1e9
    ctx[C_TICK_SIZE] = fc.tick_size
    ctx[C_LOT_SIZE] = fc.lot_size
    ctx[C_CONTRACT_SIZE] = fc.contract_size
    ctx[C_IS_INVERSE] = float(ic.inverse)
    ctx[C_TAKER_PENDING] = acc.local_taker_pending
    ctx[C_BOOK_BASE] = float(base)
    ctx[C_BOOK_LEN] = float(ic.window)
    n, buy_open, sell_open = _order_view(oi, of, ctr, ul, ordview, t0, base)
    ctx[C_N_ORDERS] = float(n)
    ctx[C_OPEN_BUY_QTY] = buy_open
    ctx[C_OPEN_SELL_QTY] = sell_open


@hot
def reset_outputs(quotes, act):
    for si in range(quotes.shape[0]):
        for level in range(quotes.shape[1]):
            quotes[si, level, Q_TICK] = np.nan
            quotes[si, level, Q_QTY] = KEEP
    act[A_TAKER_SIDE] = 0.0
    act[A_TAKER_QTY] = 0.0
    act[A_MAX_LONG] = np.inf
    act[A_MAX_SHORT] = np.inf
