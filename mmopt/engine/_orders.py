"""Order table, request/response rings, accounting and fill records (numba helpers)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mmopt.engine._book import BK_BEST_ASK, BK_BEST_BID, NO_ASK, NO_BID
from mmopt.engine._jit import cold, hot
from mmopt.engine._slots import (
    AC_AVG,
    AC_BAL,
    AC_FEES,
    AC_MAXPOS,
    AC_NOTIONAL,
    AC_POS,
    AC_REAL,
    AC_VOL,
    AL_AVG,
    AL_BAL,
    AL_CASH,
    AL_FEES,
    AL_POS,
    AL_REAL,
    CT_BUY_MAX,
    CT_BUY_MIN,
    CT_N_REST_BUY,
    CT_RP_HEAD,
    CT_RP_TAIL,
    CT_RQ_HEAD,
    CT_RQ_TAIL,
    EV_ACTION,
    EV_ID,
    EV_SIDE,
    EV_TS,
    EVF_PRICE,
    EVF_QTY,
    FC_BUY_BPS,
    FC_BUY_UNIT,
    FC_CS,
    FC_FLAT,
    FC_MAKER,
    FC_MAKER_UNIT,
    FC_SELL_BPS,
    FC_SELL_UNIT,
    FC_TAKER,
    FC_TAKER_UNIT,
    FC_TICK,
    FF_CASH,
    FF_FEE,
    FF_MID,
    FF_POS,
    FF_PRICE,
    FF_QHS,
    FF_QTY,
    FI_ID,
    FI_MAKER,
    FI_QUEUE,
    FI_SIDE,
    FI_TS,
    IC_BASE,
    IC_FEE_EXTRA,
    IC_INVERSE,
    IC_RECORD,
    INF_NS,
    N_FILLS,
    N_OEV,
    OI_SIDE,
    OI_TICK,
    RP_KIND,
    RP_MAKER,
    RP_SLOT,
    RP_T,
    RP_TICK,
    RQ_KIND,
    RQ_SLOT,
    RQ_T,
)


@hot
def tick_price(rel_tick, fc, ic):
    """Price of a relative tick, computed as hftbacktest does (tick * tick_size)."""
    return float(rel_tick + ic[IC_BASE]) * fc[FC_TICK]


@hot
def book_mid(bk, fc, ic):
    bb = bk[BK_BEST_BID]
    ba = bk[BK_BEST_ASK]
    if bb == NO_BID or ba == NO_ASK:
        return np.nan
    return 0.5 * (tick_price(bb, fc, ic) + tick_price(ba, fc, ic))


@hot
def amount_of(price, qty, fc, ic):
    """Traded value in the account currency (hftbacktest's AssetType::amount)."""
    if ic[IC_INVERSE]:
        return fc[FC_CS] * qty / price
    return fc[FC_CS] * price * qty


@hot
def net_cash(balance, fees, ic):
    """Cash net of fees from hftbacktest's balance (inverse balance has the opposite sign)."""
    if ic[IC_INVERSE]:
        return -balance - fees
    return balance - fees


@hot
def equity_of(cash, pos, mid, fc, ic):
    if pos == 0.0:
        return cash
    if ic[IC_INVERSE]:
        return cash - fc[FC_CS] * pos / mid
    return cash + fc[FC_CS] * pos * mid


@hot
def _avg_update(acc, i_pos, i_avg, i_real, side, price, qty, fc, ic):
    """Average entry and realised PnL before ``qty`` at ``price`` is applied to acc[i_pos]."""
    pos = acc[i_pos]
    held = abs(pos)
    cs = fc[FC_CS]
    inverse = ic[IC_INVERSE]
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
    fee = (fc[FC_MAKER] if maker else fc[FC_TAKER]) * amount
    if ic[IC_FEE_EXTRA] == 0:
        return fee
    return _with_extra_fees(fee, fc, side, amount, qty, maker)


@cold
def _with_extra_fees(fee, fc, side, amount, qty, maker):
    """``fee`` plus the per-unit, flat and buy- or sell-only parts of one fill's fee."""
    if side > 0:
        fee += fc[FC_BUY_BPS] * amount + fc[FC_BUY_UNIT] * qty
    else:
        fee += fc[FC_SELL_BPS] * amount + fc[FC_SELL_UNIT] * qty
    fee += (fc[FC_MAKER_UNIT] if maker else fc[FC_TAKER_UNIT]) * qty + fc[FC_FLAT]
    return fee


@hot
def account_exchange(acc, fc, ic, side, price, qty, maker):
    """Apply a fill to the exchange-side account; returns the fee."""
    amount, fee = _apply_fill(acc, AC_POS, AC_AVG, AC_REAL, AC_BAL, AC_FEES, side, price, qty,
                              maker, fc, ic)
    acc[AC_VOL] += qty
    acc[AC_NOTIONAL] += amount
    if abs(acc[AC_POS]) > acc[AC_MAXPOS]:
        acc[AC_MAXPOS] = abs(acc[AC_POS])
    return fee


@hot
def account_local(acc, fc, ic, side, price, qty, maker):
    """Apply a received fill to the strategy's view of the account."""
    _apply_fill(acc, AL_POS, AL_AVG, AL_REAL, AL_BAL, AL_FEES, side, price, qty, maker, fc, ic)
    acc[AL_CASH] = net_cash(acc[AL_BAL], acc[AL_FEES], ic)


@hot
def record_fill(fi, ff, cnt, t, oid, queue_ns, side, maker, price, qty, fee, pos, cash, mid,
                qhs):
    k = cnt[N_FILLS]
    fi[k, FI_TS] = t
    fi[k, FI_ID] = oid
    fi[k, FI_QUEUE] = queue_ns
    fi[k, FI_SIDE] = side
    fi[k, FI_MAKER] = 1 if maker else 0
    ff[k, FF_PRICE] = price
    ff[k, FF_QTY] = qty
    ff[k, FF_FEE] = fee
    ff[k, FF_POS] = pos
    ff[k, FF_CASH] = cash
    ff[k, FF_MID] = mid
    ff[k, FF_QHS] = qhs
    cnt[N_FILLS] = k + 1


@hot
def record_event(ei, ef, cnt, ic, t, oid, action, side, price, qty):
    if ic[IC_RECORD] == 0:
        return
    k = cnt[N_OEV]
    if k >= ei.shape[0]:
        return  # the kernel grows the store before it can fill up; never drop silently
    ei[k, EV_TS] = t
    ei[k, EV_ID] = oid
    ei[k, EV_ACTION] = action
    ei[k, EV_SIDE] = side
    ef[k, EVF_PRICE] = price
    ef[k, EVF_QTY] = qty
    cnt[N_OEV] = k + 1


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
    tail = ctr[CT_RQ_TAIL]
    if tail - ctr[CT_RQ_HEAD] >= rq.shape[0]:
        raise ValueError("request ring full: raise EngineConfig.max_orders")
    if tail > ctr[CT_RQ_HEAD]:
        t = max(t, rq[(tail - 1) % rq.shape[0], RQ_T])
    k = tail % rq.shape[0]
    rq[k, RQ_T] = t
    rq[k, RQ_SLOT] = slot
    rq[k, RQ_KIND] = kind
    ctr[CT_RQ_TAIL] = tail + 1


@hot
def next_request_time(rq, ctr):
    if ctr[CT_RQ_HEAD] == ctr[CT_RQ_TAIL]:
        return INF_NS
    return rq[ctr[CT_RQ_HEAD] % rq.shape[0], RQ_T]


@hot
def push_response(rp, rpq, ctr, t, slot, kind, tick, maker, qty):
    tail = ctr[CT_RP_TAIL]
    if tail - ctr[CT_RP_HEAD] >= rp.shape[0]:
        raise ValueError("response ring full: too many fills in flight")
    if tail > ctr[CT_RP_HEAD]:
        t = max(t, rp[(tail - 1) % rp.shape[0], RP_T])
    k = tail % rp.shape[0]
    rp[k, RP_T] = t
    rp[k, RP_SLOT] = slot
    rp[k, RP_KIND] = kind
    rp[k, RP_TICK] = tick
    rp[k, RP_MAKER] = 1 if maker else 0
    rpq[k] = qty
    ctr[CT_RP_TAIL] = tail + 1


@hot
def next_response_time(rp, ctr):
    if ctr[CT_RP_HEAD] == ctr[CT_RP_TAIL]:
        return INF_NS
    return rp[ctr[CT_RP_HEAD] % rp.shape[0], RP_T]


# ---- resting orders at the exchange: rest[0] buys, rest[1] sells (slot lists) ----


@hot
def _refresh_bounds(rest, ctr, oi):
    """Lowest / highest tick of the resting orders of each row (0 buys, 1 sells)."""
    for row in range(2):
        lo = INF_NS
        hi = -INF_NS
        for j in range(ctr[CT_N_REST_BUY + row]):
            t = oi[rest[row, j], OI_TICK]
            lo = min(lo, t)
            hi = max(hi, t)
        ctr[CT_BUY_MIN + 2 * row] = lo
        ctr[CT_BUY_MAX + 2 * row] = hi


@hot
def rest_add(rest, ctr, oi, slot):
    row = 0 if oi[slot, OI_SIDE] > 0 else 1
    nslot = CT_N_REST_BUY + row
    rest[row, ctr[nslot]] = slot
    ctr[nslot] += 1
    _refresh_bounds(rest, ctr, oi)


@hot
def rest_remove(rest, ctr, oi, slot):
    row = 0 if oi[slot, OI_SIDE] > 0 else 1
    nslot = CT_N_REST_BUY + row
    n = ctr[nslot]
    for j in range(n):
        if rest[row, j] == slot:
            for k in range(j, n - 1):  # keep submission order (deterministic fill order)
                rest[row, k] = rest[row, k + 1]
            ctr[nslot] = n - 1
            break
    _refresh_bounds(rest, ctr, oi)
