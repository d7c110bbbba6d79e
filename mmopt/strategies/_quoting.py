# mypy: allow-untyped-defs
"""Small @njit helpers shared by the quoting strategies (tick rounding, touch clamps, order
lookup). Prices are in price units, ticks are absolute integer ticks held as float64."""

from __future__ import annotations

import math

from mmopt.engine._jit import hot
from mmopt.strategies.context import (
    C_BEST_ASK_TICK,
    C_BEST_BID_TICK,
    C_N_ORDERS,
    C_QUOTING_ALLOWED,
    O_LEVEL,
    O_SIDE,
    O_STATE,
    OS_CANCEL_SENT,
    OS_SENT,
    Q_QTY,
    Q_TICK,
)

#: tolerance (in ticks) for prices that sit on the grid up to floating-point noise
TICK_EPS = 1e-6


@hot
def bid_tick_outward(price, tick_size):
    """The highest tick at or below ``price`` (a bid rounded away from the centre)."""
    return math.floor(price / tick_size + TICK_EPS)


@hot
def ask_tick_outward(price, tick_size):
    """The lowest tick at or above ``price`` (an ask rounded away from the centre)."""
    return math.ceil(price / tick_size - TICK_EPS)


@hot
def clamp_passive(ctx, si, tick):
    """Keep a quote from crossing the touch: bid <= best ask - 1 tick, ask >= best bid + 1."""
    if si == 0:
        ba = ctx[C_BEST_ASK_TICK]
        if not math.isnan(ba) and tick > ba - 1.0:
            return ba - 1.0
        return tick
    bb = ctx[C_BEST_BID_TICK]
    if not math.isnan(bb) and tick < bb + 1.0:
        return bb + 1.0
    return tick


@hot
def clear_side(quotes, si):
    """No quote on any level of side ``si`` (cancels whatever rests there)."""
    for level in range(quotes.shape[1]):
        quotes[si, level, Q_TICK] = math.nan
        quotes[si, level, Q_QTY] = 0.0


@hot
def clear_all(quotes):
    clear_side(quotes, 0)
    clear_side(quotes, 1)


@hot
def level_order(orders, ctx, si, level):
    """(row, pending) for our alive order at (side, level): row of the one without a cancel in
    flight (-1 if none); pending = some order there is not acknowledged yet."""
    side = 1.0 if si == 0 else -1.0
    row = -1
    pending = False
    for j in range(int(ctx[C_N_ORDERS])):
        if orders[j, O_SIDE] != side or orders[j, O_LEVEL] != level:
            continue
        state = orders[j, O_STATE]
        if state == OS_SENT:
            pending = True
        if state != OS_CANCEL_SENT:
            row = j
    return row, pending


@hot
def quoting_allowed(ctx):
    return ctx[C_QUOTING_ALLOWED] > 0.0


@hot
def finite_or_zero(x):
    return x if math.isfinite(x) else 0.0
