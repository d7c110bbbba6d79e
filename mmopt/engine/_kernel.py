"""The event loop (numba): one shard, one strategy, arrays in and arrays out.

Order of processing at one timestamp T (hftbacktest's, see docs/engine.md "Clocks"): rows whose
local time is T (the strategy's book; two clocks only), responses due at T, rows whose exchange
time is T (the exchange's book + fills), requests arriving at T, the decision at T, the equity
sample at T. With one clock both books are one and the rows are applied once. Compiled once
with an explicit signature (the strategy's ``decide`` is a first-class function argument), so
the on-disk cache serves every strategy. ``run_kernel`` allocates the state and the outputs;
``_event_loop`` (no allocation, no reference counting) runs the events, returning to
``run_kernel`` only to grow an output buffer; the row loops are in ``_rows.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from mmopt.engine._book import (
    BK_SIZE,
    NO_ASK,
    NO_BID,
    as_book,
    book_init,
)
from mmopt.engine._exchange import (
    MAX_TAKER_LEVELS,
    arrive_cancel,
    arrive_new,
    expire_session,
    fill_order,
)
from mmopt.engine._features import (
    FEATURE_STATE_SIZE,
    as_features,
    features_init,
    features_refresh,
)
from mmopt.engine._jit import cold, hot, step
from mmopt.engine._latency import guard_update
from mmopt.engine._local import (
    fill_context,
    on_response,
    reconcile,
    reset_outputs,
    send_taker,
    submit,
)
from mmopt.engine._named import plain_array
from mmopt.engine._orders import (
    amount_of,
    book_mid,
    equity_of,
    grow_rows,
    net_cash,
    next_request_time,
    next_response_time,
)
from mmopt.engine._rows import exchange_rows, local_rows
from mmopt.engine._slots import (
    AC_N,
    AK_N,
    CT_N,
    EV_N,
    EVF_N,
    FF_N,
    FI_N,
    INF_NS,
    N_COUNTERS,
    OF_N,
    OI_N,
    RP_N,
    RQ_N,
    RQK_NEW,
    as_account,
    as_acks,
    as_event_floats,
    as_event_ints,
    as_fill_floats,
    as_fill_ints,
    as_float_settings,
    as_int_settings,
    as_order_counters,
    as_order_floats,
    as_order_ints,
    as_requests,
    as_responses,
    as_run_counters,
)
from mmopt.engine._state import EngineState, with_book
from mmopt.engine.layout import (
    A_NSLOTS,
    A_TAKER_QTY,
    A_TAKER_SIDE,
    C_FEAT_ELAPSED,
    C_OFI,
    C_OFI_Z,
    C_QUOTING_ALLOWED,
    C_VOL_BASE,
    C_VOL_EWMA,
    C_VOL_ROLL,
    CTX_SIZE,
    DECIDE_FN,
    O_NCOL,
)

# Where the event loop stands when it returns to grow an output buffer (see _event_loop).
LOOP_DTYPE = np.dtype([
    ("row", np.int64),  # next row in exchange-time order
    ("local_row", np.int64),  # next row in local-time order (two clocks)
    ("next_step", np.int64),  # local time of the next decision on the step grid
    ("fill_decision", np.int64),  # local time of a decision a fill triggered (INF_NS: none)
    ("eq_k", np.int64),  # next equity sample
    ("t_done", np.int64),  # time of the last event processed
])

_I1 = types.Array(types.int64, 1, "C")
_I2 = types.Array(types.int64, 2, "C")
_F1 = types.Array(types.float64, 1, "C")
_F2 = types.Array(types.float64, 2, "C")
_B2 = types.Array(types.boolean, 2, "C")
_RO_I8 = types.Array(types.int64, 1, "C", readonly=True)
_RO_I1 = types.Array(types.int8, 1, "C", readonly=True)
_RO_F8 = types.Array(types.float64, 1, "C", readonly=True)
_RO_I2 = types.Array(types.int64, 2, "C", readonly=True)
_RO_I4 = types.Array(types.int32, 1, "C", readonly=True)
KERNEL_SIG = types.Tuple((_I2, _F2, _I2, _F2, _I1, _F1, _I2))(
    _RO_I8, _RO_I1, _RO_I8, _RO_F8, _RO_I8, _RO_I4, _I1, _F1, DECIDE_FN, _F1, _F1, _F1, _I1, _F2,
    _B2, _RO_I2
)


@hot
def _rng_uniform(ctr):
    """splitmix64 -> a uniform draw in [0, 1); state in ctr.rng."""
    z = np.uint64(ctr.rng) + np.uint64(0x9E3779B97F4A7C15)
    ctr.rng = np.int64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@cold
def _intensity_fills(E, fi, ff, ei, ef, cs, cq, t):
    """Intensity model: each resting order fills with prob 1 - exp(-lambda * dt)."""
    bk, oi, of, rest, ctr, fc, ic = E.bk, E.oi, E.of, E.rest, E.ctr, E.fc, E.ic
    dt_s = (t - ctr.last_intensity) / 1e9
    ctr.last_intensity = t
    mid = book_mid(bk, fc, ic)
    if dt_s <= 0.0 or math.isnan(mid):
        return
    nc = 0
    for row in range(2):
        n = ctr.n_rest_buy if row == 0 else ctr.n_rest_sell
        for j in range(n):
            s = rest[row, j]
            if row == 0:
                d_ticks = max(bk.best_bid - oi.tick[s], 0)
            else:
                d_ticks = max(oi.tick[s] - bk.best_ask, 0)
            d_bps = d_ticks * fc.tick_size / mid * 1e4
            rate = fc.lambda0 * math.exp(-fc.alpha * d_bps)
            if _rng_uniform(ctr) < -math.expm1(-rate * dt_s):
                cs[nc] = s
                cq[nc] = of.leaves_ex[s]
                nc += 1
    for a in range(nc):
        fill_order(E, fi, ff, ei, ef, cs[a], cq[a], oi.tick[cs[a]], True, t)


@hot
def _decision(E, EL, BL, decide, params, state, W, fstate, fi, ff, ei, ef, cs, cq, t, t0, trig,
              acks):
    """The strategy's decision at local time ``t`` on its own (local) book ``EL.bk``/``BL``."""
    ctr, cnt, acc, fc, ic = E.ctr, E.cnt, E.acc, E.fc, E.ic
    ctx = W[0]
    ordview = W[1]
    quotes = W[2]
    act = W[3]
    if ic.fill_model == 1:
        _intensity_fills(E, fi, ff, ei, ef, cs, cq, t)
    guard_update(E, acks, t)
    allowed = ic.q_start <= t < ic.q_end and t < ic.flatten_at and ctr.guard == 0
    fill_context(EL, BL, ctx, ordview, t, t0, trig, ic.session_end)
    ctx[C_QUOTING_ALLOWED] = 1.0 if allowed else 0.0
    if ic.use_feat == 1:
        features_refresh(fstate, t)
        ctx[C_VOL_EWMA] = fstate.vol_ewma
        ctx[C_VOL_BASE] = fstate.vol_base
        ctx[C_VOL_ROLL] = fstate.vol_roll
        ctx[C_OFI] = fstate.ofi
        ctx[C_OFI_Z] = fstate.ofi_z
        ctx[C_FEAT_ELAPSED] = fstate.elapsed_s
    else:
        ctx[C_VOL_EWMA] = np.nan
        ctx[C_VOL_BASE] = np.nan
        ctx[C_VOL_ROLL] = np.nan
        ctx[C_OFI] = np.nan
        ctx[C_OFI_Z] = np.nan
        ctx[C_FEAT_ELAPSED] = np.nan
    reset_outputs(quotes, act)
    decide(ctx, BL[0], BL[1], ordview, params, state, quotes, act)
    cnt.decisions += 1
    reconcile(EL, ei, ef, quotes, act, t, allowed)
    pos = acc.local_pos
    if t >= ic.flatten_at:
        if abs(pos) > 1e-9 * fc.lot_size:
            send_taker(EL, ei, ef, t, -1 if pos > 0.0 else 1, abs(pos))
    elif allowed and act[A_TAKER_SIDE] != 0.0 and act[A_TAKER_QTY] > 0.0:
        send_taker(EL, ei, ef, t, 1 if act[A_TAKER_SIDE] > 0.0 else -1, act[A_TAKER_QTY])


@hot
def _sample_equity(E, eq_ts, eq_f, eq_b, k, t):
    bk, ctr, cnt, acc, fc, ic = E.bk, E.ctr, E.cnt, E.acc, E.fc, E.ic
    mid = book_mid(bk, fc, ic)
    if not math.isnan(mid):
        acc.last_mid = mid
    mark = acc.last_mid
    cash = net_cash(acc.bal, acc.fees, ic)
    eq_ts[k] = t
    eq_f[k, 0] = mark
    eq_f[k, 1] = acc.pos
    eq_f[k, 2] = cash
    eq_f[k, 3] = equity_of(cash, acc.pos, mark, fc, ic)
    eq_f[k, 4] = acc.fees
    eq_b[k, 0] = ctr.n_rest_buy > 0
    eq_b[k, 1] = ctr.n_rest_sell > 0
    cnt.eq = k + 1


@njit(cache=True)
def _new_book(w, n_ov):
    """An empty book: its scalars, and its arrays (bid and ask sizes over a window of ``w``
    ticks; ``n_ov`` overflow slots a side for levels outside it: ticks, sizes)."""
    bk = as_book(np.zeros(BK_SIZE, dtype=np.int64))
    book_init(bk, w)
    arrays = (np.zeros(w), np.zeros(w), np.zeros(n_ov, dtype=np.int64), np.zeros(n_ov),
              np.zeros(n_ov, dtype=np.int64), np.zeros(n_ov))
    return bk, arrays


@njit(cache=True)
def _init_state(ic, fc, n_ov, w, lat):
    m = ic.maxord
    bk, B = _new_book(w, n_ov)
    ctr = as_order_counters(np.zeros(CT_N, dtype=np.int64))
    ctr.buy_min = INF_NS
    ctr.buy_max = -INF_NS
    ctr.sell_min = INF_NS
    ctr.sell_max = -INF_NS
    ctr.rng = ic.seed * 7919 + 12345
    ctr.lat_rng = ic.seed * 104729 + 7
    ctr.sess_close = ic.sess_close
    acc = as_account(np.zeros(AC_N))
    acc.avg = np.nan
    acc.local_avg = np.nan
    acc.last_mid = np.nan
    acc.local_last_bid_fill = -np.inf
    acc.local_last_ask_fill = -np.inf
    acc.local_last_bid_place = -np.inf
    acc.local_last_ask_place = -np.inf
    pos0 = fc.init_pos
    if pos0 != 0.0:  # a carried position, valued at the first price (equity starts at 0)
        bal = amount_of(fc.init_price, abs(pos0), fc, ic) * (1.0 if pos0 < 0.0 else -1.0)
        acc.pos = pos0
        acc.local_pos = pos0
        acc.bal = bal
        acc.local_bal = bal
        acc.avg = fc.init_price
        acc.local_avg = fc.init_price
        acc.local_cash = net_cash(bal, 0.0, ic)
        acc.maxpos = abs(pos0)
    E = EngineState(
        bk=bk,
        oi=as_order_ints(np.zeros((m, OI_N), dtype=np.int64)),
        of=as_order_floats(np.zeros((m, OF_N))),
        rest=np.zeros((2, m), dtype=np.int64),
        ctr=ctr,
        cnt=as_run_counters(np.zeros(N_COUNTERS, dtype=np.int64)),
        acc=acc,
        rp=as_responses(np.zeros((8 * m + 4096, RP_N), dtype=np.int64)),
        rpq=np.zeros(8 * m + 4096),
        fc=fc,
        ic=ic,
        rq=as_requests(np.zeros((2 * m + 8, RQ_N), dtype=np.int64)),
        ul=np.zeros(m, dtype=np.int64),
        lat=lat,
    )
    return E, B


@cold
def _end_flat(E, B, fi, ff, ei, ef, t):
    """Close what is left at the last book with a taker order (end_flat)."""
    acc, fc = E.acc, E.fc
    pos = acc.pos
    if abs(pos) <= 1e-9 * fc.lot_size:
        return
    side = -1 if pos > 0.0 else 1
    if submit(E, ei, ef, t, side, -1, np.int64(0), abs(pos), True):
        ctr, rq = E.ctr, E.rq
        head = ctr.rq_head
        ctr.rq_head = head + 1
        arrive_new(E, B, fi, ff, ei, ef, rq.slot[head % rq.shape[0]], t)


@hot
def _next_request_arrives(E, B, ctr, rq, fi, ff, ei, ef, t):
    """The oldest request in flight reaches the exchange at ``t`` (a new order or a cancel)."""
    head = ctr.rq_head
    k = head % rq.shape[0]
    ctr.rq_head = head + 1
    if rq.kind[k] == RQK_NEW:
        arrive_new(E, B, fi, ff, ei, ef, rq.slot[k], t)
    else:
        arrive_cancel(E, ei, ef, rq.slot[k], t)


@step
def _event_loop(E, B, EL, BL, W, fi, ff, ei, ef, acks, cs, cq, fstate, lt, xt, ts, code, rel, qty,
                ex_ts, ex_order, decide, params, state, eq_ts, eq_f, eq_b, loop):
    """The event loop (no allocation, no reference counting): returns True when the shard is
    done, False when an output buffer must grow first (the loop's position is in ``loop``)."""
    bk, ctr, cnt, rp, rpq, fc, ic, rq = E.bk, E.ctr, E.cnt, E.rp, E.rpq, E.fc, E.ic, E.rq
    n = ts.shape[0]
    two = ic.two_clocks == 1
    sh = ic.local_shift if two else 0
    n_l = n if two else 0
    use_feat = ic.use_feat == 1
    feat_x = use_feat and not two
    dec_on_fill = ic.decide_on_fill == 1
    n_grid = ic.n_eq
    t0 = ts[0] + sh
    pos = loop[0]
    i = pos.row
    il = pos.local_row
    next_step = pos.next_step
    fill_dec = pos.fill_decision
    eq_k = pos.eq_k
    t_done = pos.t_done
    done = False
    while True:
        if _needs_room(cnt, ic, fi, ei, acks):
            break  # the caller grows the output buffers and calls again
        t_rp = next_response_time(rp, ctr)
        t_rq = next_request_time(rq, ctr)
        t_row = INF_NS if i >= n else ex_ts[ex_order[i]] if two else ex_ts[i]
        t_dec = min(next_step, fill_dec)
        t_eq = eq_ts[eq_k] if eq_k < n_grid else INF_NS
        t_other = min(t_rq, min(t_dec, t_eq))
        t_x = ctr.sess_close
        if t_x <= t_rp and t_x <= t_row and t_x <= t_other and i < n:
            expire_session(E, ei, ef, t_x)  # before the rows at the close time
            ctr.sess_close = INF_NS
            continue
        # local rows first at a tie; they only touch the strategy's book (two clocks)
        lim_l = min(min(t_rp, t_row), t_other)
        if il < n_l and ts[il] + sh <= lim_l:
            il = local_rows(E, EL.bk, BL, fc, ic, fstate, use_feat, ts, code, rel, qty, il, n_l,
                            sh, lim_l, lt)
            t_done = max(t_done, ts[il - 1] + sh)
            continue
        if t_rp <= t_row and t_rp <= t_other:
            if on_response(E, rp, rpq, t_rp, acks) and dec_on_fill:
                fill_dec = min(fill_dec, t_rp)
            t_done = max(t_done, t_rp)
            continue
        if t_row <= t_other:
            lim = min(t_rp, t_other + 1)
            i = exchange_rows(E, bk, B, fc, ic, fi, ff, ei, ef, cs, cq, fstate, feat_x, code, rel,
                              qty, ex_ts, ex_order, two, i, n, lim, xt)
            t_done = max(t_done, ex_ts[ex_order[i - 1]] if two else ex_ts[i - 1])
            continue
        if t_rq <= t_dec and t_rq <= t_eq:
            _next_request_arrives(E, B, ctr, rq, fi, ff, ei, ef, t_rq)
            t_done = max(t_done, t_rq)
            continue
        if t_dec <= t_eq:
            if not (i < n or il < n_l or t_rq < INF_NS or t_rp < INF_NS):
                done = True  # as hftbacktest's elapse: no decision once nothing is left
                break
            trig = (1 if t_dec == next_step else 0) | (2 if t_dec == fill_dec else 0)
            _decision(E, EL, BL, decide, params, state, W, fstate, fi, ff, ei, ef, cs, cq, t_dec,
                      t0, trig, acks)
            if t_dec == next_step:
                next_step += ic.step_ns
            if t_dec == fill_dec:
                fill_dec = INF_NS
            continue
        _sample_equity(EL, eq_ts, eq_f, eq_b, eq_k, t_eq)
        eq_k += 1
    pos.row = i
    pos.local_row = il
    pos.next_step = next_step
    pos.fill_decision = fill_dec
    pos.eq_k = eq_k
    pos.t_done = t_done
    return done


@hot
def _room_needed(cnt, ic):
    """Rows the output buffers need before the next event: (fills, order events, acks); order
    events only when recorded (0 otherwise)."""
    m = ic.maxord
    events = cnt.oev + 4 * m + MAX_TAKER_LEVELS + 8 if ic.record == 1 else 0
    return cnt.fills + m + MAX_TAKER_LEVELS + 8, events, cnt.acks + m + 8


@hot
def _needs_room(cnt, ic, fi, ei, acks):
    """An output buffer may be too small for the next event (fills, order events, acks)."""
    n_fills, n_events, n_acks = _room_needed(cnt, ic)
    return n_fills > fi.shape[0] or n_events > ei.shape[0] or n_acks > acks.shape[0]


@njit(cache=True)
def _finish(E, B, EL, fi, ff, ei, ef, acks, eq_ts, eq_f, eq_b, pos):
    """After the last event (``pos.t_done``): with end_flat, a taker order for what is left
    and the responses it brings; then the equity samples left on the grid and a last one at
    the last event's time. Returns ``acks``, grown if it had to be."""
    ctr, cnt, rp, rpq, ic = E.ctr, E.cnt, E.rp, E.rpq, E.ic
    t_done = pos.t_done
    n_grid = ic.n_eq
    if ic.end_flat == 1:
        _end_flat(E, B, fi, ff, ei, ef, t_done)
        n_acks = _room_needed(cnt, ic)[2]
        if n_acks > acks.shape[0]:
            acks = as_acks(grow_rows(plain_array(acks), n_acks))
        while next_response_time(rp, ctr) < INF_NS:
            on_response(E, rp, rpq, next_response_time(rp, ctr), acks)
    eq_k = pos.eq_k
    while eq_k < n_grid:
        _sample_equity(EL, eq_ts, eq_f, eq_b, eq_k, eq_ts[eq_k])
        eq_k += 1
    _sample_equity(EL, eq_ts, eq_f, eq_b, n_grid, t_done)
    return acks


@njit(KERNEL_SIG, cache=True)
def run_kernel(ts, code, rel, qty, ex_ts, ex_order, ic_array, fc_array, decide, params, state,
               feat_params, eq_ts, eq_f, eq_b, lat):
    """``ts``..``qty``: the rows in local order; ``ex_ts``: their exchange times (``ts`` with
    one clock). Two clocks: the exchange side visits the rows in the order ``ex_order`` (by
    exchange time, no second copy of the rows); local times are ``ts + ic.local_shift``."""
    ic = as_int_settings(ic_array)
    fc = as_float_settings(fc_array)
    m = ic.maxord
    w = ic.window
    E, B = _init_state(ic, fc, ic.n_overflow, w, lat)
    bk, ctr, cnt, acc = E.bk, E.ctr, E.cnt, E.acc
    acks = as_acks(np.zeros((256, AK_N), dtype=np.int64))
    W = (np.zeros(CTX_SIZE), np.zeros((m, O_NCOL)), np.zeros((2, ic.nlevels, 2)),
         np.zeros(A_NSLOTS))
    fi = as_fill_ints(np.zeros((1024, FI_N), dtype=np.int64))
    ff = as_fill_floats(np.zeros((1024, FF_N)))
    n_ev = 4096 if ic.record == 1 else 1
    ei = as_event_ints(np.zeros((n_ev, EV_N), dtype=np.int64))
    ef = as_event_floats(np.zeros((n_ev, EVF_N)))
    cs = np.zeros(m + 1, dtype=np.int64)
    cq = np.zeros(m + 1)
    use_feat = ic.use_feat == 1
    fstate = as_features(np.zeros(FEATURE_STATE_SIZE if use_feat else 1))
    if use_feat:
        features_init(fstate, feat_params)
    # two clocks: the strategy's own book, fed with the rows at their local times
    two = ic.two_clocks == 1
    sh = ic.local_shift if two else 0
    lt = np.array([NO_ASK, NO_BID], dtype=np.int64)
    if two:
        bk_l, BL = _new_book(w, ic.n_overflow)
    else:
        bk_l = bk
        BL = B
    EL = with_book(E, bk_l)
    xt = np.array([NO_ASK, NO_BID], dtype=np.int64)  # exchange side: ticks of the last `bid`
    # / `ask` rows (level rows better than them are stale depth)
    t0 = ts[0] + sh
    ctr.last_intensity = t0
    loop = np.zeros(1, dtype=LOOP_DTYPE)
    pos = loop[0]
    pos.next_step = t0 + ic.step_ns
    pos.fill_decision = INF_NS
    pos.t_done = t0
    while not _event_loop(E, B, EL, BL, W, fi, ff, ei, ef, acks, cs, cq, fstate, lt, xt, ts, code,
                          rel, qty, ex_ts, ex_order, decide, params, state, eq_ts, eq_f, eq_b,
                          loop):
        n_fills, n_events, n_acks = _room_needed(cnt, ic)
        if n_fills > fi.shape[0]:
            fi = as_fill_ints(grow_rows(plain_array(fi), n_fills))
            ff = as_fill_floats(grow_rows(plain_array(ff), n_fills))
        if n_events > ei.shape[0]:
            ei = as_event_ints(grow_rows(plain_array(ei), n_events))
            ef = as_event_floats(grow_rows(plain_array(ef), ei.shape[0]))
        if n_acks > acks.shape[0]:
            acks = as_acks(grow_rows(plain_array(acks), n_acks))
    acks = _finish(E, B, EL, fi, ff, ei, ef, acks, eq_ts, eq_f, eq_b, pos)
    return (plain_array(fi), plain_array(ff), plain_array(ei), plain_array(ef), plain_array(cnt),
            plain_array(acc), plain_array(acks))
