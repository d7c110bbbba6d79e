"""Hand-made contexts and direct calls of a strategy's ``decide`` (no engine)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmopt.strategies import Strategy
from mmopt.strategies.context import (
    A_MAX_LONG,
    A_MAX_SHORT,
    A_NSLOTS,
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
    C_CONTRACT_SIZE,
    C_IMBALANCE,
    C_LAST_ASK_FILL_T,
    C_LAST_ASK_PLACE_T,
    C_LAST_BID_FILL_T,
    C_LAST_BID_PLACE_T,
    C_LOT_SIZE,
    C_MICROPRICE,
    C_MID,
    C_N_ORDERS,
    C_OFI,
    C_OFI_Z,
    C_POSITION,
    C_QUOTING_ALLOWED,
    C_SESSION_END_T,
    C_TAKER_PENDING,
    C_TICK_SIZE,
    C_TIME,
    C_TRIGGER,
    C_VOL_BASE,
    C_VOL_EWMA,
    C_VOL_ROLL,
    CTX_SIZE,
    KEEP,
    O_LEAVES,
    O_LEVEL,
    O_NCOL,
    O_QTY,
    O_SIDE,
    O_STATE,
    O_SUBMIT_T,
    O_TICK,
    OS_ACKED,
    Q_QTY,
    Q_TICK,
    TRIGGER_STEP,
)

TICK = 0.01
LOT = 0.1


@dataclass
class Book:
    """Top of book in ticks of 0.01 and sizes; None = empty side."""

    bid_tick: int | None = 10000
    ask_tick: int | None = 10002
    bid_qty: float = 5.0
    ask_qty: float = 5.0


@dataclass
class Order:
    side: int  # +1 buy, -1 sell
    level: int
    tick: int
    qty: float
    state: float = OS_ACKED
    submit_t: float = 0.0


@dataclass
class Ctx:
    """Everything ``decide`` reads; ``array()`` fills the float64 context vector."""

    book: Book = field(default_factory=Book)
    time: float = 100.0
    position: float = 0.0
    avg_entry: float = math.nan
    vol: float = 0.0
    vol_base: float = 0.0
    ofi_z: float = 0.0
    session_end: float = 7200.0
    allowed: bool = True
    taker_pending: float = 0.0
    orders: list[Order] = field(default_factory=list)

    def array(self) -> np.ndarray:
        c = np.zeros(CTX_SIZE)
        b = self.book
        c[C_TIME] = self.time
        c[C_TRIGGER] = TRIGGER_STEP
        c[C_TICK_SIZE] = TICK
        c[C_LOT_SIZE] = LOT
        c[C_CONTRACT_SIZE] = 1.0
        bid = math.nan if b.bid_tick is None else b.bid_tick * TICK
        ask = math.nan if b.ask_tick is None else b.ask_tick * TICK
        bq = 0.0 if b.bid_tick is None else b.bid_qty
        aq = 0.0 if b.ask_tick is None else b.ask_qty
        c[C_BEST_BID], c[C_BEST_ASK] = bid, ask
        c[C_BEST_BID_TICK] = math.nan if b.bid_tick is None else float(b.bid_tick)
        c[C_BEST_ASK_TICK] = math.nan if b.ask_tick is None else float(b.ask_tick)
        c[C_BID_QTY], c[C_ASK_QTY] = bq, aq
        c[C_MID] = 0.5 * (bid + ask)
        c[C_MICROPRICE] = (aq * bid + bq * ask) / (aq + bq) if aq + bq > 0 else c[C_MID]
        c[C_IMBALANCE] = bq / (bq + aq) if bq + aq > 0 else 0.5
        c[C_VOL_EWMA] = self.vol
        c[C_VOL_BASE] = self.vol_base
        c[C_VOL_ROLL] = self.vol
        c[C_OFI] = 0.0
        c[C_OFI_Z] = self.ofi_z
        c[C_POSITION] = self.position
        c[C_AVG_ENTRY] = self.avg_entry
        for slot in (C_LAST_BID_FILL_T, C_LAST_ASK_FILL_T, C_LAST_BID_PLACE_T,
                     C_LAST_ASK_PLACE_T):
            c[slot] = -math.inf
        c[C_SESSION_END_T] = self.session_end
        c[C_QUOTING_ALLOWED] = 1.0 if self.allowed else 0.0
        c[C_TAKER_PENDING] = self.taker_pending
        c[C_N_ORDERS] = len(self.orders)
        c[C_BOOK_BASE] = 9000.0
        c[C_BOOK_LEN] = 2000.0
        return c

    def orders_array(self, max_orders: int = 64) -> np.ndarray:
        o = np.zeros((max_orders, O_NCOL))
        for j, order in enumerate(self.orders):
            o[j, O_SIDE] = order.side
            o[j, O_LEVEL] = order.level
            o[j, O_TICK] = order.tick
            o[j, O_QTY] = order.qty
            o[j, O_LEAVES] = order.qty
            o[j, O_STATE] = order.state
            o[j, O_SUBMIT_T] = order.submit_t
        return o


@dataclass
class Decision:
    quotes: np.ndarray  # [side, level, (tick, qty)]
    act: np.ndarray
    state: np.ndarray

    def quote(self, side: int, level: int = 0) -> tuple[float, float] | str | None:
        """(tick, qty in lots) of a wanted quote; None = no quote (qty 0); "keep" = KEEP."""
        qty = self.quotes[side, level, Q_QTY]
        if qty == KEEP:
            return "keep"
        if qty <= 0.0:
            return None
        return (float(self.quotes[side, level, Q_TICK]), round(float(qty) / LOT, 9))

    @property
    def taker(self) -> tuple[float, float]:
        return (float(self.act[A_TAKER_SIDE]), float(self.act[A_TAKER_QTY]))

    @property
    def guard(self) -> tuple[float, float]:
        return (float(self.act[A_MAX_LONG]), float(self.act[A_MAX_SHORT]))


def decide(strategy: Strategy, params: Any, ctx: Ctx, state: np.ndarray | None = None,
           book_len: int = 2000) -> Decision:
    """Call ``strategy.decide`` once as the engine does (quotes reset to KEEP first)."""
    p = strategy.make_params(params)
    vec = np.ascontiguousarray(strategy.to_vector(p), dtype=np.float64)
    st = np.zeros(max(1, strategy.n_state)) if state is None else state
    quotes = np.empty((2, strategy.n_levels, 2))
    quotes[:, :, Q_TICK] = np.nan
    quotes[:, :, Q_QTY] = KEEP
    act = np.array([0.0, 0.0, math.inf, math.inf])
    assert act.shape[0] == A_NSLOTS
    books = np.zeros(book_len)
    strategy.decide(ctx.array(), books, books.copy(), ctx.orders_array(), vec, st, quotes, act)
    return Decision(quotes, act, st)
