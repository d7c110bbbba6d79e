"""Exact pooling of shard statistics into trial metrics.

Sums and counts add; ratios are formed from the pooled sums (never averages of per-shard
ratios); Sharpe, Sortino and CVaR95 are computed on the pooled interval PnLs (each interval of
each shard one observation); max drawdown is taken on the pooled PnL curve in time order
(intervals of different shards that end at the same time summed). Shards are put in a
canonical order first, so the result does not depend on the order results arrived in.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mmopt.errors import ConfigError
from mmopt.metrics.result import SecurityStats, ShardMetrics, TrialMetrics
from mmopt.metrics.risk import (
    annualisation_factor,
    cvar,
    max_drawdown,
    portfolio_curve,
    sharpe,
    sortino,
)
from mmopt.metrics.trading import MARKOUT_HORIZONS_S

__all__ = ["aggregate", "per_security_stats"]


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 else math.nan


def _worst(values: Iterable[float]) -> float:
    """The largest non-NaN value (NaN when there is none)."""
    known = [v for v in values if not math.isnan(v)]
    return max(known) if known else math.nan


def _check_shards(shards: Sequence[ShardMetrics]) -> None:
    if not shards:
        raise ConfigError("aggregate: no shard metrics given; evaluate at least one shard")
    first = shards[0]
    for shard in shards[1:]:
        if shard.interval_ns != first.interval_ns:
            raise ConfigError(
                f"aggregate: shard {shard.security} {shard.label} used interval_s="
                f"{shard.interval_ns / 1e9:g} but {first.security} {first.label} used "
                f"{first.interval_ns / 1e9:g}; compute every shard with the same interval_s"
            )
    currencies = sorted({s.currency for s in shards})
    if len(currencies) > 1:
        warnings.warn(
            f"aggregate: PnL sums mix currencies ({', '.join(currencies)}); "
            "trial-level money metrics add numbers in different units",
            stacklevel=3,
        )


def per_security_stats(shards: Sequence[ShardMetrics]) -> tuple[SecurityStats, ...]:
    """One row per security (sorted by name), pooled over that security's shards."""
    rows = []
    for security in sorted({s.security for s in shards}):
        own = [s for s in shards if s.security == security]
        trips = sum(s.round_trips for s in own)
        wins = sum(s.round_trip_wins for s in own)
        rows.append(
            SecurityStats(
                security=security,
                currency=own[0].currency,
                shards=len(own),
                fills=sum(s.fills for s in own),
                round_trips=trips,
                wins=wins,
                losses=sum(s.round_trip_losses for s in own),
                win_rate=_ratio(wins, trips),
                pnl=math.fsum(s.net_pnl for s in own),
                avg_round_trip_pnl=_ratio(math.fsum(s.round_trip_pnl for s in own), trips),
            )
        )
    return tuple(rows)


def _markout_fields(shards: Sequence[ShardMetrics]) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, horizon in enumerate(MARKOUT_HORIZONS_S):
        qty = math.fsum(s.markout_qty[i] for s in shards)
        out[f"markout_{horizon}s"] = _ratio(math.fsum(s.markout_move[i] for s in shards), qty)
        out[f"markout_{horizon}s_bps"] = _ratio(math.fsum(s.markout_bps[i] for s in shards), qty)
    return out


def _risk_fields(shards: Sequence[ShardMetrics], interval_s: float) -> dict[str, Any]:
    pnl = np.concatenate([s.interval_pnl for s in shards])
    ends = np.concatenate([s.interval_end_ns for s in shards])
    n = int(pnl.shape[0])
    return {
        "n_intervals": n,
        "mean_interval_pnl": float(np.mean(pnl)) if n else math.nan,
        "std_interval_pnl": float(np.std(pnl, ddof=1)) if n > 1 else math.nan,
        "sharpe": sharpe(pnl, interval_s),
        "sortino": sortino(pnl, interval_s),
        "max_drawdown": max_drawdown(portfolio_curve(ends, pnl)),
        "cvar95": cvar(pnl),
    }


def aggregate(shards: Sequence[ShardMetrics]) -> TrialMetrics:
    """Pool shard statistics into one trial's metrics, exactly (see the module docstring)."""
    _check_shards(shards)
    shards = sorted(shards, key=lambda s: (s.start_ns, s.security, s.label, s.end_ns))
    interval_s = shards[0].interval_ns / 1e9

    def total(name: str) -> float:
        return math.fsum(getattr(s, name) for s in shards)

    def count(name: str) -> int:
        return sum(getattr(s, name) for s in shards)

    def orders(name: str) -> int:
        return sum(getattr(s.orders, name) for s in shards)

    fees_paid, rebates = total("fees_paid"), total("rebates_earned")
    net = total("net_pnl")
    trips, wins = count("round_trips"), count("round_trip_wins")
    submitted = orders("submitted")
    time_total = total("time_total")
    derived: dict[str, Any] = {**_markout_fields(shards), **_risk_fields(shards, interval_s)}
    return TrialMetrics(
        net_pnl=net,
        gross_pnl=net + fees_paid - rebates,
        fees_paid=fees_paid,
        rebates_earned=rebates,
        volume=total("volume"),
        notional=total("notional"),
        fills=count("fills"),
        maker_fills=count("maker_fills"),
        orders_submitted=submitted,
        orders_cancelled=orders("cancelled"),
        orders_rejected=orders("rejected"),
        orders_filled=orders("filled"),
        fill_ratio=_ratio(orders("filled"), submitted),
        cancel_ratio=_ratio(orders("cancelled"), submitted),
        round_trips=trips,
        round_trip_wins=wins,
        round_trip_losses=count("round_trip_losses"),
        hit_rate=_ratio(wins, trips),
        avg_round_trip_pnl=_ratio(total("round_trip_pnl"), trips),
        rms_inventory_ratio=math.sqrt(_ratio(total("time_inventory_sq"), time_total)),
        spread_captured=_ratio(total("spread_captured_sum"), total("spread_quoted_sum")),
        realised_spread_bps=_ratio(total("spread_bps_sum"), total("spread_qty")),
        time_two_sided=_ratio(total("time_two_sided"), time_total),
        time_quoted=_ratio(total("time_quoted"), time_total),
        duration_s=time_total,
        interval_s=interval_s,
        annualisation_factor=annualisation_factor(interval_s),
        n_shards=len(shards),
        ack_latency_p50_ms=_worst(s.ack_latency_p50_ms for s in shards),
        ack_latency_p99_ms=_worst(s.ack_latency_p99_ms for s in shards),
        currencies=tuple(sorted({s.currency for s in shards})),
        per_security=per_security_stats(shards),
        **derived,
    )
