"""Result types: per-shard sufficient statistics and the per-trial metrics built from them.

``ShardMetrics`` keeps sums, counts and the interval PnL array (never ratios), so that
``aggregate`` can pool any set of shards exactly. ``TrialMetrics`` holds the final values;
its field names for scalar metrics are exactly ``METRIC_NAMES``, the one list configs validate
objective expressions against and ``as_dict`` logs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmopt.errors import DataError

__all__ = [
    "METRIC_NAMES",
    "OrderCounts",
    "SecurityStats",
    "ShardMetrics",
    "TrialMetrics",
]

METRIC_NAMES: tuple[str, ...] = (
    "net_pnl",
    "gross_pnl",
    "fees_paid",
    "rebates_earned",
    "volume",
    "notional",
    "fills",
    "maker_fills",
    "orders_submitted",
    "orders_cancelled",
    "orders_rejected",
    "orders_filled",
    "fill_ratio",
    "cancel_ratio",
    "n_intervals",
    "mean_interval_pnl",
    "std_interval_pnl",
    "sharpe",
    "sortino",
    "max_drawdown",
    "cvar95",
    "round_trips",
    "round_trip_wins",
    "round_trip_losses",
    "hit_rate",
    "avg_round_trip_pnl",
    "rms_inventory_ratio",
    "spread_captured",
    "realised_spread_bps",
    "markout_1s",
    "markout_10s",
    "markout_60s",
    "markout_1s_bps",
    "markout_10s_bps",
    "markout_60s_bps",
    "time_two_sided",
    "time_quoted",
    "duration_s",
    "interval_s",
    "annualisation_factor",
    "n_shards",
    "ack_latency_p50_ms",
    "ack_latency_p99_ms",
)


@dataclass(frozen=True, slots=True)
class OrderCounts:
    """Order actions of one shard, as counted by the engine."""

    submitted: int
    cancelled: int = 0
    rejected: int = 0
    filled: int = 0  # orders with at least one fill

    def __post_init__(self) -> None:
        for name in ("submitted", "cancelled", "rejected", "filled"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise DataError(f"order counts: {name} must be an integer >= 0, got {value!r}")
        for name in ("cancelled", "rejected", "filled"):
            if getattr(self, name) > self.submitted:
                raise DataError(
                    f"order counts: {name} ({getattr(self, name)}) exceeds submitted "
                    f"({self.submitted}); count every order once when it is submitted"
                )


@dataclass(frozen=True, slots=True, eq=False)
class ShardMetrics:
    """Sufficient statistics of one backtest shard (one security, one day).

    Money is in ``currency`` (quote currency for linear, coin for inverse contracts); times in
    seconds. ``interval_end_ns`` / ``interval_pnl`` are the PnL per interval of the epoch-aligned
    grid of ``interval_ns`` (read-only arrays). See ``compute_shard_metrics`` for definitions.
    """

    security: str
    label: str
    currency: str
    interval_ns: int
    start_ns: int
    end_ns: int
    max_position: float
    net_pnl: float
    fees_paid: float
    rebates_earned: float
    volume: float
    notional: float
    fills: int
    maker_fills: int
    orders: OrderCounts
    round_trips: int
    round_trip_wins: int
    round_trip_losses: int
    round_trip_pnl: float
    time_total: float
    time_inventory_sq: float
    time_two_sided: float
    time_quoted: float
    spread_captured_sum: float
    spread_quoted_sum: float
    spread_bps_sum: float
    spread_qty: float
    markout_move: tuple[float, ...]
    markout_bps: tuple[float, ...]
    markout_qty: tuple[float, ...]
    interval_end_ns: np.ndarray
    interval_pnl: np.ndarray
    ack_latency_p50_ms: float = float("nan")  # nearest-rank P50 / P99 of this shard's acks
    ack_latency_p99_ms: float = float("nan")


@dataclass(frozen=True, slots=True)
class SecurityStats:
    """One row of the per-security table. ``pnl`` is the net PnL (equity change) of the
    security; ``avg_round_trip_pnl`` is the mean net PnL of its completed round trips."""

    security: str
    currency: str
    shards: int
    fills: int
    round_trips: int
    wins: int
    losses: int
    win_rate: float
    pnl: float
    avg_round_trip_pnl: float


@dataclass(frozen=True, slots=True)
class TrialMetrics:
    """Metrics of one trial, pooled exactly over its shards (see ``aggregate``).

    Money is in the shards' account currency (``currencies``). Ratios with a zero denominator
    are NaN.

    * ``net_pnl``: sum of (last equity - first equity); ``gross_pnl`` = net + fees_paid -
      rebates_earned (before fees); ``fees_paid`` / ``rebates_earned``: sums of positive fees /
      of minus the negative fees.
    * ``volume``: sum of fill qty; ``notional``: linear qty*contract_size*price, inverse
      qty*contract_size/price (coin).
    * ``fill_ratio`` = orders_filled / orders_submitted (= fills / submitted without partial
      fills); ``cancel_ratio`` = orders_cancelled / orders_submitted.
    * Interval PnLs: the equity change over each interval of the epoch-aligned grid of
      ``interval_s`` (edge intervals may be partial), pooled over shards, each one observation.
      ``sharpe`` = mean / std(ddof=1) * ``annualisation_factor``; ``sortino`` = mean /
      sqrt(mean(min(pnl, 0)^2)) * ``annualisation_factor``, where ``annualisation_factor`` =
      ``sqrt(365 * 86400 / interval_s)`` (24/7 market, no risk-free rate; NaN if < 2 intervals,
      zero std or no losing interval). ``cvar95`` = -mean of the ceil(0.05 n) lowest pooled
      interval PnLs (a positive loss). ``max_drawdown``: largest fall from a peak of the
      cumulative PnL on the interval grid, shards merged in time (same-time intervals summed).
    * Round trips, flat to flat, net of fees (a flip closes one and opens the next; positions
      carried in or left open are not trips): ``hit_rate`` = wins / round_trips (zero-PnL trips
      count as neither), ``avg_round_trip_pnl`` = summed trip PnL / round_trips.
    * ``rms_inventory_ratio`` = sqrt(time-weighted mean of (position / max_position)^2).
    * ``spread_captured`` = sum q*side*(mid_at_fill - price) / sum q*quoted_half_spread over
      maker fills with a known quoted half spread; ``realised_spread_bps``: the qty-weighted
      mean of side*(mid - price)/mid * 1e4 over maker fills.
    * ``markout_<H>s``: qty-weighted mean of side*(mid(t+H) - mid_at_fill) (price units per
      unit; negative = adverse selection), ``_bps`` the same divided by the mid, in bps.
    * ``time_two_sided`` / ``time_quoted``: share of time with both / at least one side quoted.
    * ``duration_s``: summed span of the equity series.
    * ``ack_latency_p50_ms`` / ``ack_latency_p99_ms``: the worst shard's nearest-rank median /
      99th percentile of the ack latency (send of a new order to its ack or reject reaching
      the strategy), in ms; NaN when no shard had an ack.
    """

    net_pnl: float
    gross_pnl: float
    fees_paid: float
    rebates_earned: float
    volume: float
    notional: float
    fills: int
    maker_fills: int
    orders_submitted: int
    orders_cancelled: int
    orders_rejected: int
    orders_filled: int
    fill_ratio: float
    cancel_ratio: float
    n_intervals: int
    mean_interval_pnl: float
    std_interval_pnl: float
    sharpe: float
    sortino: float
    max_drawdown: float
    cvar95: float
    round_trips: int
    round_trip_wins: int
    round_trip_losses: int
    hit_rate: float
    avg_round_trip_pnl: float
    rms_inventory_ratio: float
    spread_captured: float
    realised_spread_bps: float
    markout_1s: float
    markout_10s: float
    markout_60s: float
    markout_1s_bps: float
    markout_10s_bps: float
    markout_60s_bps: float
    time_two_sided: float
    time_quoted: float
    duration_s: float
    interval_s: float
    annualisation_factor: float
    n_shards: int
    ack_latency_p50_ms: float
    ack_latency_p99_ms: float
    currencies: tuple[str, ...]
    per_security: tuple[SecurityStats, ...]

    def as_dict(self) -> dict[str, float]:
        """Flat ``{metric name: float}`` in ``METRIC_NAMES`` order, for logging."""
        return {name: float(getattr(self, name)) for name in METRIC_NAMES}
