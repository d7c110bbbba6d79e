"""Hand-made engine outputs for the metrics tests (the engine is not run)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.engine._records import EQUITY_DTYPE, FILL_DTYPE

NS = 1_000_000_000
T0 = 1_699_999_980  # seconds since the epoch, a multiple of 60 (a minute boundary)

LINEAR = Instrument("TEST.LIN", tick_size=0.01, lot_size=1.0, quote_currency="USDT")
INVERSE = Instrument(
    "TEST.INV",
    tick_size=0.1,
    lot_size=1.0,
    contract_type="inverse",
    contract_size=100.0,
    quote_currency="USD",
)


def ns(seconds: float) -> int:
    """Absolute ns for ``T0 + seconds``."""
    return T0 * NS + round(seconds * NS)


def make_fills(
    rows: Sequence[tuple[float, int, float, float, float, float, bool]],
    position0: float = 0.0,
) -> np.ndarray:
    """rows: (t_s after T0, side, price, qty, fee, mid, is_maker); positions accumulate."""
    out = np.zeros(len(rows), dtype=FILL_DTYPE)
    pos, cash = position0, 0.0
    for i, (t, side, price, qty, fee, mid, maker) in enumerate(rows):
        pos += side * qty
        cash += -side * price * qty - fee
        row = (ns(t), i + 1, price, qty, fee, pos, cash, mid, 0, side, maker)
        for name, value in zip(FILL_DTYPE.names, row, strict=False):
            out[i][name] = value
        if "quoted_half_spread" in FILL_DTYPE.names:
            out[i]["quoted_half_spread"] = np.nan
    return out


def make_equity(
    t_s: Sequence[float],
    equity: Sequence[float],
    *,
    position: Sequence[float] | None = None,
    mid: Sequence[float] | None = None,
    bid: Sequence[bool] | None = None,
    ask: Sequence[bool] | None = None,
) -> np.ndarray:
    n = len(t_s)
    out = np.zeros(n, dtype=EQUITY_DTYPE)
    out["ts_ns"] = [ns(t) for t in t_s]
    out["equity"] = equity
    out["cash"] = equity
    out["position"] = position if position is not None else np.zeros(n)
    out["mid"] = mid if mid is not None else np.full(n, 100.0)
    out["bid_quoted"] = bid if bid is not None else np.ones(n, dtype=bool)
    out["ask_quoted"] = ask if ask is not None else np.ones(n, dtype=bool)
    return out
