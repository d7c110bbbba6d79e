"""Exchange side (numba): our resting orders against the book rows, arrivals, fills."""

from __future__ import annotations

import math

from mmopt.engine._book import (
    NO_ASK,
    NO_BID,
    depth_above,
    depth_below,
    qty_at,
)
from mmopt.engine._jit import cold, hot
from mmopt.engine._latency import response_latency
from mmopt.engine._orders import (
    account_exchange,
    book_mid,
    n_resting,
    net_cash,
    push_response,
    record_event,
    record_fill,
    rest_add,
    rest_remove,
    tick_price,
)
from mmopt.engine._slots import (
    ACT_ARRIVE,
    ACT_CANCELLED,
    ACT_FILL,
    ACT_REJECT,
    EX_DONE,
    EX_REST,
    RPK_ACK,
    RPK_CANCEL_REJECT,
    RPK_CANCELLED,
    RPK_EXPIRED,
    RPK_FILL,
    RPK_REJECT,
)

MAX_TAKER_LEVELS = 64  # a taker order walks at most this many levels; the rest fills at the last


@hot
def fill_order(E, fi, ff, ei, ef, slot, qty, tick, maker, t):
    """Fill ``qty`` of order ``slot`` at relative ``tick`` at exchange time ``t``."""
    bk, oi, of, rest, ctr = E.bk, E.oi, E.of, E.rest, E.ctr
    cnt, acc, rp, rpq, fc, ic = E.cnt, E.acc, E.rp, E.rpq, E.fc, E.ic
    side = oi.side[slot]
    price = tick_price(tick, fc, ic)
    fee = account_exchange(acc, fc, ic, side, price, qty, maker)
    cash = net_cash(acc.bal, acc.fees, ic)
    oid = oi.id[slot]
    qhs = (of.mid[slot] - price) * side if maker else math.nan
    record_fill(fi, ff, cnt, t, oid, t - oi.arrive[slot], side, maker, price, qty, fee,
                acc.pos, cash, book_mid(bk, fc, ic), qhs)
    record_event(ei, ef, cnt, ic, t, oid, ACT_FILL, side, price, qty)
    of.leaves_ex[slot] -= qty
    push_response(rp, rpq, ctr, t + response_latency(E, t), slot, RPK_FILL, tick, maker, qty)
    if of.leaves_ex[slot] <= 1e-9 * fc.lot_size:
        of.leaves_ex[slot] = 0.0
        if oi.ex[slot] == EX_REST:
            rest_remove(rest, ctr, oi, slot)
        oi.ex[slot] = EX_DONE


@hot
def _sort_candidates(oi, cs, cq, n, descending):
    """Stable insertion sort of the candidate slots by tick."""
    for a in range(1, n):
        s = cs[a]
        q = cq[a]
        key = oi.tick[s]
        b = a - 1
        while b >= 0:
            kb = oi.tick[cs[b]]
            if (kb < key) if descending else (kb > key):
                cs[b + 1] = cs[b]
                cq[b + 1] = cq[b]
                b -= 1
            else:
                break
        cs[b + 1] = s
        cq[b + 1] = q


@hot
def _fill_candidates(E, fi, ff, ei, ef, cs, cq, n, descending, t):
    _sort_candidates(E.oi, cs, cq, n, descending)
    for a in range(n):
        fill_order(E, fi, ff, ei, ef, cs[a], cq[a], E.oi.tick[cs[a]], True, t)


@hot
def queue_depth(E, row, tick, prev_qty, new_qty):
    """A level update at ``tick`` on our resting orders of ``row`` (0 buys, 1 sells)."""
    oi, of, rest, ctr, fc, ic = E.oi, E.of, E.rest, E.ctr, E.fc, E.ic
    n = n_resting(ctr, row)
    prob_model = ic.queue_model == 1
    for j in range(n):
        s = rest[row, j]
        if oi.tick[s] != tick:
            continue
        front = of.front[s]
        if not prob_model:
            of.front[s] = min(front, new_qty)
            continue
        chg = prev_qty - new_qty - of.cum[s]
        of.cum[s] = 0.0
        if chg < 0.0:
            of.front[s] = min(front, new_qty)
            continue
        back = prev_qty - front
        n_pow = fc.queue_power
        fb = back**n_pow if back > 0.0 else 0.0
        ff_ = front**n_pow if front > 0.0 else 0.0
        prob = fb / (fb + ff_) if fb + ff_ > 0.0 else math.nan
        if math.isinf(prob):
            prob = 1.0
        est = front - (1.0 - prob) * chg + min(back - prob * chg, 0.0)
        of.front[s] = new_qty if math.isnan(est) else min(est, new_qty)


@hot
def resting_bounds(E):
    """Our resting orders for the row loop: (n buys, n sells, lowest and highest buy tick,
    lowest and highest sell tick)."""
    ctr = E.ctr
    return (ctr.n_rest_buy, ctr.n_rest_sell, ctr.buy_min, ctr.buy_max,
            ctr.sell_min, ctr.sell_max)


@cold
def queue_removed(E, bk, B, row, t):
    """Stored levels beyond ``t`` (above for bids, row 0; below for asks, row 1) of the book
    ``bk``/``B`` are about to go: our resting orders there see their level removed, once per
    tick (as hftbacktest does for each explicit removal)."""
    oi, rest, ctr = E.oi, E.rest, E.ctr
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    n = n_resting(ctr, row)
    for j in range(n):
        tk = oi.tick[rest[row, j]]
        if (tk <= t) if row == 0 else (tk >= t):
            continue
        seen = False
        for k in range(j):
            if oi.tick[rest[row, k]] == tk:
                seen = True
                break
        if seen:
            continue
        if row == 0:
            prev = qty_at(bid, bov_t, bov_q, bk.nov_bid, bk.window, tk)
        else:
            prev = qty_at(ask, aov_t, aov_q, bk.nov_ask, bk.window, tk)
        if prev > 0.0:
            queue_depth(E, row, tk, prev, 0.0)


@hot
def _queue_trade(of, fc, ic, s, qty):
    """A trade of ``qty`` at our price: returns the qty of order ``s`` it fills (0 if none)."""
    of.front[s] -= qty
    of.cum[s] += qty
    lot = fc.lot_size
    x = of.front[s] / lot
    if not x <= -0.5:  # hftbacktest: round(front / lot) < 0
        return 0.0
    leaves = of.leaves_ex[s]
    if ic.partial == 0:
        return leaves
    lots = math.floor(-x + 0.5)
    exec_qty = min(leaves, lots * lot)
    of.front[s] += exec_qty
    return exec_qty


@hot
def on_trade(E, fi, ff, ei, ef, cs, cq, aggressor_buy, tick, qty, t):
    """A market trade: trade-through and queue fills of our resting orders on the hit side
    (our sells for a buy aggressor, our buys for a sell aggressor)."""
    oi, of, rest, ctr, fc, ic = E.oi, E.of, E.rest, E.ctr, E.fc, E.ic
    row = 1 if aggressor_buy else 0
    through = 1 if aggressor_buy else -1  # (tick - ours) * through > 0: traded through ours
    nc = 0
    for j in range(n_resting(ctr, row)):
        s = rest[row, j]
        tk = oi.tick[s]
        if (tick - tk) * through > 0:
            cs[nc] = s
            cq[nc] = of.leaves_ex[s]
            nc += 1
        elif tk == tick:
            q = _queue_trade(of, fc, ic, s, qty)
            if q > 0.0:
                cs[nc] = s
                cq[nc] = q
                nc += 1
    if nc > 0:
        _fill_candidates(E, fi, ff, ei, ef, cs, cq, nc, not aggressor_buy, t)
    return nc


@hot
def on_cross(E, fi, ff, ei, ef, cs, cq, sells, best, t):
    """The best bid rose to ``best`` (fill our sells <= it) or the best ask fell (buys >= it)."""
    oi, of, rest, ctr = E.oi, E.of, E.rest, E.ctr
    row = 1 if sells else 0
    crossed = 1 if sells else -1  # (best - ours) * crossed >= 0: the book reached ours
    nc = 0
    for j in range(n_resting(ctr, row)):
        s = rest[row, j]
        if (best - oi.tick[s]) * crossed >= 0:
            cs[nc] = s
            cq[nc] = of.leaves_ex[s]
            nc += 1
    if nc > 0:
        _fill_candidates(E, fi, ff, ei, ef, cs, cq, nc, False, t)
    return nc


@hot
def arrive_new(E, B, fi, ff, ei, ef, slot, t):
    """A new order reaches the exchange at ``t`` (after every row with ts <= t)."""
    bk, oi, of, rest, ctr = E.bk, E.oi, E.of, E.rest, E.ctr
    cnt, rp, rpq, fc, ic = E.cnt, E.rp, E.rpq, E.fc, E.ic
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    side = oi.side[slot]
    tick = oi.tick[slot]
    oid = oi.id[slot]
    price = tick_price(tick, fc, ic)
    oi.arrive[slot] = t
    closed = t < ic.sess_open or t >= ic.sess_close  # outside the session: rejected
    if oi.taker[slot] == 1 and not closed:
        _arrive_taker(E, B, fi, ff, ei, ef, slot, t)
        return
    crosses = tick >= bk.best_ask if side > 0 else tick <= bk.best_bid
    if crosses or closed:  # post-only: rejected
        oi.ex[slot] = EX_DONE
        push_response(rp, rpq, ctr, t + response_latency(E, t), slot, RPK_REJECT, tick, False, 0.0)
        record_event(ei, ef, cnt, ic, t, oid, ACT_REJECT, side, price, of.qty[slot])
        return
    if side > 0:
        front = qty_at(bid, bov_t, bov_q, bk.nov_bid, bk.window, tick)
    else:
        front = qty_at(ask, aov_t, aov_q, bk.nov_ask, bk.window, tick)
    of.front[slot] = front
    of.cum[slot] = 0.0
    oi.ex[slot] = EX_REST
    rest_add(rest, ctr, oi, slot)
    push_response(rp, rpq, ctr, t + response_latency(E, t), slot, RPK_ACK, tick, False, 0.0)
    record_event(ei, ef, cnt, ic, t, oid, ACT_ARRIVE, side, price, of.qty[slot])


@cold
def _arrive_taker(E, B, fi, ff, ei, ef, slot, t):
    """A taker order: fills at the touch and walks the book; rejected if that side is empty."""
    bk, oi, of, ctr, cnt, rp, rpq, fc, ic = E.bk, E.oi, E.of, E.ctr, E.cnt, E.rp, E.rpq, E.fc, E.ic
    bid, ask, bov_t, bov_q, aov_t, aov_q = B
    side = oi.side[slot]
    level = bk.best_ask if side > 0 else bk.best_bid
    if level == NO_ASK or level == NO_BID:  # noqa: SIM109
        oi.ex[slot] = EX_DONE
        push_response(rp, rpq, ctr, t + response_latency(E, t), slot, RPK_REJECT, 0, False, 0.0)
        record_event(ei, ef, cnt, ic, t, oi.id[slot], ACT_REJECT, side, math.nan,
                     of.qty[slot])
        return
    eps = 1e-9 * fc.lot_size
    for k in range(MAX_TAKER_LEVELS):
        remaining = of.leaves_ex[slot]
        if side > 0:
            avail = qty_at(ask, aov_t, aov_q, bk.nov_ask, bk.window, level)
            nxt = depth_above(ask, aov_t, aov_q, bk.nov_ask, bk.window, level,
                              bk.high_ask)
            last = nxt == NO_ASK
        else:
            avail = qty_at(bid, bov_t, bov_q, bk.nov_bid, bk.window, level)
            nxt = depth_below(bid, bov_t, bov_q, bk.nov_bid, bk.window, level,
                              bk.low_bid)
            last = nxt == NO_BID
        take = remaining if (last or k == MAX_TAKER_LEVELS - 1) else min(remaining, avail)
        if take > eps:
            fill_order(E, fi, ff, ei, ef, slot, take, level, False, t)
        if oi.ex[slot] == EX_DONE:
            return
        level = nxt


@hot
def arrive_cancel(E, ei, ef, slot, t):
    oi, of, rest, ctr = E.oi, E.of, E.rest, E.ctr
    cnt, rp, rpq, fc, ic = E.cnt, E.rp, E.rpq, E.fc, E.ic
    if oi.ex[slot] == EX_REST:
        rest_remove(rest, ctr, oi, slot)
        oi.ex[slot] = EX_DONE
        push_response(rp, rpq, ctr, t + response_latency(E, t), slot, RPK_CANCELLED, 0, False, 0.0)
        record_event(ei, ef, cnt, ic, t, oi.id[slot], ACT_CANCELLED, oi.side[slot],
                     tick_price(oi.tick[slot], fc, ic), of.leaves_ex[slot])
    else:
        push_response(rp, rpq, ctr, t + response_latency(E, t),
                      slot, RPK_CANCEL_REJECT, 0, False, 0.0)



@cold
def expire_session(E, ei, ef, t):
    """The session closes at exchange time ``t``: the exchange cancels every resting order of
    ours (a day order), so none is live against post-session rows; orders still in flight are
    rejected when they arrive."""
    oi, of, rest, ctr = E.oi, E.of, E.rest, E.ctr
    cnt, rp, rpq, fc, ic = E.cnt, E.rp, E.rpq, E.fc, E.ic
    for row in range(2):
        while n_resting(ctr, row) > 0:
            slot = rest[row, 0]
            rest_remove(rest, ctr, oi, slot)
            oi.ex[slot] = EX_DONE
            push_response(rp, rpq, ctr, t + response_latency(E, t), slot, RPK_EXPIRED, 0, False,
                          0.0)
            record_event(ei, ef, cnt, ic, t, oi.id[slot], ACT_CANCELLED, oi.side[slot],
                         tick_price(oi.tick[slot], fc, ic), of.leaves_ex[slot])
