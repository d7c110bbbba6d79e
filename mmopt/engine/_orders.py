"""Order table, request/response rings, accounting and fill records (numba helpers)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mmopt.engine._book import NO_ASK, NO_BID
from mmopt.engine._jit import cold, hot
from mmopt.engine._slots import (
    AC_AVG,
    AC_BAL,
    AC_FEES,
    AC_POS,
    AC_REAL,
    AL_AVG,
    AL_BAL,
    AL_FEES,
    AL_POS,
    AL_REAL,
    CT_BUY_MAX,
    CT_BUY_MIN,
    CT_N_REST_BUY,
    INF_NS,
)


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


@hot
def _avg_update(acc, i_pos, i_avg, i_real, side, price, qty, fc, ic):
    """Average entry and realised PnL before ``qty`` at ``price`` is applied to acc[i_pos]."""
    pos = acc[i_pos]
    held = abs(pos)
    cs = fc.contract_size
    inverse = ic.inverse
    if held == 0.0 or (pos > 0.0) == (side > 0):
        total = held + qty
        if held == 0.0 or math.isnan(acc[i_avg]):
            acc[i_avg] = price
        elif inverse:
            acc[i_avg] = total / (held / acc[i_avg] + qty / price)
        else:
            acc[i_avg] = (acc[i_avg] * held + price * qty) / total
        return
    closing = min(qty, held)
    sign = 1.0 if pos > 0.0 else -1.0
    if inverse:
        acc[i_real] += closing * cs * (1.0 / acc[i_avg] - 1.0 / price) * sign
    else:
        acc[i_real] += closing * cs * (price - acc[i_avg]) * sign
    if qty > held:
        acc[i_avg] = price
    elif qty == held:
        acc[i_avg] = np.nan


@hot
def _apply_fill(acc, i_pos, i_avg, i_real, i_bal, i_fees, side, price, qty, maker, fc, ic):
    """hftbacktest's State::apply_fill on one view of the account; returns (amount, fee)."""
    amount = amount_of(price, qty, fc, ic)
    _avg_update(acc, i_pos, i_avg, i_real, side, price, qty, fc, ic)
    sd = float(side)
    acc[i_pos] += qty * sd
    acc[i_bal] -= amount * sd
    fee = fee_of(fc, ic, side, amount, qty, maker)
    acc[i_fees] += fee
    return amount, fee


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
    amount, fee = _apply_fill(acc, AC_POS, AC_AVG, AC_REAL, AC_BAL, AC_FEES, side, price, qty,
                              maker, fc, ic)
    acc.vol += qty
    acc.notional += amount
    if abs(acc.pos) > acc.maxpos:
        acc.maxpos = abs(acc.pos)
    return fee


@hot
def account_local(acc, fc, ic, side, price, qty, maker):
    """Apply a received fill to the strategy's view of the account."""
    _apply_fill(acc, AL_POS, AL_AVG, AL_REAL, AL_BAL, AL_FEES, side, price, qty, maker, fc, ic)
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
def _refresh_bounds(rest, ctr, oi):
    """Lowest / highest tick of the resting orders of each row (0 buys, 1 sells)."""
    for row in range(2):
        lo = INF_NS
        hi = -INF_NS
        for j in range(ctr[CT_N_REST_BUY + row]):
            t = oi.tick[rest[row, j]]
            lo = min(lo, t)
            hi = max(hi, t)
        ctr[CT_BUY_MIN + 2 * row] = lo
        ctr[CT_BUY_MAX + 2 * row] = hi


@hot
def rest_add(rest, ctr, oi, slot):
    row = 0 if oi.side[slot] > 0 else 1
    nslot = CT_N_REST_BUY + row
    rest[row, ctr[nslot]] = slot
    ctr[nslot] += 1
    _refresh_bounds(rest, ctr, oi)


@hot
def rest_remove(rest, ctr, oi, slot):
    row = 0 if oi.side[slot] > 0 else 1
    nslot = CT_N_REST_BUY + row
    n = ctr[nslot]
    for j in range(n):
        if rest[row, j] == slot:
            for k in range(j, n - 1):  # keep submission order (deterministic fill order)
                rest[row, k] = rest[row, k + 1]
            ctr[nslot] = n - 1
            break
    _refresh_bounds(rest, ctr, oi)
