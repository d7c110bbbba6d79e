"""What a strategy's ``decide`` reads and writes: slot constants and small @njit helpers.

See /tmp/team/engine_api.md ("Writing a strategy"). Re-exports ``mmopt.engine.layout``.
"""

from __future__ import annotations

import math
from typing import Any

from numba import njit

from mmopt.engine._jit import hot
from mmopt.engine.layout import (
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
    C_OFI,
    C_OFI_Z,
    C_OPEN_BUY_QTY,
    C_OPEN_SELL_QTY,
    C_POSITION,
    C_QUOTING_ALLOWED,
    C_SESSION_END_T,
    C_TAKER_PENDING,
    C_TICK_SIZE,
    C_TIME,
    C_TIME_NS_HI,
    C_TIME_NS_LO,
    C_TRIGGER,
    C_UNREALISED,
    C_VOL_BASE,
    C_VOL_EWMA,
    C_VOL_ROLL,
    CTX_SIZE,
    DECIDE_FN,
    DECIDE_SIG,
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
    OS_CANCEL_SENT,
    OS_SENT,
    Q_QTY,
    Q_TICK,
    TRIGGER_FILL,
    TRIGGER_STEP,
)

__all__ = [
    "A_MAX_LONG",
    "A_MAX_SHORT",
    "A_NSLOTS",
    "A_TAKER_QTY",
    "A_TAKER_SIDE",
    "CTX_SIZE",
    "C_ASK_QTY",
    "C_AVG_ENTRY",
    "C_BEST_ASK",
    "C_BEST_ASK_TICK",
    "C_BEST_BID",
    "C_BEST_BID_TICK",
    "C_BID_QTY",
    "C_BOOK_BASE",
    "C_BOOK_LEN",
    "C_CASH",
    "C_CONTRACT_SIZE",
    "C_IMBALANCE",
    "C_IS_INVERSE",
    "C_LAST_ASK_FILL_T",
    "C_LAST_ASK_PLACE_T",
    "C_LAST_BID_FILL_T",
    "C_LAST_BID_PLACE_T",
    "C_LOT_SIZE",
    "C_MICROPRICE",
    "C_MID",
    "C_N_ORDERS",
    "C_OFI",
    "C_OFI_Z",
    "C_OPEN_BUY_QTY",
    "C_OPEN_SELL_QTY",
    "C_POSITION",
    "C_QUOTING_ALLOWED",
    "C_SESSION_END_T",
    "C_TAKER_PENDING",
    "C_TICK_SIZE",
    "C_TIME",
    "C_TIME_NS_HI",
    "C_TIME_NS_LO",
    "C_TRIGGER",
    "C_UNREALISED",
    "C_VOL_BASE",
    "C_VOL_EWMA",
    "C_VOL_ROLL",
    "DECIDE_FN",
    "DECIDE_SIG",
    "KEEP",
    "OS_ACKED",
    "OS_CANCEL_SENT",
    "OS_SENT",
    "O_LEAVES",
    "O_LEVEL",
    "O_NCOL",
    "O_QTY",
    "O_SIDE",
    "O_STATE",
    "O_SUBMIT_T",
    "O_TICK",
    "Q_QTY",
    "Q_TICK",
    "TRIGGER_FILL",
    "TRIGGER_STEP",
    "displayed_qty",
    "jit_decide",
    "notional",
    "position_lots",
    "set_position_guard",
    "set_quote",
    "sized_lots",
]


#: decorator for a strategy's decide: ``@jit_decide`` (cached, compiled with DECIDE_SIG, no NRT)
jit_decide: Any = njit(DECIDE_SIG, cache=True, _nrt=False)  # type: ignore[call-overload]


@hot
def displayed_qty(book, ctx, tick):
    """Displayed size at absolute ``tick`` in ``book`` (book_bid or book_ask); 0 outside it."""
    if math.isnan(tick):
        return 0.0
    idx = math.floor(tick - ctx[C_BOOK_BASE] + 0.5)
    if idx < 0 or idx >= int(ctx[C_BOOK_LEN]):
        return 0.0
    return book[idx]


@hot
def notional(ctx, tick, qty):
    """Value of ``qty`` at absolute ``tick`` in the quote currency (inverse: qty * contract)."""
    if ctx[C_IS_INVERSE] > 0.0:
        return qty * ctx[C_CONTRACT_SIZE]
    return qty * tick * ctx[C_TICK_SIZE] * ctx[C_CONTRACT_SIZE]


@hot
def position_lots(ctx):
    """Our position (local view) as a whole number of lots."""
    x = ctx[C_POSITION] / ctx[C_LOT_SIZE]
    return math.floor(x + 0.5) if x >= 0.0 else -math.floor(-x + 0.5)


@hot
def sized_lots(ctx, quote_lots, max_lots, side):
    """Position-aware size in lots: bid min(size, max - pos), ask min(size, max + pos); >= 0."""
    pos = position_lots(ctx)
    room = max_lots - pos if side > 0 else max_lots + pos
    return max(0.0, min(quote_lots, room))


@hot
def set_quote(quotes, si, level, tick, qty):
    """quotes[si, level] = (tick, qty); qty 0 = no quote; NaN tick = no quote."""
    if math.isnan(tick) or not qty > 0.0:
        quotes[si, level, Q_TICK] = math.nan
        quotes[si, level, Q_QTY] = 0.0
    else:
        quotes[si, level, Q_TICK] = tick
        quotes[si, level, Q_QTY] = qty


@hot
def set_position_guard(act, ctx, max_lots):
    """The engine never submits a quote that could take |position| beyond max_lots."""
    act[A_MAX_LONG] = max_lots * ctx[C_LOT_SIZE]
    act[A_MAX_SHORT] = max_lots * ctx[C_LOT_SIZE]
