"""Order table, request/response rings, accounting and fill records (numba helpers)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from mmopt.engine._book import NO_ASK, NO_BID
from mmopt.engine._jit import cold, hot
from mmopt.engine._slots import INF_NS


@hot
def tick_price(rel_tick, fc, ic):
    """Price of a relative tick, computed as hftbacktest does (tick * tick_size)."""
    return float(rel_tick + ic.book_base) * fc.tick_size


@hot
def book_mid(bk, fc, ic):
    bb = bk.best_bid
    ba = bk.best_ask
    if bb == NO_BID or ba == NO_ASK:
        return np.nan
    return 0.5 * (tick_price(bb, fc, ic) + tick_price(ba, fc, ic))


@hot
def amount_of(price, qty, fc, ic):
    """Traded value in the account currency (hftbacktest's AssetType::amount)."""
    if ic.inverse:
        return fc.contract_size * qty / price
    return fc.contract_size * price * qty


@hot
def net_cash(balance, fees, ic):
    """Cash net of fees from hftbacktest's balance (inverse balance has the opposite sign)."""
    if ic.inverse:
        return -balance - fees
    return balance - fees


@hot
def equity_of(cash, pos, mid, fc, ic):
    if pos == 0.0:
        return cash
    if ic.inverse:
        return cash - fc.contract_size * pos / mid
    return cash + fc.contract_size * pos * mid


class Holding(NamedTuple):
    """One view of the account (the exchange's, or the strategy's as it was told): position,
    average entry, realised PnL, balance and fees paid."""

    pos: float
    avg: float
    realised: float
    bal: float
    fees: float


@hot
def _after_fill(h, side, price, qty, amount, fee, fc, ic):
    """hftbacktest's State::apply_fill: the holding ``h`` after ``qty`` at ``price`` (its value
    ``amount`` and ``fee`` given): average entry and realised PnL first, then position, balance
    and fees."""
    pos = h.pos
    avg = h.avg
    realised = h.realised
    held = abs(pos)
    if held == 0.0 or (pos > 0.0) == (side > 0):
        if held == 0.0 or math.isnan(avg):
            avg = price
        elif ic.inverse:
            avg = (held + qty) / (held / avg + qty / price)
        else:
            avg = (avg * held + price * qty) / (held + qty)
    else:
        closing = min(qty, held)
        sign = 1.0 if pos > 0.0 else -1.0
        if ic.inverse:
            realised += closing * fc.contract_size * (1.0 / avg - 1.0 / price) * sign
        else:
            realised += closing * fc.contract_size * (price - avg) * sign
        if qty > held:
            avg = price
        elif qty == held:
            avg = np.nan
    sd = float(side)
    return Holding(pos + qty * sd, avg, realised, h.bal - amount * sd, h.fees + fee)


@hot
def fee_of(fc, ic, side, amount, qty, maker):
    """The fee of one fill (> 0 paid, < 0 rebate): the maker/taker rate on its value, plus,
    when set, the per-unit fee, the flat fee per fill and the buy- or sell-only fees."""
    fee = (fc.maker if maker else fc.taker) * amount
    if ic.fee_extra == 0:
        return fee
    return _with_extra_fees(fee, fc, side, amount, qty, maker)


@cold
def _with_extra_fees(fee, fc, side, amount, qty, maker):
    """``fee`` plus the per-unit, flat and buy- or sell-only parts of one fill's fee."""
    if side > 0:
        fee += fc.buy_bps * amount + fc.buy_unit * qty
    else:
        fee += fc.sell_bps * amount + fc.sell_unit * qty
    fee += (fc.maker_unit if maker else fc.taker_unit) * qty + fc.flat_fee
    return fee


@hot
def account_exchange(acc, fc, ic, side, price, qty, maker):
    """Apply a fill to the exchange-side account; returns the fee."""
    amount = amount_of(price, qty, fc, ic)
    fee = fee_of(fc, ic, side, amount, qty, maker)
    h = _after_fill(Holding(acc.pos, acc.avg, acc.realised, acc.bal, acc.fees), side, price,
                    qty, amount, fee, fc, ic)
    acc.pos = h.pos
    acc.avg = h.avg
    acc.realised = h.realised
    acc.bal = h.bal
    acc.fees = h.fees
    acc.vol += qty
    acc.notional += amount
    if abs(acc.pos) > acc.maxpos:
        acc.maxpos = abs(acc.pos)
    return fee


@hot
def account_local(acc, fc, ic, side, price, qty, maker):
    """Apply a received fill to the strategy's view of the account."""
    amount = amount_of(price, qty, fc, ic)
    fee = fee_of(fc, ic, side, amount, qty, maker)
    h = _after_fill(Holding(acc.local_pos, acc.local_avg, acc.local_realised, acc.local_bal,
                            acc.local_fees), side, price, qty, amount, fee, fc, ic)
    acc.local_pos = h.pos
    acc.local_avg = h.avg
    acc.local_realised = h.realised
    acc.local_bal = h.bal
    acc.local_fees = h.fees
    acc.local_cash = net_cash(acc.local_bal, acc.local_fees, ic)


@hot
def record_fill(fi, ff, cnt, t, oid, queue_ns, side, maker, price, qty, fee, pos, cash, mid,
                qhs):
    k = cnt.fills
    fi.ts[k] = t
    fi.id[k] = oid
    fi.queue[k] = queue_ns
    fi.side[k] = side
    fi.maker[k] = 1 if maker else 0
    ff.price[k] = price
    ff.qty[k] = qty
    ff.fee[k] = fee
    ff.pos[k] = pos
    ff.cash[k] = cash
    ff.mid[k] = mid
    ff.qhs[k] = qhs
    cnt.fills = k + 1


@hot
def record_event(ei, ef, cnt, ic, t, oid, action, side, price, qty):
    if ic.record == 0:
        return
    k = cnt.oev
    if k >= ei.shape[0]:
        return  # the kernel grows the store before it can fill up; never drop silently
    ei.ts[k] = t
    ei.id[k] = oid
    ei.action[k] = action
    ei.side[k] = side
    ef.price[k] = price
    ef.qty[k] = qty
    cnt.oev = k + 1


@njit(cache=True)
def grow_rows(a, need):
    """``a`` (2-D) with at least ``need`` rows: the same array, or a copy at least twice as long."""
    if need <= a.shape[0]:
        return a
    out = np.zeros((max(need, 2 * a.shape[0]), a.shape[1]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


# ---- rings (FIFO channels: a message never overtakes an earlier one; with variable latencies
# its delivery time is raised to the previous message's, as hftbacktest's order bus does) ----


@hot
def push_request(rq, ctr, t, slot, kind):
    tail = ctr.rq_tail
    if tail - ctr.rq_head >= rq.shape[0]:
        raise ValueError("request ring full: raise EngineConfig.max_orders")
    if tail > ctr.rq_head:
        t = max(t, rq.t[(tail - 1) % rq.shape[0]])
    k = tail % rq.shape[0]
    rq.t[k] = t
    rq.slot[k] = slot
    rq.kind[k] = kind
    ctr.rq_tail = tail + 1


@hot
def next_request_time(rq, ctr):
    if ctr.rq_head == ctr.rq_tail:
        return INF_NS
    return rq.t[ctr.rq_head % rq.shape[0]]


@hot
def push_response(rp, rpq, ctr, t, slot, kind, tick, maker, qty):
    tail = ctr.rp_tail
    if tail - ctr.rp_head >= rp.shape[0]:
        raise ValueError("response ring full: too many fills in flight")
    if tail > ctr.rp_head:
        t = max(t, rp.t[(tail - 1) % rp.shape[0]])
    k = tail % rp.shape[0]
    rp.t[k] = t
    rp.slot[k] = slot
    rp.kind[k] = kind
    rp.tick[k] = tick
    rp.maker[k] = 1 if maker else 0
    rpq[k] = qty
    ctr.rp_tail = tail + 1


@hot
def next_response_time(rp, ctr):
    if ctr.rp_head == ctr.rp_tail:
        return INF_NS
    return rp.t[ctr.rp_head % rp.shape[0]]


# ---- resting orders at the exchange: rest[0] buys, rest[1] sells (slot lists) ----


@hot
def n_resting(ctr, row):
    """How many of our orders rest at the exchange in ``row`` (0 buys, 1 sells)."""
    return ctr.n_rest_buy if row == 0 else ctr.n_rest_sell


@hot
def _set_n_resting(ctr, row, n):
    if row == 0:
        ctr.n_rest_buy = n
    else:
        ctr.n_rest_sell = n


@hot
def _refresh_bounds(rest, ctr, oi):
    """Lowest / highest tick of the resting orders of each row (0 buys, 1 sells)."""
    for row in range(2):
        lo = INF_NS
        hi = -INF_NS
        for j in range(n_resting(ctr, row)):
            t = oi.tick[rest[row, j]]
            lo = min(lo, t)
            hi = max(hi, t)
        if row == 0:
            ctr.buy_min = lo
            ctr.buy_max = hi
        else:
            ctr.sell_min = lo
            ctr.sell_max = hi


@hot
def rest_add(rest, ctr, oi, slot):
    row = 0 if oi.side[slot] > 0 else 1
    n = n_resting(ctr, row)
    rest[row, n] = slot
    _set_n_resting(ctr, row, n + 1)
    _refresh_bounds(rest, ctr, oi)


@hot
def rest_remove(rest, ctr, oi, slot):
    row = 0 if oi.side[slot] > 0 else 1
    n = n_resting(ctr, row)
    for j in range(n):
        if rest[row, j] == slot:
            for k in range(j, n - 1):  # keep submission order (deterministic fill order)
                rest[row, k] = rest[row, k + 1]
            _set_n_resting(ctr, row, n - 1)
            break
    _refresh_bounds(rest, ctr, oi)
