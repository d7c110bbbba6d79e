"""BacktestResult: what one backtest of one shard returns (frozen; arrays are read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.engine.config import EngineConfig

__all__ = ["BacktestResult"]


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
        """The queue model and fill options, e.g. 'risk_averse/no-partial/queue'."""
        return self.config.describe()
