"""skewed_with_stops (seed 002): inventory-skewed quotes around the mid, with a per-position
stop-loss, take-profit and trailing stop that exit by taker order, and a cooldown after exits.

Quotes: h = max(half_spread_bps * mid / 1e4, tick / 2); centre c = mid - inventory_skew *
(q / q_max) * h with q the position in lots (at full inventory and skew 1 the centre moves by one
half spread); with ``use_reservation`` the centre also moves by the Avellaneda-Stoikov
reservation shift - q_quotes * gamma * sigma_bps^2 * horizon_s (bp of mid; q_quotes = position
/ (quote_size * lot), sigma_bps = 1e4 * the engine's EWMA vol per sqrt(second); see
avellaneda_stoikov). bid = floor((c - h) / tick), ask = ceil((c + h) / tick), never crossing the
touch. half_spread_bps 0 quotes the touch. Sizes shrink near ``max_position`` as price_follow.

Exits (percent of the average entry, marked at mid; a value of null switches the rule off):
* stop-loss: loss >= stop_loss_pct; take-profit: gain >= take_profit_pct;
* trailing: once the gain has reached trailing_activation_pct, exit when mid retraces
  trailing_distance_pct from the best mid since the position was opened (the extreme resets
  when the position goes flat or changes sign).
An exit sends one taker order for the whole position (only while quoting is allowed), cancels
every quote, and starts a cooldown: no quotes for ``cooldown_s`` after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mmopt.engine._jit import hot
from mmopt.strategies._checks import (
    check_flag,
    check_int,
    check_range,
    feature_vector,
    param_field,
    reward_risk_warning,
    warn_param,
)
from mmopt.strategies._params import param_index
from mmopt.strategies._quoting import (
    ask_tick_outward,
    bid_tick_outward,
    clamp_passive,
    clear_all,
    finite_or_zero,
    quoting_allowed,
)
from mmopt.strategies._registry import Strategy, register_strategy
from mmopt.strategies.context import (
    A_TAKER_QTY,
    A_TAKER_SIDE,
    C_AVG_ENTRY,
    C_LOT_SIZE,
    C_MID,
    C_POSITION,
    C_TAKER_PENDING,
    C_TICK_SIZE,
    C_TIME,
    C_VOL_EWMA,
    jit_decide,
    position_lots,
    set_position_guard,
    set_quote,
    sized_lots,
)

__all__ = ["SKEWED_WITH_STOPS", "SkewedWithStopsParams", "decide"]

_NAME = "skewed_with_stops"

# state slots
S_SIDE = 0  # sign of the position being tracked (0 flat)
S_BEST = 1  # best mid since that position was opened
S_TRAILING = 2  # 1.0 once the trailing stop is active
S_EXITED = 3  # 1.0 after the first exit
S_EXIT_T = 4  # time of the last exit (s)
N_STATE = 5


@dataclass(frozen=True, slots=True)
class SkewedWithStopsParams:
    inventory_skew: float = param_field(0.5, "[0, 1]", "centre shift in half spreads at "
                                        "full inventory")
    half_spread_bps: float = param_field(1.0, "[0, 10000]", "distance of each quote from the "
                                         "centre (floored at half a tick)")
    use_reservation: bool = param_field(False, "true / false", "add the AS reservation shift")
    gamma: float = param_field(0.1, "[0.01, 1]", "risk aversion of the reservation shift")
    horizon_s: float = param_field(60.0, "(0, 86400]", "T - t of the reservation shift")
    stop_loss_pct: float | None = param_field(0.5, "(0, 100) or null", "exit at this loss")
    take_profit_pct: float | None = param_field(1.0, "(0, 1000] or null",
                                                "exit at this gain")
    trailing_activation_pct: float | None = param_field(0.3, "[0, 1000] or null",
                                                        "gain that arms the trailing stop")
    trailing_distance_pct: float = param_field(0.15, "(0, 100)", "retrace from the best mid "
                                               "that exits")
    cooldown_s: float = param_field(5.0, "[0, 86400]", "no quotes for this long after an exit")
    vol_halflife_s: float = param_field(30.0, "[0.01, 86400]", "sigma EWMA (reservation only)")
    quote_size: int = param_field(1, "whole lots >= 1", "size of each quote")
    max_position: int = param_field(10, "whole lots >= 1", "|position| limit (q_max)")

    def __post_init__(self) -> None:
        n = _NAME
        check_range(n, "inventory_skew", self.inventory_skew, 0.0, 1.0)
        check_range(n, "half_spread_bps", self.half_spread_bps, 0.0, 10000.0)
        check_flag(n, "use_reservation", self.use_reservation)
        check_range(n, "gamma", self.gamma, 0.01, 1.0)
        check_range(n, "horizon_s", self.horizon_s, 0.0, 86400.0, low_open=True)
        if self.stop_loss_pct is not None:
            check_range(n, "stop_loss_pct", self.stop_loss_pct, 0.0, 100.0,
                        low_open=True, high_open=True)
        if self.take_profit_pct is not None:
            check_range(n, "take_profit_pct", self.take_profit_pct, 0.0, 1000.0, low_open=True)
        if self.trailing_activation_pct is not None:
            check_range(n, "trailing_activation_pct", self.trailing_activation_pct, 0.0, 1000.0)
        check_range(n, "trailing_distance_pct", self.trailing_distance_pct, 0.0, 100.0,
                    low_open=True, high_open=True)
        check_range(n, "cooldown_s", self.cooldown_s, 0.0, 86400.0)
        check_range(n, "vol_halflife_s", self.vol_halflife_s, 0.01, 86400.0)
        check_int(n, "quote_size", self.quote_size, 1)
        check_int(n, "max_position", self.max_position, 1)
        self._warn()

    def _warn(self) -> None:
        if self.stop_loss_pct is not None and self.take_profit_pct is not None:
            reward_risk_warning(_NAME, float(self.take_profit_pct), float(self.stop_loss_pct))
        act = self.trailing_activation_pct
        if act is not None and self.trailing_distance_pct > act:
            warn_param(_NAME, "trailing_distance_pct",
                       f"{self.trailing_distance_pct:g} % > trailing_activation_pct {act:g} %: "
                       "the trailing stop can close a position at a loss")
        if self.quote_size > self.max_position:
            warn_param(_NAME, "quote_size", f"{self.quote_size} lots > max_position "
                       f"{self.max_position}: quotes are cut to the room left")


# decide() reads the params vector by field name (mmopt.strategies._params)
_P_SKEW = param_index(SkewedWithStopsParams, "inventory_skew")
_P_HALF_BPS = param_index(SkewedWithStopsParams, "half_spread_bps")
_P_RESERVATION = param_index(SkewedWithStopsParams, "use_reservation")
_P_GAMMA = param_index(SkewedWithStopsParams, "gamma")
_P_HORIZON = param_index(SkewedWithStopsParams, "horizon_s")
_P_STOP = param_index(SkewedWithStopsParams, "stop_loss_pct")
_P_TAKE = param_index(SkewedWithStopsParams, "take_profit_pct")
_P_TRAIL_ON = param_index(SkewedWithStopsParams, "trailing_activation_pct")
_P_TRAIL_DIST = param_index(SkewedWithStopsParams, "trailing_distance_pct")
_P_COOLDOWN = param_index(SkewedWithStopsParams, "cooldown_s")
_P_SIZE = param_index(SkewedWithStopsParams, "quote_size")
_P_MAX = param_index(SkewedWithStopsParams, "max_position")


def _features(p: SkewedWithStopsParams) -> np.ndarray | None:
    return feature_vector(p.vol_halflife_s) if p.use_reservation else None


@hot
def _track(ctx, state, sign, mid):
    """Follow the open position: reset on a new position, keep the best mid since entry."""
    if sign != state[S_SIDE]:
        state[S_SIDE] = sign
        state[S_BEST] = mid
        state[S_TRAILING] = 0.0
    elif sign != 0.0 and not math.isnan(mid):
        if math.isnan(state[S_BEST]):
            state[S_BEST] = mid
        elif sign > 0.0:
            state[S_BEST] = max(state[S_BEST], mid)
        else:
            state[S_BEST] = min(state[S_BEST], mid)


@hot
def _should_exit(ctx, params, state, sign, mid):
    """Stop-loss, take-profit or trailing stop hit (percent of the average entry)."""
    avg = ctx[C_AVG_ENTRY]
    if sign == 0.0 or math.isnan(mid) or math.isnan(avg) or avg <= 0.0:
        return False
    gain = sign * (mid - avg) / avg * 100.0
    if not math.isnan(params[_P_STOP]) and gain <= -params[_P_STOP]:
        return True
    if not math.isnan(params[_P_TAKE]) and gain >= params[_P_TAKE]:
        return True
    if math.isnan(params[_P_TRAIL_ON]):
        return False
    if gain >= params[_P_TRAIL_ON]:
        state[S_TRAILING] = 1.0
    best = state[S_BEST]
    if state[S_TRAILING] == 0.0 or math.isnan(best) or best <= 0.0:
        return False
    return sign * (best - mid) / best * 100.0 >= params[_P_TRAIL_DIST]


@hot
def _centre(ctx, params, mid, h):
    pos = position_lots(ctx)
    centre = mid - params[_P_SKEW] * (pos / params[_P_MAX]) * h
    if params[_P_RESERVATION] > 0.0:
        sigma_bps = 1e4 * finite_or_zero(ctx[C_VOL_EWMA])
        q = ctx[C_POSITION] / (params[_P_SIZE] * ctx[C_LOT_SIZE])
        centre -= q * params[_P_GAMMA] * sigma_bps * sigma_bps * params[_P_HORIZON] * mid / 1e4
    return centre


@jit_decide
def decide(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    set_position_guard(act, ctx, params[_P_MAX])
    now = ctx[C_TIME]
    mid = ctx[C_MID]
    pos = ctx[C_POSITION]
    sign = 0.0 if abs(pos) < 1e-9 * ctx[C_LOT_SIZE] else (1.0 if pos > 0.0 else -1.0)
    _track(ctx, state, sign, mid)
    pending = ctx[C_TAKER_PENDING] != 0.0
    if not pending and quoting_allowed(ctx) and _should_exit(ctx, params, state, sign, mid):
        act[A_TAKER_SIDE] = -sign
        act[A_TAKER_QTY] = abs(pos)
        state[S_EXITED] = 1.0
        state[S_EXIT_T] = now
        clear_all(quotes)
        return
    cooling = state[S_EXITED] > 0.0 and now - state[S_EXIT_T] < params[_P_COOLDOWN]
    if pending or cooling or math.isnan(mid):
        clear_all(quotes)
        return
    tick = ctx[C_TICK_SIZE]
    h = max(params[_P_HALF_BPS] * mid / 1e4, 0.5 * tick)
    centre = _centre(ctx, params, mid, h)
    bid = clamp_passive(ctx, 0, bid_tick_outward(centre - h, tick))
    ask = clamp_passive(ctx, 1, ask_tick_outward(centre + h, tick))
    lot = ctx[C_LOT_SIZE]
    set_quote(quotes, 0, 0, bid, sized_lots(ctx, params[_P_SIZE], params[_P_MAX], 1) * lot)
    set_quote(quotes, 1, 0, ask, sized_lots(ctx, params[_P_SIZE], params[_P_MAX], -1) * lot)


SKEWED_WITH_STOPS = register_strategy(
    Strategy(
        name=_NAME,
        params_type=SkewedWithStopsParams,
        decide=decide,
        n_levels=1,
        n_state=N_STATE,
        feature_params=_features,
        description="inventory-skewed quotes; stop-loss, take-profit, trailing stop by taker; "
                    "cooldown after exits",
    )
)
