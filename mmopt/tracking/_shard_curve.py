"""The best trial's curves on one shard: what the report plots (its own module, so that the
tracker protocol and the walk-forward summary can both name it without importing each other)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ShardCurve"]


@dataclass(frozen=True, slots=True, eq=False)
class ShardCurve:
    """The best trial's curves on one shard (from a re-run), for the equity/inventory plots."""

    security: str
    date: str
    equity: np.ndarray  # mmopt.engine EQUITY_DTYPE: ts_ns, mid, position, cash, equity, ...
    fills: np.ndarray  # mmopt.engine FILL_DTYPE
