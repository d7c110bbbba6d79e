"""``avellaneda_stoikov`` written with hftbacktest's API (benchmark baseline only).

The same formulas as ``mmopt/strategies/avellaneda_stoikov.py`` (see its docstring), as an
hftbacktest user writes them: an ``elapse(step)`` loop, features updated from the depth at
each step, one bid and one ask, a quote that moved is cancelled and resubmitted (GTX).
Differences, all from what the loop sees: the features are computed on the step grid (mmopt
updates OFI on every book row): sigma from mid log returns every ``vol_sample_s`` (1 s) with
EWMA half-lives ``vol_halflife_s`` and ``baseline_halflife_s``; OFI (Cont et al.) summed over
``ofi_window_s`` from step-to-step best changes, z-scored against an EWMA mean and variance
with half-life ``ofi_z_window_s``; ``S`` is the microprice of the best levels.
"""

from __future__ import annotations

import math

import numpy as np
from hftbacktest import BUY, GTX, LIMIT, SELL
from numba import njit

__all__ = ["PARAM_NAMES", "as_quoter", "param_vector"]

# order of the float vector handed to the njit loop
PARAM_NAMES = ("gamma", "k", "beta_ofi", "horizon_s", "vol_halflife_s", "quote_size",
               "max_inventory", "max_spread_bps", "vol_guard_ratio", "vol_guard_widen",
               "baseline_halflife_s", "ofi_window_s", "ofi_z_window_s", "vol_sample_s")
DEFAULTS = {"gamma": 0.1, "k": 1.5, "beta_ofi": 0.0, "horizon_s": 15.0, "vol_halflife_s": 30.0,
            "quote_size": 1, "max_inventory": 10, "max_spread_bps": 50.0,
            "vol_guard_ratio": 2.0, "vol_guard_widen": 1.5, "baseline_halflife_s": 600.0,
            "ofi_window_s": 10.0, "ofi_z_window_s": 300.0, "vol_sample_s": 1.0}
INVALID_MIN = np.iinfo(np.int64).min
INVALID_MAX = np.iinfo(np.int64).max


def param_vector(params: dict[str, float]) -> np.ndarray:
    """The loop's parameter vector: ``params`` over the strategy's defaults."""
    merged = {**DEFAULTS, **params}
    return np.array([float(merged[n]) for n in PARAM_NAMES], dtype=np.float64)


@njit(cache=False)  # hftbacktest's jitclass carries pointers: not cacheable
def as_quoter(hbt, p, first_wait, step_ns, quote_from_s, quote_to_s):  # type: ignore[no-untyped-def]
    """Run to the end of the data, quoting only while the UTC time of day (s) is in
    [quote_from_s, quote_to_s) (the session without its auctions); returns the last mid."""
    gamma, k, beta, horizon = p[0], p[1], p[2], p[3]
    size, max_inv, max_spread = p[5], p[6], p[7]
    guard_ratio, guard_widen = p[8], p[9]
    dt = step_ns / 1e9
    a_vol = 0.5 ** (p[13] / p[4])
    a_base = 0.5 ** (p[13] / p[10])
    a_z = 0.5 ** (dt / p[12])
    sample_every = max(1, int(p[13] / dt + 0.5))
    n_ofi = max(1, int(p[11] / dt + 0.5))
    ofi_ring = np.zeros(n_ofi)
    ofi_sum = 0.0
    z_mean = 0.0
    z_var = 0.0
    var = np.nan
    base_var = np.nan
    last_mid = np.nan
    prev_bid = np.nan
    prev_ask = np.nan
    prev_bq = 0.0
    prev_aq = 0.0
    step_no = 0
    order_id = 0
    mid = np.nan
    rc = hbt.elapse(first_wait)
    while rc == 0:
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        tick = depth.tick_size
        lot = depth.lot_size
        bb = depth.best_bid_tick
        ba = depth.best_ask_tick
        if bb == INVALID_MIN or ba == INVALID_MAX:
            rc = hbt.elapse(step_ns)
            continue
        bid = bb * tick
        ask = ba * tick
        bq = depth.best_bid_qty
        aq = depth.best_ask_qty
        mid = 0.5 * (bid + ask)
        # sigma: EWMA of squared mid log returns on the vol_sample_s grid
        if step_no % sample_every == 0:
            if not math.isnan(last_mid):
                r2 = math.log(mid / last_mid) ** 2 / p[13]
                var = r2 if math.isnan(var) else a_vol * var + (1.0 - a_vol) * r2
                base_var = r2 if math.isnan(base_var) else a_base * base_var + (1.0 - a_base) * r2
            last_mid = mid
        step_no += 1
        # OFI over the window, z-scored against its EWMA history
        e = 0.0
        if not math.isnan(prev_bid):
            e = ((bq if bid >= prev_bid else 0.0) - (prev_bq if bid <= prev_bid else 0.0)
                 - (aq if ask <= prev_ask else 0.0) + (prev_aq if ask >= prev_ask else 0.0))
        prev_bid, prev_ask, prev_bq, prev_aq = bid, ask, bq, aq
        slot = step_no % n_ofi
        ofi_sum += e - ofi_ring[slot]
        ofi_ring[slot] = e
        z_mean = a_z * z_mean + (1.0 - a_z) * ofi_sum
        z_var = a_z * z_var + (1.0 - a_z) * (ofi_sum - z_mean) ** 2
        z = (ofi_sum - z_mean) / math.sqrt(z_var) if z_var > 0.0 else 0.0
        tod = (hbt.current_timestamp // 1_000_000_000) % 86400
        if tod < quote_from_s or tod >= quote_to_s:  # auctions: no quotes of ours
            values = hbt.orders(0).values()
            while values.has_next():
                order = values.get()
                if order.cancellable:
                    hbt.cancel(0, order.order_id, False)
            rc = hbt.elapse(step_ns)
            continue
        # Avellaneda-Stoikov in bp of S
        s = (bid * aq + ask * bq) / (aq + bq) if aq + bq > 0.0 else mid
        sigma = 0.0 if math.isnan(var) else math.sqrt(var)
        base = 0.0 if math.isnan(base_var) else math.sqrt(base_var)
        sigma_bps = 1e4 * sigma
        var_tau = sigma_bps * sigma_bps * horizon
        delta_bps = gamma * var_tau + (2.0 / gamma) * math.log1p(gamma / k)
        if base > 0.0 and sigma > guard_ratio * base:
            delta_bps *= guard_widen
        delta_bps = min(delta_bps, max_spread)  # eta_ofi = 0 (its default, not searched)
        delta = max(delta_bps * s / 1e4, tick)
        position = hbt.position(0)
        q = position / (size * lot)
        centre = s - q * gamma * var_tau * s / 1e4 + max(-1.0, min(1.0, beta * z)) * tick
        bid_tick = min(math.floor((centre - 0.5 * delta) / tick + 1e-9), ba - 1)
        ask_tick = max(math.ceil((centre + 0.5 * delta) / tick - 1e-9), bb + 1)
        pos_lots = round(position / lot)
        want_bid = size <= max_inv - pos_lots
        want_ask = size <= max_inv + pos_lots
        qty = size * lot
        keep_bid = False
        keep_ask = False
        values = hbt.orders(0).values()
        while values.has_next():
            order = values.get()
            if order.side == BUY:
                if want_bid and order.price_tick == bid_tick and order.req == 0:
                    keep_bid = True
                elif order.cancellable:
                    hbt.cancel(0, order.order_id, False)
            elif order.side == SELL:
                if want_ask and order.price_tick == ask_tick and order.req == 0:
                    keep_ask = True
                elif order.cancellable:
                    hbt.cancel(0, order.order_id, False)
        if want_bid and not keep_bid:
            order_id += 1
            hbt.submit_buy_order(0, order_id, bid_tick * tick, qty, GTX, LIMIT, False)
        if want_ask and not keep_ask:
            order_id += 1
            hbt.submit_sell_order(0, order_id, ask_tick * tick, qty, GTX, LIMIT, False)
        rc = hbt.elapse(step_ns)
    return mid
