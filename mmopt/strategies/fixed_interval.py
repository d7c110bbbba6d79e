"""fixed_interval (V1 baseline): quote the best bid and ask with a fixed size; a side is
re-quoted only when ``refill_interval_s`` has passed since that side's last placement.
Position-aware sizing: bid = min(size, max - pos), ask = min(size, max + pos) (in lots)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mmopt.strategies._checks import check_int, check_range, param_field
from mmopt.strategies._params import param_index
from mmopt.strategies._registry import Strategy, register_strategy
from mmopt.strategies.context import (
    C_BEST_ASK_TICK,
    C_BEST_BID_TICK,
    C_LAST_ASK_PLACE_T,
    C_LAST_BID_PLACE_T,
    C_LOT_SIZE,
    C_TIME,
    jit_decide,
    set_position_guard,
    set_quote,
    sized_lots,
)

__all__ = ["FIXED_INTERVAL", "FixedIntervalParams"]


@dataclass(frozen=True, slots=True)
class FixedIntervalParams:
    refill_interval_s: float = param_field(1.0, "[0, inf)",
                                           "seconds between placements on a side")
    quote_size: int = param_field(1, "whole lots >= 1", "size of each quote")
    max_position: int = param_field(10, "whole lots >= 1", "|position| limit")

    def __post_init__(self) -> None:
        n = "fixed_interval"
        check_range(n, "refill_interval_s", self.refill_interval_s, 0.0)
        check_int(n, "quote_size", self.quote_size, 1)
        check_int(n, "max_position", self.max_position, 1)


# decide() reads the params vector by field name (mmopt.strategies._params)
_P_REFILL = param_index(FixedIntervalParams, "refill_interval_s")
_P_SIZE = param_index(FixedIntervalParams, "quote_size")
_P_MAX = param_index(FixedIntervalParams, "max_position")


@jit_decide
def decide(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    set_position_guard(act, ctx, params[_P_MAX])
    lot = ctx[C_LOT_SIZE]
    now = ctx[C_TIME]
    for si in range(2):
        side = 1 if si == 0 else -1
        placed = ctx[C_LAST_BID_PLACE_T] if si == 0 else ctx[C_LAST_ASK_PLACE_T]
        if now - placed < params[_P_REFILL]:
            continue  # KEEP: the side waits for its refill interval
        tick = ctx[C_BEST_BID_TICK] if si == 0 else ctx[C_BEST_ASK_TICK]
        lots = sized_lots(ctx, params[_P_SIZE], params[_P_MAX], side)
        set_quote(quotes, si, 0, tick, lots * lot if not math.isnan(tick) else 0.0)


FIXED_INTERVAL = register_strategy(
    Strategy(
        name="fixed_interval",
        params_type=FixedIntervalParams,
        decide=decide,
        n_levels=1,
        n_state=0,
        description="quote the touch; re-quote a side refill_interval_s after its placement",
    )
)
