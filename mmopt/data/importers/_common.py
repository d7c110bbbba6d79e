"""What every importer shares: converted shards, instrument options, reports, time zones."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmopt.data._schema import (
    EVENT_DTYPE,
    NO_EXCH_TS,
    NO_LEVEL,
    SIDE_NONE,
    ContractType,
    Instrument,
)
from mmopt.errors import ConfigError, DataError

__all__ = [
    "ConvertedShard",
    "ImportReport",
    "ImportedShard",
    "InstrumentOptions",
    "check_security_name",
    "check_timezone",
    "local_naive_to_utc_ns",
    "make_events",
]


@dataclass(frozen=True, slots=True)
class ConvertedShard:
    """One security-day converted to an ``EVENT_DTYPE`` array, sorted stably by ``ts_ns``."""

    security: str
    date: str
    events: np.ndarray
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InstrumentOptions:
    """Instrument facts given on the command line; ``None`` tick/lot size = infer from data."""

    tick_size: float | None = None
    lot_size: float | None = None
    contract_type: ContractType = "linear"
    contract_size: float = 1.0
    quote_currency: str = ""
    maker_fee_bps: float = 0.0
    taker_fee_bps: float = 0.0

    def __post_init__(self) -> None:
        for key, value in (("--tick-size", self.tick_size), ("--lot-size", self.lot_size)):
            if value is not None and not value > 0:
                raise ConfigError(f"{key} {value}: must be > 0; give the price/size increment")
        if self.contract_type not in ("linear", "inverse"):
            raise ConfigError(
                f"--contract-type {self.contract_type!r}: must be 'linear' or 'inverse'"
            )
        if not self.contract_size > 0:
            raise ConfigError(f"--contract-size {self.contract_size}: must be > 0")


@dataclass(frozen=True, slots=True)
class ImportedShard:
    """One shard written (or found identical) by an import."""

    security: str
    date: str
    path: Path
    n_events: int
    unchanged: bool


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of one import: shards, instruments written and warnings raised."""

    shards: tuple[ImportedShard, ...]
    instruments: tuple[Instrument, ...]
    notes: tuple[str, ...]


def check_timezone(name: str, option: str = "--timezone") -> zoneinfo.ZoneInfo:
    """The zone of an IANA name, or a ConfigError naming the option and the fix."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        raise ConfigError(
            f"{option} {name!r}: unknown time zone; use an IANA name such as "
            "America/New_York, Europe/London or UTC"
        ) from None


def check_security_name(security: str, where: str) -> str:
    """A security name usable as a Hive partition value."""
    bad = [c for c in ("/", "\\", "=", "\n") if c in security]
    if not security or security.startswith(".") or bad:
        raise DataError(
            f"{where}: security name {security!r} cannot be a directory name "
            "(empty, leading '.', or contains / \\ =); rename it or pass --security"
        )
    return security


def local_naive_to_utc_ns(naive_ns: np.ndarray, tz: str, where: Callable[[int], str]) -> np.ndarray:
    """Wall-clock times (ns since 1970-01-01 local) in zone ``tz`` -> UTC ns since the epoch.

    A wall-clock time skipped or repeated by a daylight-saving change is an error naming the
    first such row (``where(i)`` names the file and row of 0-based index ``i``).
    """
    if tz == "UTC":
        return naive_ns.astype(np.int64, copy=True)
    index = pd.DatetimeIndex(naive_ns.astype("datetime64[ns]"))
    local = index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    bad = np.flatnonzero(np.asarray(local.isna()))
    if bad.size:
        raise DataError(
            f"{where(int(bad[0]))}: local time {index[bad[0]]} does not exist or is "
            f"ambiguous in {tz} (daylight-saving change); pass --timezone UTC if the times are "
            "already UTC, or the exchange's real time zone"
        )
    return np.asarray(local.as_unit("ns").asi8, dtype=np.int64)


def make_events(
    ts_ns: np.ndarray,
    kind: np.ndarray | int,
    price: np.ndarray,
    qty: np.ndarray,
    *,
    side: np.ndarray | int = SIDE_NONE,
    level: np.ndarray | int = NO_LEVEL,
    exch_ts_ns: np.ndarray | int = NO_EXCH_TS,
    is_snapshot: np.ndarray | bool = False,
) -> np.ndarray:
    """An ``EVENT_DTYPE`` array from whole columns (scalars broadcast)."""
    out = np.empty(len(ts_ns), dtype=EVENT_DTYPE)
    out["ts_ns"] = ts_ns
    out["exch_ts_ns"] = exch_ts_ns
    out["price"] = price
    out["qty"] = qty
    out["level"] = level
    out["kind"] = kind
    out["side"] = side
    out["is_snapshot"] = is_snapshot
    return out
