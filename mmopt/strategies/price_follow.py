"""price_follow (V2): quotes follow the best bid and ask on every step; a side cools down for
``refill_interval_s`` after one of its fills; a side is quoted only if the displayed notional at
its price is at least ``min_notional_before_quote``; position-aware sizing as fixed_interval;
optional ``stop_loss_pct`` (V2.1): exit the whole position with a taker order once mid is that
many percent worse than the average entry.

refill 0, min notional 0, size 1 lot, max 10 lots = the touch quoter of the conformance test."""

from __future__ import annotations

import math
from dataclasses import dataclass

from numba import njit

from mmopt.strategies._checks import check_int, check_range, param_field
from mmopt.strategies._params import param_index
from mmopt.strategies._registry import Strategy, register_strategy
from mmopt.strategies.context import (
    A_TAKER_QTY,
    A_TAKER_SIDE,
    C_ASK_QTY,
    C_AVG_ENTRY,
    C_BEST_ASK_TICK,
    C_BEST_BID_TICK,
    C_BID_QTY,
    C_LAST_ASK_FILL_T,
    C_LAST_BID_FILL_T,
    C_LOT_SIZE,
    C_MID,
    C_POSITION,
    C_TIME,
    jit_decide,
    notional,
    set_position_guard,
    set_quote,
    sized_lots,
)

__all__ = ["PRICE_FOLLOW", "PriceFollowParams"]


@dataclass(frozen=True, slots=True)
class PriceFollowParams:
    refill_interval_s: float = param_field(0.0, "[0, inf)",
                                           "cooldown of a side after one of its fills, seconds")
    quote_size: int = param_field(1, "whole lots >= 1", "size of each quote")
    max_position: int = param_field(10, "whole lots >= 1", "|position| limit")
    min_notional_before_quote: float = param_field(
        0.0, "[0, inf)", "quote a side only if the displayed notional there is at least this "
        "(quote currency)")
    stop_loss_pct: float | None = param_field(
        None, "(0, inf) or null", "exit by taker order at this loss, percent of the average "
        "entry; null = off")

    def __post_init__(self) -> None:
        n = "price_follow"
        check_range(n, "refill_interval_s", self.refill_interval_s, 0.0)
        check_int(n, "quote_size", self.quote_size, 1)
        check_int(n, "max_position", self.max_position, 1)
        check_range(n, "min_notional_before_quote", self.min_notional_before_quote, 0.0)
        if self.stop_loss_pct is not None:
            check_range(n, "stop_loss_pct", self.stop_loss_pct, 0.0, low_open=True)


# decide() reads the params vector by field name (mmopt.strategies._params)
_P_REFILL = param_index(PriceFollowParams, "refill_interval_s")
_P_SIZE = param_index(PriceFollowParams, "quote_size")
_P_MAX = param_index(PriceFollowParams, "max_position")
_P_MIN_NOTIONAL = param_index(PriceFollowParams, "min_notional_before_quote")
_P_STOP = param_index(PriceFollowParams, "stop_loss_pct")


@njit(cache=True)
def _stopped_out(ctx, stop_pct):
    """True when the position's loss at mid reaches stop_pct percent of the average entry."""
    pos = ctx[C_POSITION]
    avg = ctx[C_AVG_ENTRY]
    mid = ctx[C_MID]
    if math.isnan(stop_pct) or pos == 0.0 or math.isnan(avg) or math.isnan(mid):
        return False
    loss = (avg - mid) / avg if pos > 0.0 else (mid - avg) / avg
    return loss * 100.0 >= stop_pct


@jit_decide
def decide(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    set_position_guard(act, ctx, params[_P_MAX])
    lot = ctx[C_LOT_SIZE]
    if _stopped_out(ctx, params[_P_STOP]):
        pos = ctx[C_POSITION]
        act[A_TAKER_SIDE] = -1.0 if pos > 0.0 else 1.0
        act[A_TAKER_QTY] = abs(pos)
        set_quote(quotes, 0, 0, math.nan, 0.0)
        set_quote(quotes, 1, 0, math.nan, 0.0)
        return
    now = ctx[C_TIME]
    for si in range(2):
        side = 1 if si == 0 else -1
        tick = ctx[C_BEST_BID_TICK] if si == 0 else ctx[C_BEST_ASK_TICK]
        shown = ctx[C_BID_QTY] if si == 0 else ctx[C_ASK_QTY]
        filled_at = ctx[C_LAST_BID_FILL_T] if si == 0 else ctx[C_LAST_ASK_FILL_T]
        lots = sized_lots(ctx, params[_P_SIZE], params[_P_MAX], side)
        cooling = now - filled_at < params[_P_REFILL]
        if math.isnan(tick) or cooling or notional(ctx, tick, shown) < params[_P_MIN_NOTIONAL]:
            lots = 0.0
        set_quote(quotes, si, 0, tick, lots * lot)


PRICE_FOLLOW = register_strategy(
    Strategy(
        name="price_follow",
        params_type=PriceFollowParams,
        decide=decide,
        n_levels=1,
        n_state=0,
        description="follow the touch every step; cooldown after fills; optional stop-loss",
    )
)
