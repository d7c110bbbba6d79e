"""What a strategy's ``decide`` reads and writes: slot constants and small @njit helpers.

See docs/strategies.md. Re-exports every name of
``mmopt.engine.layout`` (the one definition of the slot constants shared with the kernel).
"""

from __future__ import annotations

import math
from typing import Any

from numba import njit

from mmopt.engine import layout as _layout
from mmopt.engine._jit import hot
from mmopt.engine.layout import *  # noqa: F403  (every slot constant, defined once in layout.py)
from mmopt.engine.layout import (
    A_MAX_LONG,
    A_MAX_SHORT,
    C_BOOK_BASE,
    C_BOOK_LEN,
    C_CONTRACT_SIZE,
    C_IS_INVERSE,
    C_LOT_SIZE,
    C_POSITION,
    C_TICK_SIZE,
    Q_QTY,
    Q_TICK,
)

__all__ = [
    "displayed_qty",
    "jit_decide",
    "notional",
    "position_lots",
    "set_position_guard",
    "set_quote",
    "sized_lots",
]
__all__ += _layout.__all__


#: decorator for a strategy's decide: ``@jit_decide`` (cached, no NRT). It compiles (or loads
#: from numba's cache) with DECIDE_SIG when the kernel first receives it, not at import: a
#: process that only lists or validates strategies (the sweep's driver) never loads LLVM code.
jit_decide: Any = njit(cache=True, _nrt=False)  # type: ignore[call-overload]


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
