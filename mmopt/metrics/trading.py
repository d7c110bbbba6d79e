"""Trading statistics: round trips, inventory, quoting time, spread captured, markouts.

Each function returns the sums and counts that exact aggregation over shards needs; the
ratios are formed only after pooling (``mmopt.metrics.aggregate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.metrics._kernels import round_trip_pnls
from mmopt.metrics.pnl import NS_PER_S

__all__ = [
    "MARKOUT_HORIZONS_S",
    "Markouts",
    "RoundTrips",
    "SpreadSums",
    "TimeSums",
    "initial_position",
    "markouts",
    "round_trips",
    "spread_sums",
    "time_sums",
]

MARKOUT_HORIZONS_S: tuple[int, ...] = (1, 10, 60)


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """Flat-to-flat round trips: count, wins (PnL > 0), losses (PnL < 0), summed PnL."""

    count: int
    wins: int
    losses: int
    pnl: float


@dataclass(frozen=True, slots=True)
class TimeSums:
    """Time integrals over the equity series, in seconds."""

    total: float
    inventory_sq: float  # integral of (position / max_position)^2 dt
    two_sided: float  # time with a bid AND an ask of ours in the book
    quoted: float  # time with at least one side quoted


@dataclass(frozen=True, slots=True)
class SpreadSums:
    """Qty-weighted sums over maker fills with a known mid.

    ``captured`` = sum q*r and ``quoted`` = sum q*h over fills whose quoted half spread h is
    known and > 0; ``bps`` = sum q*r/mid*1e4 and ``qty`` = sum q over all maker fills with a
    mid; r = side * (mid - price) is the realised half spread.
    """

    captured: float
    quoted: float
    bps: float
    qty: float


@dataclass(frozen=True, slots=True)
class Markouts:
    """Per horizon of ``MARKOUT_HORIZONS_S``: sum q*dm, sum q*dm/mid*1e4, sum q."""

    move: tuple[float, ...]
    bps: tuple[float, ...]
    qty: tuple[float, ...]


def initial_position(fills: np.ndarray, equity: np.ndarray) -> float:
    """Position before the first fill (from the fills), or the equity's first position."""
    if fills.shape[0] == 0:
        return float(equity["position"][0])
    return float(fills["position_after"][0] - fills["side"][0] * fills["qty"][0])


def round_trips(fills: np.ndarray, position0: float, instrument: Instrument) -> RoundTrips:
    """Flat-to-flat round trips, net of fees (see ``_kernels.round_trip_pnls``).

    A trip runs from a flat position to the next flat position (a fill through zero closes
    one trip and opens the next, its quantity and fee split pro rata). Positions carried into
    the shard and trips still open at its end are not counted.
    """
    if fills.shape[0] == 0:
        return RoundTrips(0, 0, 0, 0.0)
    eps = 1e-9 * float(np.max(fills["qty"]))
    pnls, _ = round_trip_pnls(
        fills["side"].astype(np.int8),
        fills["qty"].astype(np.float64),
        fills["price"].astype(np.float64),
        fills["fee"].astype(np.float64),
        float(position0),
        float(instrument.contract_size),
        bool(instrument.is_inverse),
        eps,
    )
    return RoundTrips(
        count=int(pnls.shape[0]),
        wins=int(np.count_nonzero(pnls > 0)),
        losses=int(np.count_nonzero(pnls < 0)),
        pnl=float(pnls.sum()),
    )


def time_sums(equity: np.ndarray, max_position: float) -> TimeSums:
    """Time-weighted integrals: each equity sample holds until the next one.

    The last sample carries no weight, so an equity series split at a shared sample into two
    parts gives integrals that add up to those of the whole.
    """
    if equity.shape[0] < 2:
        return TimeSums(0.0, 0.0, 0.0, 0.0)
    dt = np.diff(equity["ts_ns"]).astype(np.float64) / NS_PER_S
    ratio = equity["position"][:-1] / max_position
    bid = equity["bid_quoted"][:-1]
    ask = equity["ask_quoted"][:-1]
    return TimeSums(
        total=float(dt.sum()),
        inventory_sq=float(np.sum(ratio * ratio * dt)),
        two_sided=float(dt[bid & ask].sum()),
        quoted=float(dt[bid | ask].sum()),
    )


def spread_sums(fills: np.ndarray, quoted_half_spread: np.ndarray) -> SpreadSums:
    """Realised half spread r = side * (mid_at_fill - price) of maker fills, qty-weighted.

    Spread captured = sum q*r / sum q*h over maker fills with a finite mid and a known h > 0,
    h being the half spread we quoted (|our quote price - the mid we quoted around|). A value
    of 1 means every fill earned its full quoted half spread against the mid at fill time;
    below 1 the mid moved towards our quote before it filled.
    """
    mid = fills["mid"]
    use = fills["is_maker"] & np.isfinite(mid)
    q = fills["qty"][use]
    r = fills["side"][use] * (mid[use] - fills["price"][use])
    h = quoted_half_spread[use]
    known = np.isfinite(h) & (h > 0)
    return SpreadSums(
        captured=float(np.sum(q[known] * r[known])),
        quoted=float(np.sum(q[known] * h[known])),
        bps=float(np.sum(q * r / mid[use]) * 1e4),
        qty=float(q.sum()),
    )


def markouts(fills: np.ndarray, equity: np.ndarray) -> Markouts:
    """Markout of every fill: dm = side * (mid(t + H) - mid_at_fill), per unit, qty-weighted.

    Positive = the mid moved in favour of the fill, negative = adverse selection. mid(t + H)
    is the equity series' mid at the last sample at or before t + H; a fill is left out of
    horizon H when t + H is past the last equity sample, that sample is older than the fill,
    or either mid is NaN.
    """
    ts_eq = equity["ts_ns"]
    mid_eq = equity["mid"]
    t = fills["ts_ns"]
    mid0 = fills["mid"]
    move, bps, qty = [], [], []
    for horizon in MARKOUT_HORIZONS_S:
        target = t + np.int64(horizon * NS_PER_S)
        idx = np.searchsorted(ts_eq, target, side="right") - 1
        mid1 = mid_eq[idx]
        ok = (target <= ts_eq[-1]) & (ts_eq[idx] >= t) & np.isfinite(mid1) & np.isfinite(mid0)
        q = fills["qty"][ok]
        dm = fills["side"][ok] * (mid1[ok] - mid0[ok])
        move.append(float(np.sum(q * dm)))
        bps.append(float(np.sum(q * dm / mid0[ok]) * 1e4))
        qty.append(float(q.sum()))
    return Markouts(move=tuple(move), bps=tuple(bps), qty=tuple(qty))
