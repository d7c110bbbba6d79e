"""The in-memory event format shared by the loader, the synthetic generator and the engine.

One shard (one security, one day) is one numpy structured array of ``EVENT_DTYPE``, sorted
stably by ``ts_ns``. The engine reads only ``ts_ns`` (local receive time); ``exch_ts_ns`` is
kept for inspection and latency studies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "EVENT_DTYPE",
    "KIND_ASK",
    "KIND_ASK_LEVEL",
    "KIND_BID",
    "KIND_BID_LEVEL",
    "KIND_CODES",
    "KIND_NAMES",
    "KIND_TRADE",
    "NO_EXCH_TS",
    "NO_LEVEL",
    "PARQUET_COLUMNS",
    "SIDE_BUY",
    "SIDE_CODES",
    "SIDE_NONE",
    "SIDE_SELL",
    "ContractType",
    "Instrument",
]

# kind codes (int8)
KIND_BID = 1  # best bid price and size (a top-of-book row)
KIND_ASK = 2  # best ask price and size
KIND_TRADE = 3  # a trade; side is the aggressor
KIND_BID_LEVEL = 4  # depth update: new total size at a bid price (0 removes the level)
KIND_ASK_LEVEL = 5  # depth update: new total size at an ask price

KIND_CODES: dict[str, int] = {
    "bid": KIND_BID,
    "ask": KIND_ASK,
    "trade": KIND_TRADE,
    "bid_level": KIND_BID_LEVEL,
    "ask_level": KIND_ASK_LEVEL,
}
KIND_NAMES: dict[int, str] = {v: k for k, v in KIND_CODES.items()}

# side codes (int8): trades carry the aggressor; other rows carry SIDE_NONE
SIDE_NONE = 0
SIDE_BUY = 1
SIDE_SELL = -1
SIDE_CODES: dict[str, int] = {"buy": SIDE_BUY, "sell": SIDE_SELL}

NO_EXCH_TS = -1  # exch_ts_ns where the feed carries no exchange time
NO_LEVEL = 0  # level where the feed gives no depth rank (ranks start at 1)

EVENT_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),
        ("exch_ts_ns", np.int64),
        ("price", np.float64),
        ("qty", np.float64),
        ("level", np.int32),
        ("kind", np.int8),
        ("side", np.int8),
        ("is_snapshot", np.bool_),
    ]
)

# The on-disk Parquet columns (see docs/data.md), in order.
PARQUET_COLUMNS: tuple[str, ...] = (
    "ts_ns",
    "kind",
    "level",
    "price",
    "qty",
    "side",
    "exch_ts_ns",
    "is_snapshot",
)

ContractType = Literal["linear", "inverse"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static facts about one security, from ``ROOT/instruments.csv`` or inferred from data.

    Fees: ``*_bps`` in basis points of traded notional, ``*_per_unit`` per share / contract,
    ``fee_per_trade`` per fill, in the account currency; positive is paid, negative is a
    rebate; ``buy_*`` / ``sell_*`` apply to our buys / sells only (e.g. the SEC fee). For an
    inverse contract, notional is ``qty * contract_size / price`` in the base coin.
    """

    security: str
    tick_size: float
    lot_size: float
    contract_type: ContractType = "linear"
    contract_size: float = 1.0
    quote_currency: str = ""
    maker_fee_bps: float = 0.0
    taker_fee_bps: float = 0.0
    inferred: bool = False
    # per-unit, flat and direction-dependent fees (account currency; positive = paid)
    maker_fee_per_unit: float = 0.0
    taker_fee_per_unit: float = 0.0
    fee_per_trade: float = 0.0
    buy_fee_bps: float = 0.0
    sell_fee_bps: float = 0.0
    buy_fee_per_unit: float = 0.0
    sell_fee_per_unit: float = 0.0
    # the venue's session: an IANA time zone and times of day 'HH:MM[:SS]' in it ('' = none)
    time_zone: str = ""
    session_open: str = ""
    open_auction_end: str = ""
    close_auction_start: str = ""
    session_close: str = ""
    flatten_at: str = ""

    def __post_init__(self) -> None:
        if not self.tick_size > 0:
            raise ValueError(f"{self.security}: tick_size must be > 0, got {self.tick_size}")
        if not self.lot_size > 0:
            raise ValueError(f"{self.security}: lot_size must be > 0, got {self.lot_size}")
        if self.contract_type not in ("linear", "inverse"):
            raise ValueError(
                f"{self.security}: contract_type must be 'linear' or 'inverse', "
                f"got {self.contract_type!r}"
            )
        if not self.contract_size > 0:
            raise ValueError(
                f"{self.security}: contract_size must be > 0, got {self.contract_size}"
            )

    @property
    def is_inverse(self) -> bool:
        return self.contract_type == "inverse"
