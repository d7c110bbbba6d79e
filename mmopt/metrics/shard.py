"""One shard's engine outputs -> ``ShardMetrics`` (the sums and arrays aggregation needs)."""

from __future__ import annotations

import math

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.metrics import _validate
from mmopt.metrics.pnl import NS_PER_S, fee_totals, interval_pnl, net_pnl, notional, pnl_currency
from mmopt.metrics.result import OrderCounts, ShardMetrics
from mmopt.metrics.trading import (
    initial_position,
    markouts,
    round_trips,
    spread_sums,
    time_sums,
)

__all__ = ["DEFAULT_INTERVAL_S", "compute_shard_metrics"]

DEFAULT_INTERVAL_S = 60.0
# Optional fill field read when ``quoted_half_spread`` is not passed (if the engine adds it).
QUOTED_FIELD = "quoted_half_spread"


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr).copy()
    arr.setflags(write=False)
    return arr


def compute_shard_metrics(
    fills: np.ndarray,
    equity: np.ndarray,
    orders: OrderCounts,
    instrument: Instrument,
    max_position: float,
    *,
    quoted_half_spread: np.ndarray | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
    label: str = "",
    ack_latency_ns: np.ndarray | None = None,
) -> ShardMetrics:
    """Sufficient statistics of one shard from the engine's fills and equity series.

    Args:
        fills: ``FILL_DTYPE`` records, every fill of ours in exchange order.
        equity: ``EQUITY_DTYPE`` records on a fixed grid (plus the final state); it must
            cover every fill. Net PnL = last equity - first equity.
        orders: the engine's order counts (fill ratio = filled / submitted, cancel ratio =
            cancelled / submitted).
        instrument: contract facts (linear/inverse, contract size, currency).
        max_position: the strategy's position limit; RMS inventory is reported relative to it.
        quoted_half_spread: per fill, the half spread we quoted, ``(the mid when the order
            was placed - its price) x side`` in price units (negative when the quote sat
            through the mid; NaN where unknown). If not given, a
            ``quoted_half_spread`` field of ``fills`` is used when present. Without either,
            spread captured is NaN; the realised spread in bps is still reported.
        interval_s: the PnL grid for Sharpe, Sortino, CVaR95 and drawdown (epoch-aligned).
        label: names the shard in messages and tables (e.g. the date).
        ack_latency_ns: the engine's ack latencies (``BacktestResult.acks["latency_ns"]``);
            their nearest-rank P50 / P99 in ms (NaN without any).

    Raises ``DataError`` / ``ConfigError`` naming the bad array, row or setting.
    """
    _validate.check_interval_s(interval_s)
    _validate.check_max_position(max_position)
    _validate.check_equity(equity)
    _validate.check_fills(fills, equity)
    if quoted_half_spread is None and QUOTED_FIELD in (fills.dtype.names or ()):
        quoted_half_spread = fills[QUOTED_FIELD]
    quoted = _validate.check_quoted_half_spread(quoted_half_spread, fills.shape[0])
    interval_ns = round(interval_s * NS_PER_S)

    fees = fee_totals(fills)
    trips = round_trips(fills, initial_position(fills, equity), instrument)
    times = time_sums(equity, max_position)
    spread = spread_sums(fills, quoted)
    marks = markouts(fills, equity)
    ends, pnl = interval_pnl(equity, interval_ns)
    return ShardMetrics(
        security=instrument.security,
        label=label,
        currency=pnl_currency(instrument),
        interval_ns=interval_ns,
        start_ns=int(equity["ts_ns"][0]),
        end_ns=int(equity["ts_ns"][-1]),
        max_position=float(max_position),
        net_pnl=net_pnl(equity),
        fees_paid=fees.paid,
        rebates_earned=fees.rebates,
        volume=float(fills["qty"].sum()),
        notional=notional(fills, instrument),
        fills=int(fills.shape[0]),
        maker_fills=int(np.count_nonzero(fills["is_maker"])),
        orders=orders,
        round_trips=trips.count,
        round_trip_wins=trips.wins,
        round_trip_losses=trips.losses,
        round_trip_pnl=trips.pnl,
        time_total=times.total,
        time_inventory_sq=times.inventory_sq,
        time_two_sided=times.two_sided,
        time_quoted=times.quoted,
        spread_captured_sum=spread.captured,
        spread_quoted_sum=spread.quoted,
        spread_bps_sum=spread.bps,
        spread_qty=spread.qty,
        markout_move=marks.move,
        markout_bps=marks.bps,
        markout_qty=marks.qty,
        interval_end_ns=_read_only(ends),
        interval_pnl=_read_only(pnl),
        ack_latency_p50_ms=_nearest_rank_ms(ack_latency_ns, 50.0),
        ack_latency_p99_ms=_nearest_rank_ms(ack_latency_ns, 99.0),
    )


def _nearest_rank_ms(latency_ns: np.ndarray | None, q: float) -> float:
    """The smallest latency with at least q % of them at or below it, in ms (NaN if none)."""
    if latency_ns is None or len(latency_ns) == 0:
        return math.nan
    values = np.sort(np.asarray(latency_ns, dtype=np.int64))
    rank = max(1, math.ceil(q / 100.0 * values.shape[0] - 1e-9))
    return float(values[rank - 1]) / 1e6
