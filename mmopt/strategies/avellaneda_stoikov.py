"""avellaneda_stoikov (seeds 001 and 004): reservation price and optimal spread of Avellaneda &
Stoikov (2008), with an order-flow-imbalance skew and a volatility guard.

Units (chosen so that one search space fits instruments at 100 USD and at 60 000 USD):
* Prices enter the formulas in **basis points of S** (S = microprice or mid); the result is turned
  back into price with ``* S / 1e4``.
* sigma = the engine's EWMA volatility of log mid returns per sqrt(second) (ctx C_VOL_EWMA);
  ``sigma_bps = 1e4 * sigma``, so ``sigma_bps^2 * tau`` is the variance of S over tau seconds in
  bp^2 (about 0.6-1.4 bp^2/s on the synthetic data and on Binance BTC/ETH, Aug 2024).
* q = position / (quote_size * lot): inventory counted in quotes (one fill = one unit), as in the
  paper, so a bigger quote size does not by itself skew harder.
* ``gamma``: risk aversion per (bp * quote); ``k``: decay of the fill intensity
  lambda(d) = A exp(-k d) per bp of distance d from S (so 2 / k is the zero-risk total spread).

Formulas (tau = T - t = ``horizon_s``, or, when ``horizon_s`` is None, the seconds left to the
session's end: the close auction / ``flatten_at`` time if set, else the UTC midnight after the
shard's first event, never the data's last event, which a live strategy could not know):
    r       = S - q * gamma * sigma_bps^2 * tau                            [bp of S]
    delta   = gamma * sigma_bps^2 * tau + (2 / gamma) * ln(1 + gamma / k)   [bp, total spread]
    delta  *= vol_guard_widen   while sigma > vol_guard_ratio * baseline sigma
    delta  += eta_ofi * |OFI_z|
    delta   = max(min(delta, max_spread_bps) * S / 1e4, one tick)          [price]
    centre  = r + clip(beta_ofi * OFI_z, -1, 1) * tick                     (spread unchanged)
    bid     = floor((centre - delta / 2) / tick), ask = ceil((centre + delta / 2) / tick)
then bid <= best ask - 1 tick and ask >= best bid + 1 tick (never crossing the touch). A side is
not quoted when one more quote could take |position| beyond ``max_inventory`` lots.
sigma comes from mid returns sampled every ``vol_sample_s`` (default 1 s; 0 = a return per mid
change). Sampling keeps sigma comparable across streams: mean sigma_bps on the 1 s grid is 0.76
(default synthetic data, 200 k events/day), 1.13 (the dense 5 M-event benchmark stream), 1.18 /
1.15 (Binance spot BTCUSDT / usdm ETHUSDT, 2024-08-08), while per mid change it is 0.69, 3.41
(bid-ask bounce), 0.62 and 0.83. With the defaults (gamma 0.1, k 1.5, horizon 15 s) and
sigma_bps 1.15, delta = 1.98 + 1.29 = 3.3 bp: quotes ~1.6 bp either side of S.
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
)
from mmopt.strategies._registry import Strategy, register_strategy
from mmopt.strategies.context import (
    C_LOT_SIZE,
    C_MICROPRICE,
    C_MID,
    C_OFI_Z,
    C_POSITION,
    C_SESSION_END_T,
    C_TICK_SIZE,
    C_TIME,
    C_VOL_BASE,
    C_VOL_EWMA,
    jit_decide,
    position_lots,
    set_position_guard,
    set_quote,
)

__all__ = ["AVELLANEDA_STOIKOV", "AvellanedaStoikovParams", "as_spread_bps", "decide"]

_NAME = "avellaneda_stoikov"


@dataclass(frozen=True, slots=True)
class AvellanedaStoikovParams:
    gamma: float = param_field(0.1, "(0, 100]", "risk aversion per (bp x quote)")
    k: float = param_field(1.5, "(0, 1000]", "fill-intensity decay per bp of distance")
    beta_ofi: float = param_field(0.0, "[-10, 10]", "centre shift in ticks per unit OFI z "
                                  "(clamped to +-1 tick)")
    eta_ofi: float = param_field(0.0, "[0, 100]", "spread widening in bp per unit |OFI z|")
    horizon_s: float | None = param_field(15.0, "(0, 86400] or null",
                                          "T - t in seconds; null = time to the session "
                                          "end (close auction / flatten_at, else UTC "
                                          "midnight)")
    vol_halflife_s: float = param_field(30.0, "[0.01, 86400]", "half-life of the sigma EWMA")
    vol_sample_s: float = param_field(1.0, "0 or [0.01, 3600]", "sigma from mid returns on "
                                      "this time grid (0 = every mid change)")
    baseline_halflife_s: float = param_field(600.0, "[0.01, 86400]",
                                             "half-life of the baseline sigma")
    ofi_window_s: float = param_field(10.0, "[0.01, 86400]", "OFI summation window")
    ofi_z_window_s: float = param_field(300.0, "[0.01, 86400]", "history of the OFI z-score")
    quote_size: int = param_field(1, "whole lots >= 1", "size of each quote")
    max_inventory: int = param_field(10, "whole lots >= 1", "|position| limit (q_max)")
    max_spread_bps: float = param_field(50.0, "(0, 10000]", "cap on the total spread delta")
    use_microprice: bool = param_field(True, "true / false", "S = microprice (else mid)")
    vol_guard_ratio: float = param_field(2.0, "[1, 100]", "guard on while sigma > this x base")
    vol_guard_widen: float = param_field(1.5, "[1, 100]", "spread multiplier while guarded")

    def __post_init__(self) -> None:
        n = _NAME
        check_range(n, "gamma", self.gamma, 0.0, 100.0, low_open=True)
        check_range(n, "k", self.k, 0.0, 1000.0, low_open=True)
        check_range(n, "beta_ofi", self.beta_ofi, -10.0, 10.0)
        check_range(n, "eta_ofi", self.eta_ofi, 0.0, 100.0)
        if self.horizon_s is not None:
            check_range(n, "horizon_s", self.horizon_s, 0.0, 86400.0, low_open=True)
        for name in ("vol_halflife_s", "baseline_halflife_s", "ofi_window_s", "ofi_z_window_s"):
            check_range(n, name, getattr(self, name), 0.01, 86400.0)
        check_sample_s(n, "vol_sample_s", self.vol_sample_s)
        check_int(n, "quote_size", self.quote_size, 1)
        check_int(n, "max_inventory", self.max_inventory, 1)
        check_range(n, "max_spread_bps", self.max_spread_bps, 0.0, 10000.0, low_open=True)
        check_flag(n, "use_microprice", self.use_microprice)
        check_range(n, "vol_guard_ratio", self.vol_guard_ratio, 1.0, 100.0)
        check_range(n, "vol_guard_widen", self.vol_guard_widen, 1.0, 100.0)
        self._warn()

    def _warn(self) -> None:
        if self.quote_size > self.max_inventory:
            warn_param(_NAME, "quote_size", f"{self.quote_size} lots > max_inventory "
                       f"{self.max_inventory}: the strategy can never quote")
        if self.baseline_halflife_s <= self.vol_halflife_s:
            warn_param(_NAME, "baseline_halflife_s",
                       f"{self.baseline_halflife_s:g} s <= vol_halflife_s "
                       f"{self.vol_halflife_s:g} s: the baseline is not slower, so the "
                       "volatility guard rarely fires")
        low = as_spread_bps(self.gamma, self.k, 0.0, 0.0)
        if low > self.max_spread_bps:
            warn_param(_NAME, "max_spread_bps",
                       f"the zero-volatility spread (2/gamma) ln(1 + gamma/k) = {low:.3g} bp "
                       f"already exceeds the cap {self.max_spread_bps:g} bp: every quote sits "
                       "at the cap")


# decide() reads the params vector by field name (mmopt.strategies._params)
_P_GAMMA = param_index(AvellanedaStoikovParams, "gamma")
_P_K = param_index(AvellanedaStoikovParams, "k")
_P_BETA = param_index(AvellanedaStoikovParams, "beta_ofi")
_P_ETA = param_index(AvellanedaStoikovParams, "eta_ofi")
_P_HORIZON = param_index(AvellanedaStoikovParams, "horizon_s")
_P_SIZE = param_index(AvellanedaStoikovParams, "quote_size")
_P_MAX = param_index(AvellanedaStoikovParams, "max_inventory")
_P_MAX_SPREAD = param_index(AvellanedaStoikovParams, "max_spread_bps")
_P_MICRO = param_index(AvellanedaStoikovParams, "use_microprice")
_P_GUARD_RATIO = param_index(AvellanedaStoikovParams, "vol_guard_ratio")
_P_GUARD_WIDEN = param_index(AvellanedaStoikovParams, "vol_guard_widen")


def as_spread_bps(gamma: float, k: float, sigma_bps: float, tau_s: float) -> float:
    """delta = gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k), in bp (before guard and cap)."""
    return gamma * sigma_bps * sigma_bps * tau_s + (2.0 / gamma) * math.log1p(gamma / k)


def _features(p: AvellanedaStoikovParams) -> np.ndarray:
    return feature_vector(p.vol_halflife_s, p.baseline_halflife_s, 60.0, p.ofi_window_s,
                          p.ofi_z_window_s, p.vol_sample_s)


@hot
def _spread_bps(ctx, params, var_tau_bps, z):
    """Total spread in bp of S: AS spread, volatility guard, OFI widening, cap."""
    gamma = params[_P_GAMMA]
    delta = gamma * var_tau_bps + (2.0 / gamma) * math.log1p(gamma / params[_P_K])
    sigma = finite_or_zero(ctx[C_VOL_EWMA])
    base = finite_or_zero(ctx[C_VOL_BASE])
    if base > 0.0 and sigma > params[_P_GUARD_RATIO] * base:
        delta *= params[_P_GUARD_WIDEN]
    delta += params[_P_ETA] * abs(z)
    return min(delta, params[_P_MAX_SPREAD])


@jit_decide
def decide(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    set_position_guard(act, ctx, params[_P_MAX])
    s = ctx[C_MICROPRICE] if params[_P_MICRO] > 0.0 else ctx[C_MID]
    if math.isnan(s) or math.isnan(ctx[C_MID]):
        clear_all(quotes)  # an empty book side: no reference price, no quotes
        return
    tick = ctx[C_TICK_SIZE]
    tau = params[_P_HORIZON]
    if math.isnan(tau):
        tau = max(ctx[C_SESSION_END_T] - ctx[C_TIME], 0.0)
    sigma_bps = 1e4 * finite_or_zero(ctx[C_VOL_EWMA])
    var_tau = sigma_bps * sigma_bps * tau
    z = finite_or_zero(ctx[C_OFI_Z])
    q = ctx[C_POSITION] / (params[_P_SIZE] * ctx[C_LOT_SIZE])
    delta = max(_spread_bps(ctx, params, var_tau, z) * s / 1e4, tick)
    centre = s - q * params[_P_GAMMA] * var_tau * s / 1e4
    centre += max(-1.0, min(1.0, params[_P_BETA] * z)) * tick
    pos = position_lots(ctx)
    size = params[_P_SIZE]
    for si in range(2):
        if si == 0:
            tk = clamp_passive(ctx, 0, bid_tick_outward(centre - 0.5 * delta, tick))
            room = params[_P_MAX] - pos
        else:
            tk = clamp_passive(ctx, 1, ask_tick_outward(centre + 0.5 * delta, tick))
            room = params[_P_MAX] + pos
        lots = size if size <= room else 0.0  # inventory guard
        set_quote(quotes, si, 0, tk, lots * ctx[C_LOT_SIZE])


AVELLANEDA_STOIKOV = register_strategy(
    Strategy(
        name=_NAME,
        params_type=AvellanedaStoikovParams,
        decide=decide,
        n_levels=1,
        n_state=0,
        feature_params=_features,
        description="Avellaneda-Stoikov reservation price and spread; OFI skew; vol guard",
    )
)
