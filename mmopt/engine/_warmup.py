"""A tiny deterministic stream for warm_up() (compiles / loads every kernel specialisation)."""

from __future__ import annotations

import numpy as np

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
)


def tiny_stream() -> tuple[np.ndarray, Instrument]:
    """60 rows over 30 ms: a two-sided book, level updates and trades on both sides."""
    rows = []
    t = 1_700_000_000_000_000_000
    for k in range(10):
        bid = 100.0 - 0.5 * (k % 2)
        rows.append((t, -1, bid, 5.0, 0, KIND_BID, 0, False))
        rows.append((t, -1, bid + 1.0, 5.0, 0, KIND_ASK, 0, False))
        rows.append((t + 1, -1, bid - 0.5, 3.0, 0, KIND_BID_LEVEL, 0, False))
        rows.append((t + 1, -1, bid + 1.5, 3.0, 0, KIND_ASK_LEVEL, 0, False))
        rows.append((t + 2, -1, bid, 6.0, 0, KIND_TRADE, -1, False))
        rows.append((t + 2, -1, bid + 1.0, 6.0, 0, KIND_TRADE, 1, False))
        t += 3_000_000
    events = np.array(rows, dtype=EVENT_DTYPE)
    return events, Instrument(security="warmup", tick_size=0.5, lot_size=1.0)
