"""PnL accounting from the engine's fills and equity series.

Units: PnL, fees and rebates are in the account currency of the instrument: the quote currency
for a linear contract, the base coin for an inverse one. Notional follows the same rule:
linear ``qty * contract_size * price`` (quote currency), inverse ``qty * contract_size / price``
(coin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmopt.data._schema import Instrument

__all__ = ["FeeTotals", "fee_totals", "interval_pnl", "net_pnl", "notional", "pnl_currency"]

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class FeeTotals:
    """Fees of a set of fills: ``paid`` (sum of positive fees), ``rebates`` (minus the sum of
    negative fees, so >= 0)."""

    paid: float
    rebates: float

    @property
    def net(self) -> float:
        return self.paid - self.rebates


def net_pnl(equity: np.ndarray) -> float:
    """Net PnL after fees and rebates: last equity point minus the first."""
    return float(equity["equity"][-1] - equity["equity"][0])


def fee_totals(fills: np.ndarray) -> FeeTotals:
    fee = fills["fee"]
    return FeeTotals(paid=float(fee[fee > 0].sum()), rebates=float(-fee[fee < 0].sum()))


def notional(fills: np.ndarray, instrument: Instrument) -> float:
    """Traded notional: linear ``sum(qty * cs * price)``; inverse ``sum(qty * cs / price)``."""
    cs = instrument.contract_size
    if instrument.is_inverse:
        return float(np.sum(fills["qty"] * cs / fills["price"]))
    return float(np.sum(fills["qty"] * cs * fills["price"]))


def pnl_currency(instrument: Instrument) -> str:
    """The currency PnL is counted in: the quote currency (linear) or the coin (inverse)."""
    if instrument.is_inverse:
        return f"coin of {instrument.security}"
    return instrument.quote_currency or f"quote currency of {instrument.security}"


def interval_pnl(equity: np.ndarray, interval_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """PnL per interval of a grid aligned to the Unix epoch; returns (end_ns, pnl).

    The boundaries are the multiples of ``interval_ns`` since 1970-01-01 UTC that lie strictly
    between the first and the last equity point; the last point closes the last interval. The
    equity at a boundary is the last sample at or before it (as-of). Interval k's PnL is
    ``E(end_k) - E(end_{k-1})`` with ``E(end_0)`` the first equity point, so the first and the
    last interval may be partial and the PnLs sum to the net PnL exactly. Because the grid is
    aligned to the epoch, two shards that split one series at a boundary give the same
    intervals as the whole series, and shards of different securities share interval ends.
    """
    ts = equity["ts_ns"]
    values = equity["equity"]
    first, last = int(ts[0]), int(ts[-1])
    if last <= first:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    b_first = (first // interval_ns + 1) * interval_ns
    boundaries = np.arange(b_first, last, interval_ns, dtype=np.int64)
    ends = np.append(boundaries, np.int64(last))
    at_end = values[np.searchsorted(ts, ends, side="right") - 1]
    starts = np.concatenate((values[:1], at_end[:-1]))
    return ends, at_end - starts
