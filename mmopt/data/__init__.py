"""Market data: the event format, shard catalog, loader, validation, synthetic data, importers."""

from __future__ import annotations

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
    Instrument,
)
from mmopt.data.writer import events_to_table, write_instruments_csv, write_shard

__all__ = [
    "EVENT_DTYPE",
    "KIND_ASK",
    "KIND_ASK_LEVEL",
    "KIND_BID",
    "KIND_BID_LEVEL",
    "KIND_TRADE",
    "SIDE_BUY",
    "SIDE_NONE",
    "SIDE_SELL",
    "Instrument",
    "events_to_table",
    "write_instruments_csv",
    "write_shard",
]
