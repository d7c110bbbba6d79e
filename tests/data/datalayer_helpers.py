"""Hand-made shards for the data-layer tests (catalog, loader, validation, inspection)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from mmopt.data import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_SELL,
    Instrument,
    events_to_table,
    write_instruments_csv,
    write_shard,
)

T0 = 1_723_161_600_000_000_000  # 2024-08-09 00:00 UTC

# (ts offset, kind, price, qty, side): 3 trades with a prior quote, 2 inside, 1 crossed update
ROWS = [
    (1000, KIND_BID, 100.00, 2.0, 0),
    (1000, KIND_ASK, 100.02, 3.0, 0),
    (1500, KIND_TRADE, 100.01, 1.0, SIDE_BUY),  # inside [100.00, 100.02]
    (2000, KIND_BID_LEVEL, 99.99, 5.0, 0),
    (2500, KIND_ASK, 100.01, 1.0, 0),
    (3000, KIND_TRADE, 100.03, 0.5, SIDE_SELL),  # outside [100.00, 100.01]
    (3000, KIND_BID, 100.02, 1.5, 0),  # crossed: bid 100.02 >= ask 100.01
    (4000, KIND_ASK, 100.03, 2.0, 0),
    (5000, KIND_TRADE, 100.02, 0.25, SIDE_BUY),  # inside [100.02, 100.03]
]


def hand_events(offset_ns: int = 0) -> np.ndarray:
    ev = np.zeros(len(ROWS), dtype=EVENT_DTYPE)
    for i, (dt_ns, kind, price, qty, side) in enumerate(ROWS):
        ev[i] = (T0 + offset_ns + dt_ns, T0 + dt_ns - 7, price, qty, 0, kind, side, False)
    ev["exch_ts_ns"][1] = -1  # one row without exchange time
    ev["level"][3] = 1
    ev["is_snapshot"][3] = True
    return ev


def hand_table() -> pa.Table:
    return events_to_table(hand_events())


def hand_root(
    root: Path,
    securities: tuple[str, ...] = ("AAA",),
    dates: tuple[str, ...] = ("2024-08-09",),
    instruments: bool = True,
) -> Path:
    """A root of securities x dates shards of the hand-made events (+ instruments.csv)."""
    for sec in securities:
        for date in dates:
            write_shard(root, sec, date, hand_events())
    if instruments:
        write_instruments_csv(
            root, [Instrument(sec, tick_size=0.01, lot_size=0.05) for sec in securities]
        )
    return root


def replace_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)
