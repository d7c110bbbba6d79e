"""BacktestResult: what one backtest of one shard returns (frozen; arrays are read-only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.engine.config import EngineConfig
from mmopt.engine.fees import FeeSchedule
from mmopt.engine.sessions import SessionTimes

__all__ = ["BacktestResult", "ack_percentile"]


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """Fills, equity series, order counts and final accounts of one backtest.

    Money is in the account currency (quote currency for linear contracts, the base coin for
    inverse ones). ``cash`` is net of fees; ``balance`` follows hftbacktest (excludes fees; for
    inverse contracts it is minus the coin cash before fees).
    """

    strategy: str
    params: Any
    instrument: Instrument
    config: EngineConfig
    fills: np.ndarray  # FILL_DTYPE, exchange time order
    equity: np.ndarray  # EQUITY_DTYPE, the grid then one final row
    order_events: np.ndarray | None  # ORDER_EVENT_DTYPE when config.record_orders
    n_submitted: int
    n_cancelled: int
    n_rejected: int
    n_cancel_rejected: int
    n_cancel_requests: int
    n_filled: int
    n_fills: int
    n_blocked: int
    n_takers: int
    n_decisions: int
    n_events: int
    position: float
    cash: float
    balance: float
    fees: float
    volume: float
    notional: float
    realised_pnl: float  # gross of fees
    unrealised_pnl: float  # position vs average entry at the final mid
    net_pnl: float  # final equity (cash + position at mid), fees included
    max_abs_position: float
    avg_entry: float  # NaN when flat
    # clocks (docs/engine.md "Clocks"): exchange rows at exchange time, the strategy at local
    # time; local times are the recorded ts_ns + local_clock_shift_ns (0 with one clock)
    two_clocks: bool = False
    local_clock_shift_ns: int = 0
    acks: np.ndarray | None = None  # ACK_DTYPE: every ack / reject of a new order of ours
    fee_schedule: FeeSchedule | None = None  # the fees the run charged
    session: SessionTimes | None = None  # the session rules of this shard (UTC ns)

    @property
    def queue_model(self) -> str:
        return self.config.queue_model

    @property
    def partial_fills(self) -> bool:
        return self.config.partial_fills

    @property
    def fill_model(self) -> str:
        return self.config.fill_model

    @property
    def options(self) -> str:
        """The queue model, fill options and latency model, e.g.
        'risk_averse/no-partial/queue/latency=constant(entry=1ms,response=1ms)'."""
        return self.config.describe()

    @property
    def latency_model(self) -> str:
        """The order latency model, as named in every result."""
        return self.config.describe_latency()

    @property
    def ack_latency_p50_ns(self) -> float:
        """Median ack latency (nearest rank; NaN without acks)."""
        return ack_percentile(self.acks, 50.0)

    @property
    def ack_latency_p99_ns(self) -> float:
        """99th percentile of the ack latency (nearest rank; NaN without acks)."""
        return ack_percentile(self.acks, 99.0)


def ack_percentile(acks: np.ndarray | None, q: float) -> float:
    """The nearest-rank percentile ``q`` of the ack latencies (the smallest latency with at
    least q % of the acks at or below it), in ns; NaN when there are none."""
    if acks is None or acks.shape[0] == 0:
        return math.nan
    values = np.sort(acks["latency_ns"])
    rank = max(1, math.ceil(q / 100.0 * values.shape[0] - 1e-9))
    return float(values[rank - 1])
