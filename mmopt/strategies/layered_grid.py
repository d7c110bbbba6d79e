"""layered_grid (seed 003's tuner): ``levels_per_side`` quotes per side spaced by volatility,
skewed against inventory, replaced lazily, paused on the side facing book pressure.

sigma (price units) = mid * sigma_ewma * sqrt(vol_horizon_s), with sigma_ewma the engine's EWMA
volatility of log mid returns per sqrt(second), the mid sampled every ``vol_sample_s`` (default
1 s, so the bid-ask bounce of dense streams does not inflate it; 0 = a return per mid change):
the typical mid move over ``vol_horizon_s`` (about 1-1.6 bp with the default 2 s on the
synthetic data, the dense benchmark stream and Binance BTC/ETH).

* half spread of level 0: h0 = max(k_vola_spread * sigma, 1 tick); level i sits
  h0 + i * max(level_spacing_coeff * sigma, 1 tick) from the centre;
* centre = mid - skew_coeff * (q / q_max) * h0 with q the position in lots (long -> lower);
* prices rounded outward to the tick grid, never crossing the touch, and strictly ordered by
  level (each level at least one tick further out than the one before);
* a resting order is replaced only when its target moved by more than ``replace_threshold_bps``
  (of mid) AND it has rested at least ``min_time_in_book_ms``; otherwise KEEP;
* book imbalance I = Q_bid / (Q_bid + Q_ask) at the touch: I > imbalance_cutoff (buy pressure)
  pulls every ask, I < 1 - imbalance_cutoff pulls every bid;
* sizes: each level ``quote_size`` lots while the room to ``max_position`` lasts (levels nearer
  the centre first); a level without room is cancelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mmopt.engine._jit import hot
from mmopt.strategies._checks import (
    check_int,
    check_range,
    check_sample_s,
    feature_vector,
    param_field,
    warn_param,
)
from mmopt.strategies._params import param_index
from mmopt.strategies._quoting import (
    ask_tick_outward,
    bid_tick_outward,
    clamp_passive,
    clear_all,
    finite_or_zero,
    level_order,
)
from mmopt.strategies._registry import Strategy, register_strategy
from mmopt.strategies.context import (
    C_IMBALANCE,
    C_LOT_SIZE,
    C_MID,
    C_TICK_SIZE,
    C_TIME,
    C_VOL_EWMA,
    O_SUBMIT_T,
    O_TICK,
    jit_decide,
    position_lots,
    set_position_guard,
    set_quote,
)

__all__ = ["LAYERED_GRID", "MAX_LEVELS", "LayeredGridParams", "decide"]

_NAME = "layered_grid"
MAX_LEVELS = 8


@dataclass(frozen=True, slots=True)
class LayeredGridParams:
    k_vola_spread: float = param_field(1.0, "[0, 100]", "level-0 half spread in sigmas")
    skew_coeff: float = param_field(0.3, "[0, 10]", "centre shift in level-0 half spreads "
                                    "at full inventory")
    levels_per_side: int = param_field(3, f"whole number in [1, {MAX_LEVELS}]", "quotes per side")
    level_spacing_coeff: float = param_field(0.4, "[0, 100]", "distance between levels in sigmas")
    min_time_in_book_ms: float = param_field(500.0, "[0, 3600000]",
                                             "minimum rest before a replace")
    replace_threshold_bps: float = param_field(2.0, "[0, 10000]",
                                               "replace only when the target moved more")
    imbalance_cutoff: float = param_field(0.65, "(0.5, 1]", "pull the side facing pressure "
                                          "beyond this book imbalance")
    vol_horizon_s: float = param_field(2.0, "(0, 86400]", "sigma = mid * vol * sqrt(this)")
    vol_halflife_s: float = param_field(30.0, "[0.01, 86400]", "half-life of the sigma EWMA")
    vol_sample_s: float = param_field(1.0, "0 or [0.01, 3600]", "sigma from mid returns on "
                                      "this time grid (0 = every mid change)")
    quote_size: int = param_field(1, "whole lots >= 1", "size of each quote")
    max_position: int = param_field(10, "whole lots >= 1", "|position| limit (q_max)")

    def __post_init__(self) -> None:
        n = _NAME
        check_range(n, "k_vola_spread", self.k_vola_spread, 0.0, 100.0)
        check_range(n, "skew_coeff", self.skew_coeff, 0.0, 10.0)
        check_int(n, "levels_per_side", self.levels_per_side, 1, MAX_LEVELS)
        check_range(n, "level_spacing_coeff", self.level_spacing_coeff, 0.0, 100.0)
        check_range(n, "min_time_in_book_ms", self.min_time_in_book_ms, 0.0, 3_600_000.0)
        check_range(n, "replace_threshold_bps", self.replace_threshold_bps, 0.0, 10000.0)
        check_range(n, "imbalance_cutoff", self.imbalance_cutoff, 0.5, 1.0, low_open=True)
        check_range(n, "vol_horizon_s", self.vol_horizon_s, 0.0, 86400.0, low_open=True)
        check_range(n, "vol_halflife_s", self.vol_halflife_s, 0.01, 86400.0)
        check_sample_s(n, "vol_sample_s", self.vol_sample_s)
        check_int(n, "quote_size", self.quote_size, 1)
        check_int(n, "max_position", self.max_position, 1)
        if self.quote_size > self.max_position:
            warn_param(n, "quote_size", f"{self.quote_size} lots > max_position "
                       f"{self.max_position}: the strategy can never quote")
        elif self.levels_per_side * self.quote_size > self.max_position:
            warn_param(n, "levels_per_side", f"{self.levels_per_side} levels x "
                       f"{self.quote_size} lots exceed max_position {self.max_position}: "
                       "the outer levels are quoted only while the position leaves room")
        if self.skew_coeff > 1.0:
            warn_param(n, "skew_coeff", f"{self.skew_coeff:g} > 1: at full inventory the "
                       "centre moves beyond the level-0 half spread")


# decide() reads the params vector by field name (mmopt.strategies._params)
_P_K = param_index(LayeredGridParams, "k_vola_spread")
_P_SKEW = param_index(LayeredGridParams, "skew_coeff")
_P_LEVELS = param_index(LayeredGridParams, "levels_per_side")
_P_SPACING = param_index(LayeredGridParams, "level_spacing_coeff")
_P_MIN_REST_MS = param_index(LayeredGridParams, "min_time_in_book_ms")
_P_REPLACE_BPS = param_index(LayeredGridParams, "replace_threshold_bps")
_P_CUTOFF = param_index(LayeredGridParams, "imbalance_cutoff")
_P_HORIZON = param_index(LayeredGridParams, "vol_horizon_s")
_P_SIZE = param_index(LayeredGridParams, "quote_size")
_P_MAX = param_index(LayeredGridParams, "max_position")


def _features(p: LayeredGridParams) -> np.ndarray:
    return feature_vector(p.vol_halflife_s, vol_sample_s=p.vol_sample_s)


@hot
def _target_tick(ctx, si, level, centre, h0, spacing, prev):
    tick = ctx[C_TICK_SIZE]
    dist = h0 + level * spacing
    if si == 0:
        tk = clamp_passive(ctx, 0, bid_tick_outward(centre - dist, tick))
        return min(tk, prev - 1.0) if level > 0 else tk
    tk = clamp_passive(ctx, 1, ask_tick_outward(centre + dist, tick))
    return max(tk, prev + 1.0) if level > 0 else tk


@hot
def _place(ctx, orders, params, quotes, si, level, tk, qty, mid):
    """Set (tk, qty) unless the resting order is near enough or too young to be replaced."""
    row, pending = level_order(orders, ctx, si, level)
    if pending:
        return  # KEEP: an unacknowledged order cannot be replaced yet
    if row >= 0:
        moved_bps = abs(tk - orders[row, O_TICK]) * ctx[C_TICK_SIZE] / mid * 1e4
        rested = ctx[C_TIME] - orders[row, O_SUBMIT_T]
        if not (moved_bps > params[_P_REPLACE_BPS] and rested >= params[_P_MIN_REST_MS] / 1000.0):
            return  # KEEP
    set_quote(quotes, si, level, tk, qty)


@jit_decide
def decide(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    set_position_guard(act, ctx, params[_P_MAX])
    mid = ctx[C_MID]
    if math.isnan(mid):
        clear_all(quotes)
        return
    tick = ctx[C_TICK_SIZE]
    sigma = mid * finite_or_zero(ctx[C_VOL_EWMA]) * math.sqrt(params[_P_HORIZON])
    h0 = max(params[_P_K] * sigma, tick)
    spacing = max(params[_P_SPACING] * sigma, tick)
    pos = position_lots(ctx)
    centre = mid - params[_P_SKEW] * (pos / params[_P_MAX]) * h0
    imb = ctx[C_IMBALANCE]
    cutoff = params[_P_CUTOFF]
    n_levels = int(params[_P_LEVELS])
    for si in range(2):
        paused = imb > cutoff if si == 1 else imb < 1.0 - cutoff
        room = params[_P_MAX] - pos if si == 0 else params[_P_MAX] + pos
        prev = 0.0
        for level in range(n_levels):  # levels beyond stay KEEP: never used, nothing to do
            if paused:
                set_quote(quotes, si, level, math.nan, 0.0)
                continue
            tk = _target_tick(ctx, si, level, centre, h0, spacing, prev)
            prev = tk
            lots = max(0.0, min(params[_P_SIZE], room))
            room -= lots
            if lots <= 0.0:
                set_quote(quotes, si, level, math.nan, 0.0)
                continue
            _place(ctx, orders, params, quotes, si, level, tk, lots * ctx[C_LOT_SIZE], mid)


LAYERED_GRID = register_strategy(
    Strategy(
        name=_NAME,
        params_type=LayeredGridParams,
        decide=decide,
        n_levels=MAX_LEVELS,
        n_state=0,
        feature_params=_features,
        description="levels_per_side volatility-spaced quotes; inventory skew; lazy replace; "
                    "imbalance cut-off",
    )
)
