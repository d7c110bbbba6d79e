"""FeeSchedule: one security's fees, from EngineConfig (when set) over instruments.csv."""

from __future__ import annotations

from dataclasses import dataclass, fields

from mmopt.data._schema import Instrument
from mmopt.engine.config import FEE_FIELDS, EngineConfig

__all__ = ["FeeSchedule", "resolve_fees"]


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fees of one fill = maker/taker bps x value + maker/taker per unit x qty + per trade
    + (buy or sell) bps x value + (buy or sell) per unit x qty, in the account currency
    (value: qty x contract size x price, or / price for inverse contracts). Positive = paid,
    negative = rebate."""

    maker_fee_bps: float = 0.0
    taker_fee_bps: float = 0.0
    maker_fee_per_unit: float = 0.0
    taker_fee_per_unit: float = 0.0
    fee_per_trade: float = 0.0
    buy_fee_bps: float = 0.0
    sell_fee_bps: float = 0.0
    buy_fee_per_unit: float = 0.0
    sell_fee_per_unit: float = 0.0

    @property
    def has_extra(self) -> bool:
        """True when anything beyond the maker/taker bps pair is set."""
        return any(getattr(self, f.name) != 0.0 for f in fields(self)[2:])

    def describe(self) -> str:
        parts = [f"{f.name}={getattr(self, f.name):g}" for f in fields(self)
                 if getattr(self, f.name) != 0.0]
        return ", ".join(parts) if parts else "none"


def resolve_fees(config: EngineConfig, instrument: Instrument) -> FeeSchedule:
    """Each fee from the config where it is set (not null), else from the instrument."""
    values = {}
    for name in FEE_FIELDS:
        chosen = getattr(config, name)
        values[name] = float(getattr(instrument, name) if chosen is None else chosen)
    return FeeSchedule(**values)
