"""The hftbacktest oracle: mmopt events -> hftbacktest events, and the touch quoter run in it.

Test/benchmark helper only (hftbacktest is never imported by ``mmopt``). The rules this module
relies on, and the way mmopt rows map to hftbacktest rows, are written down in
``docs/engine.md``.

Mapping (docs/engine.md, sections "Book" and "Clocks"):

* ``bid_level`` -> ``DEPTH_EVENT | BUY_EVENT`` (price-keyed "size at this price is now qty");
  ``ask_level`` -> ``DEPTH_EVENT | SELL_EVENT``.
* ``bid`` / ``ask`` ("the best price is now P"; hftbacktest 2.4.4 ignores ``DEPTH_BBO_EVENT``
  rows entirely) -> one explicit removal (qty 0) per stored level better than P, then the level
  update at P. A NaN price (empty side) -> a removal per stored level of that side.
* A ``*_level`` row priced better than the side's last ``bid``/``ask`` row is stale depth: dropped.
* ``trade`` -> ``TRADE_EVENT`` with ``BUY_EVENT`` / ``SELL_EVENT`` from the aggressor side.
* Clocks: one clock (no exchange times, or all equal to ``ts_ns``): every row is seen by both
  processors at ``ts_ns``. Two clocks: the exchange processor gets the rows in exchange-time
  order (null times estimated by ``mmopt.engine.clock``), the local processor gets them in local
  order at ``ts_ns`` + the clock shift; the removals above are worked out per timeline, since
  each side's book sees the rows in its own order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hftbacktest import (
    BUY_EVENT,
    DEPTH_EVENT,
    EXCH_EVENT,
    GTX,
    LIMIT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
    event_dtype,
)
from numba import njit

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_SELL,
    Instrument,
)
from mmopt.engine.clock import exchange_times, local_clock_shift

__all__ = [
    "FILL_RECORD_DTYPE",
    "HbtInput",
    "OracleConfig",
    "OracleResult",
    "aligned_empty",
    "explicit_rows",
    "run_touch_quoter",
    "to_hbt_events",
]

# hftbacktest order status / request codes (hftbacktest/order.py)
_STATUS_NEW = 1
_STATUS_EXPIRED = 2
_STATUS_FILLED = 3
_STATUS_CANCELED = 4
_REQ_NONE = 0
_REQ_CANCELED = 4
_INVALID_MIN = np.iinfo(np.int64).min
_INVALID_MAX = np.iinfo(np.int64).max

# One row per fill of ours, as hftbacktest reports it (exchange-side fill time).
FILL_RECORD_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),
        ("side", np.int8),
        ("price_tick", np.int64),
        ("price", np.float64),
        ("qty", np.float64),
        ("is_maker", np.bool_),
        ("order_id", np.int64),
    ]
)


def aligned_empty(n: int, dtype: np.dtype, align: int = 64) -> np.ndarray:
    """An uninitialised array of ``n`` items whose data pointer is ``align``-byte aligned."""
    nbytes = max(n, 1) * dtype.itemsize
    raw = np.empty(nbytes + align, dtype=np.uint8)
    offset = (-raw.ctypes.data) % align
    return raw[offset : offset + n * dtype.itemsize].view(dtype)


def _round_half_away(x: float) -> int:
    return int(np.trunc(x) + (np.sign(x) if abs(x - np.trunc(x)) >= 0.5 else 0.0))


def explicit_rows(events: np.ndarray, tick_size: float, lot_size: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows of one timeline (in the order given) as hftbacktest rows.

    Returns (source row, ev flags without EXCH/LOCAL, px, qty) per output row: a ``bid``/``ask``
    row becomes explicit removals of the stored better levels (best first) then its level update;
    stale depth rows are dropped. Tracks the stored levels exactly as a price-keyed book does."""
    kind = events["kind"].tolist()
    side = events["side"].tolist()
    price = events["price"].tolist()
    qty = events["qty"].tolist()
    books: tuple[dict[int, float], dict[int, float]] = ({}, {})  # tick -> px, bids / asks
    top: list[int | None] = [None, None]  # last top tick per side (None: no top row yet)
    bound = [-(2**62), 2**62]  # highest stored bid tick / lowest stored ask tick (bounds)
    src: list[int] = []
    flags: list[int] = []
    pxs: list[float] = []
    qtys: list[float] = []
    for i, k in enumerate(kind):
        if k == KIND_TRADE:
            s = side[i]
            f = TRADE_EVENT | (BUY_EVENT if s == SIDE_BUY else SELL_EVENT if s == SIDE_SELL else 0)
            src.append(i)
            flags.append(f)
            pxs.append(price[i])
            qtys.append(qty[i])
            continue
        if k not in (KIND_BID, KIND_ASK, KIND_BID_LEVEL, KIND_ASK_LEVEL):
            raise ValueError(f"row {i}: unknown kind {k}")
        b = 0 if k in (KIND_BID, KIND_BID_LEVEL) else 1
        flag = DEPTH_EVENT | (BUY_EVENT if b == 0 else SELL_EVENT)
        stored = books[b]
        p = price[i]
        is_top = k in (KIND_BID, KIND_ASK)
        tk = _round_half_away(p / tick_size) if np.isfinite(p) else None
        if is_top:
            if tk is None:  # empty side: every stored level goes
                gone = sorted(stored, reverse=(b == 0))
                top[b] = -(2**62) if b == 0 else 2**62
            elif b == 0:
                gone = _beyond(stored, tk, bound[0], True)
                top[0] = tk
            else:
                gone = _beyond(stored, tk, bound[1], False)
                top[1] = tk
            for t in gone:
                src.append(i)
                flags.append(flag)
                pxs.append(stored.pop(t))
                qtys.append(0.0)
            if tk is None:
                continue
            bound[b] = tk  # nothing better than tk is stored now
        else:
            if tk is None:
                raise ValueError(f"row {i}: a level row needs a finite price")
            lim = top[b]
            if lim is not None and ((tk > lim) if b == 0 else (tk < lim)):
                continue  # stale depth
        if _round_half_away(qty[i] / lot_size) == 0:
            stored.pop(tk, None)
        else:
            stored[tk] = p
            bound[b] = max(bound[b], tk) if b == 0 else min(bound[b], tk)
        src.append(i)
        flags.append(flag)
        pxs.append(p)
        qtys.append(qty[i])
    return (np.asarray(src, dtype=np.int64), np.asarray(flags, dtype=np.uint64),
            np.asarray(pxs, dtype=np.float64), np.asarray(qtys, dtype=np.float64))


def _beyond(stored: dict[int, float], tk: int, bound: int, bids: bool) -> list[int]:
    """Stored ticks better than ``tk`` (above it for bids), best first; ``bound`` bounds them."""
    span = bound - tk if bids else tk - bound
    if span <= 0:
        return []
    if span < len(stored):
        ticks = range(bound, tk, -1) if bids else range(bound, tk)
        return [t for t in ticks if t in stored]
    return sorted((t for t in stored if (t > tk if bids else t < tk)), reverse=bids)


@dataclass(frozen=True, slots=True)
class HbtInput:
    """hftbacktest's input and the clock it was built with."""

    data: np.ndarray  # event_dtype, 64-byte aligned
    two_clocks: bool
    local_shift_ns: int
    first_local_ns: int  # the first row's local time (mmopt's decision grid starts here)
    first_event_ns: int  # hftbacktest's clock starts at its earliest event


def to_hbt_events(events: np.ndarray, instrument: Instrument,
                  feed_latency_base_ns: int | None = 1_000_000, clocks: str = "auto"
                  ) -> HbtInput:
    """Convert an ``EVENT_DTYPE`` array into hftbacktest's ``event_dtype`` (see the module doc)."""
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"expected EVENT_DTYPE events, got {events.dtype}")
    ts = events["ts_ns"].astype(np.int64)
    exch = exchange_times(ts, events["exch_ts_ns"].astype(np.int64)) if clocks == "auto" else None
    tick, lot = instrument.tick_size, instrument.lot_size
    if exch is None:
        src, flags, px, qty = explicit_rows(events, tick, lot)
        out = aligned_empty(len(src), event_dtype)
        out["ev"] = flags | np.uint64(EXCH_EVENT | LOCAL_EVENT)
        out["exch_ts"] = ts[src]
        out["local_ts"] = ts[src]
        _fill(out, px, qty)
        return HbtInput(out, False, 0, int(ts[0]), int(ts[0]))
    shift = local_clock_shift(exch.min_latency_ns, feed_latency_base_ns, instrument.security)
    local = ts + shift
    xsrc, xflags, xpx, xqty = explicit_rows(events[exch.order], tick, lot)
    xsrc = exch.order[xsrc]
    lsrc, lflags, lpx, lqty = explicit_rows(events, tick, lot)
    nx = len(xsrc)
    out = aligned_empty(nx + len(lsrc), event_dtype)
    out["ev"][:nx] = xflags | np.uint64(EXCH_EVENT)
    out["ev"][nx:] = lflags | np.uint64(LOCAL_EVENT)
    out["exch_ts"][:nx] = exch.exch_ts[xsrc]
    out["local_ts"][:nx] = local[xsrc]
    out["exch_ts"][nx:] = exch.exch_ts[lsrc]
    out["local_ts"][nx:] = local[lsrc]
    _fill(out, np.concatenate((xpx, lpx)), np.concatenate((xqty, lqty)))
    first_event = int(min(exch.exch_ts.min(), local[0]))
    return HbtInput(out, True, shift, int(local[0]), first_event)


def _fill(out: np.ndarray, px: np.ndarray, qty: np.ndarray) -> None:
    out["px"] = px
    out["qty"] = qty
    out["order_id"] = 0
    out["ival"] = 0
    out["fval"] = 0.0


@dataclass(frozen=True, slots=True)
class OracleConfig:
    """The touch quoter's settings in the oracle (times in ns)."""

    step_ns: int = 100_000_000
    entry_latency_ns: int = 0
    response_latency_ns: int = 0
    quote_lots: int = 1
    max_position_lots: int = 10
    decide_on_fill: bool = True  # also decide when a fill response reaches the local
    first_decision_ns: int | None = None  # None: first row's ts + step (hftbacktest's elapse)
    maker_fee_bps: float | None = None  # None: from the Instrument
    taker_fee_bps: float | None = None
    feed_latency_base_ns: int | None = 1_000_000  # as EngineConfig: the clock fix
    clocks: str = "auto"  # as EngineConfig.clocks


@dataclass(frozen=True, slots=True)
class OracleResult:
    """What hftbacktest reports at the end of the run (local state after all buses drained)."""

    fills: np.ndarray  # FILL_RECORD_DTYPE, sorted by (ts_ns, order_id)
    position: float
    balance: float  # hftbacktest's balance: excludes fees; inverse: minus the coin cash
    fee: float
    num_trades: int
    trading_volume: float
    trading_value: float
    n_submitted: int
    n_cancel_requests: int
    n_decisions: int
    n_blocked: int  # submits skipped by the position guard
    n_rejected: int  # post-only orders expired on arrival (would have crossed)
    n_cancelled: int  # cancel acks received


def _build_backtest(data: np.ndarray, instrument: Instrument, cfg: OracleConfig):  # type: ignore[no-untyped-def]
    maker = instrument.maker_fee_bps if cfg.maker_fee_bps is None else cfg.maker_fee_bps
    taker = instrument.taker_fee_bps if cfg.taker_fee_bps is None else cfg.taker_fee_bps
    asset = BacktestAsset().data(data)
    if instrument.is_inverse:
        asset = asset.inverse_asset(instrument.contract_size)
    else:
        asset = asset.linear_asset(instrument.contract_size)
    asset = (
        asset.constant_order_latency(cfg.entry_latency_ns, cfg.response_latency_ns)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(maker / 1e4, taker / 1e4)
        .tick_size(instrument.tick_size)
        .lot_size(instrument.lot_size)
        .last_trades_capacity(0)
    )
    return HashMapMarketDepthBacktest([asset])


def run_touch_quoter(
    events: np.ndarray, instrument: Instrument, cfg: OracleConfig, fill_capacity: int = 0,
    prepared: HbtInput | None = None,
) -> OracleResult:
    """Run the touch quoter (docs/engine.md) in hftbacktest on ``events``
    (``prepared``: their to_hbt_events() with the same clock settings, to convert once)."""
    if len(events) == 0:
        raise ValueError("no events")
    hin = prepared or to_hbt_events(events, instrument, cfg.feed_latency_base_ns, cfg.clocks)
    data = hin.data
    hbt = _build_backtest(data, instrument, cfg)
    t0 = hin.first_event_ns  # hftbacktest's clock starts at its earliest event
    local0 = hin.first_local_ns
    first = local0 + cfg.step_ns if cfg.first_decision_ns is None else int(cfg.first_decision_ns)
    if first <= t0:
        raise ValueError("first_decision_ns must be after the first row")
    cap = fill_capacity if fill_capacity > 0 else min(len(events), 2_000_000) + 64
    fills = np.zeros(cap, dtype=FILL_RECORD_DTYPE)
    counters = np.zeros(7, dtype=np.int64)  # fills submitted cancels decisions blocked
    # rejected(expired) cancelled
    lot = instrument.lot_size
    args = (hbt, t0, first, cfg.step_ns, lot, instrument.tick_size, cfg.quote_lots,
            cfg.max_position_lots, fills, counters)
    rc = _loop_with_fill_decisions(*args) if cfg.decide_on_fill else _loop_on_steps(*args)
    if rc < 0:
        raise RuntimeError(f"hftbacktest returned error code {rc} (or fill capacity {cap} full)")
    sv = hbt.state_values(0)
    result_state = (sv.position, sv.balance, sv.fee, sv.num_trades, sv.trading_volume,
                    sv.trading_value)
    hbt.close()
    del data  # the backtester borrowed it; keep it alive until close()
    out = fills[: counters[0]].copy()
    out = out[np.lexsort((out["order_id"], out["ts_ns"]))]
    return OracleResult(
        fills=out,
        position=float(result_state[0]),
        balance=float(result_state[1]),
        fee=float(result_state[2]),
        num_trades=int(result_state[3]),
        trading_volume=float(result_state[4]),
        trading_value=float(result_state[5]),
        n_submitted=int(counters[1]),
        n_cancel_requests=int(counters[2]),
        n_decisions=int(counters[3]),
        n_blocked=int(counters[4]),
        n_rejected=int(counters[5]),
        n_cancelled=int(counters[6]),
    )


@njit(cache=False)  # jitclass args with ctypes pointers cannot be cached
def _collect_fills(hbt, tick, fills, counters):  # type: ignore[no-untyped-def]
    """Record every order the local side now sees as FILLED, then drop inactive orders."""
    found = False
    values = hbt.orders(0).values()
    while values.has_next():
        o = values.get()
        if o.status == _STATUS_FILLED:
            n = counters[0]
            if n >= len(fills):
                counters[0] = -1
                return False
            fills[n].ts_ns = o.exch_timestamp
            fills[n].side = o.side
            fills[n].price_tick = o.exec_price_tick
            fills[n].price = o.exec_price_tick * tick
            fills[n].qty = o.exec_qty
            fills[n].is_maker = o.arr[0].maker
            fills[n].order_id = o.order_id
            counters[0] = n + 1
            found = True
        elif o.status == _STATUS_EXPIRED:
            counters[5] += 1
        elif o.status == _STATUS_CANCELED:
            counters[6] += 1
    hbt.clear_inactive_orders(0)
    return found


@njit(cache=False)  # jitclass args with ctypes pointers cannot be cached
def _decide(hbt, lot, quote_lots, max_lots, counters):  # type: ignore[no-untyped-def]
    """One touch-quoter decision on the local view (docs/engine.md)."""
    counters[3] += 1
    depth = hbt.depth(0)
    bb = depth.best_bid_tick
    ba = depth.best_ask_tick
    pos_lots = int(np.round(hbt.position(0) / lot))
    bid_lots = min(quote_lots, max_lots - pos_lots)
    ask_lots = min(quote_lots, max_lots + pos_lots)
    want_bid = bid_lots > 0 and bb != _INVALID_MIN
    want_ask = ask_lots > 0 and ba != _INVALID_MAX
    have_bid = False
    have_ask = False
    alive_buy_lots = 0  # every locally alive order, whatever its request state (the guard)
    alive_sell_lots = 0
    to_cancel = np.empty(64, dtype=np.int64)
    n_cancel = 0
    values = hbt.orders(0).values()
    while values.has_next():
        o = values.get()
        if o.status == _STATUS_FILLED or o.status == _STATUS_CANCELED:
            continue
        if o.status == _STATUS_EXPIRED:
            continue
        leaves_lots = int(np.round(o.leaves_qty / lot))
        if o.side == 1:
            alive_buy_lots += leaves_lots
        else:
            alive_sell_lots += leaves_lots
        if o.req == _REQ_CANCELED:
            continue
        if o.side == 1:
            if want_bid and o.price_tick == bb and leaves_lots == bid_lots:
                have_bid = True
                continue
        else:
            if want_ask and o.price_tick == ba and leaves_lots == ask_lots:
                have_ask = True
                continue
        if o.status == _STATUS_NEW and o.req == _REQ_NONE and n_cancel < 64:
            to_cancel[n_cancel] = o.order_id
            n_cancel += 1
    for i in range(n_cancel):
        if hbt.cancel(0, to_cancel[i], False) == 0:
            counters[2] += 1
    if want_bid and not have_bid:
        if pos_lots + alive_buy_lots + bid_lots <= max_lots:
            counters[1] += 1
            hbt.submit_buy_order(0, counters[1], bb * depth.tick_size, bid_lots * lot, GTX,
                                 LIMIT, False)
        else:
            counters[4] += 1
    if want_ask and not have_ask:
        if -pos_lots + alive_sell_lots + ask_lots <= max_lots:
            counters[1] += 1
            hbt.submit_sell_order(0, counters[1], ba * depth.tick_size, ask_lots * lot, GTX,
                                  LIMIT, False)
        else:
            counters[4] += 1


@njit(cache=False)  # jitclass args with ctypes pointers cannot be cached
def _loop_on_steps(hbt, t0, first, step, lot, tick, quote_lots, max_lots, fills, counters):  # type: ignore[no-untyped-def]
    """Decide at first, first + step, ... (elapse); record fills at each decision and the end."""
    rc = hbt.elapse(first - t0)
    while rc == 0:
        _collect_fills(hbt, tick, fills, counters)
        if counters[0] < 0:
            return -1
        _decide(hbt, lot, quote_lots, max_lots, counters)
        rc = hbt.elapse(step)
    if rc != 1:
        return -rc if rc > 0 else rc
    _collect_fills(hbt, tick, fills, counters)
    return -1 if counters[0] < 0 else 0


@njit(cache=False)  # jitclass args with ctypes pointers cannot be cached
def _loop_with_fill_decisions(  # type: ignore[no-untyped-def]
    hbt, t0, first, step, lot, tick, quote_lots, max_lots, fills, counters
):
    """Decide on the step grid and also when a fill response reaches the local side."""
    next_step = first
    now = t0
    while True:
        rc = hbt.wait_next_feed(True, next_step - now)
        if rc == 1:
            break
        if rc < 0 or rc > 3:
            return -100 - rc
        now = hbt.current_timestamp
        new_fill = _collect_fills(hbt, tick, fills, counters)
        if counters[0] < 0:
            return -1
        if now >= next_step:
            _decide(hbt, lot, quote_lots, max_lots, counters)
            next_step += step
        elif new_fill:
            _decide(hbt, lot, quote_lots, max_lots, counters)
    _collect_fills(hbt, tick, fills, counters)
    return -1 if counters[0] < 0 else 0
