"""What every importer shares: converted shards, instrument options, time zones, writing.

An importer first converts *all* its inputs into ``ConvertedShard`` objects (every bad input
raises before anything is written), then ``write_converted`` writes each shard atomically through
``mmopt.data.writer.write_shard`` and merges the instruments into ``ROOT/instruments.csv``.
"""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    NO_EXCH_TS,
    NO_LEVEL,
    SIDE_NONE,
    ContractType,
    Instrument,
)
from mmopt.data.instruments import infer_grid
from mmopt.data.writer import shard_dir, write_instruments_csv, write_shard
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
    "write_converted",
]

_QUOTE_KINDS = (KIND_BID, KIND_ASK, KIND_BID_LEVEL, KIND_ASK_LEVEL)


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


def _existing_securities(root: Path) -> set[str]:
    path = root / "instruments.csv"
    if not path.exists():
        return set()
    with path.open(newline="") as fh:
        return {(row.get("security") or "").strip() for row in csv.DictReader(fh)}


def _instrument_for(
    security: str, events: Sequence[np.ndarray], opts: InstrumentOptions
) -> tuple[Instrument, str | None]:
    """The instrument of one security; a note when tick or lot size had to be inferred."""
    allev = np.concatenate(list(events))
    quoted = np.isin(allev["kind"], _QUOTE_KINDS) & (allev["qty"] > 0)
    prices = allev["price"][quoted] if quoted.any() else allev["price"][allev["kind"] == KIND_TRADE]
    inferred: list[str] = []
    tick = opts.tick_size
    if tick is None:
        tick = infer_grid(prices)
        inferred.append(f"tick size {tick:g} (--tick-size)")
    lot = opts.lot_size
    if lot is None:
        lot = infer_grid(allev["qty"])
        inferred.append(f"lot size {lot:g} (--lot-size)")
    ins = Instrument(
        security=security,
        tick_size=tick,
        lot_size=lot,
        contract_type=opts.contract_type,
        contract_size=opts.contract_size,
        quote_currency=opts.quote_currency,
        maker_fee_bps=opts.maker_fee_bps,
        taker_fee_bps=opts.taker_fee_bps,
        inferred=bool(inferred),
    )
    note = None
    if inferred:
        note = (
            f"{security}: inferred {' and '.join(inferred)} from the data; "
            "pass the option in brackets to set it"
        )
    return ins, note


def _check_tick_grid(shard: ConvertedShard, tick: float) -> None:
    ev = shard.events
    rows = np.flatnonzero(np.isin(ev["kind"], _QUOTE_KINDS) & (ev["qty"] > 0))
    ratio = ev["price"][rows] / tick
    off = np.flatnonzero(np.abs(ratio - np.rint(ratio)) > 1e-6 + 1e-9 * np.abs(ratio))
    if off.size:
        price = float(ev["price"][rows[off[0]]])
        raise DataError(
            f"{', '.join(shard.sources)}: {shard.security} {shard.date}: quoted price {price!r} "
            f"is not a multiple of --tick-size {tick:g}; pass the instrument's real tick size "
            "(or leave --tick-size out to infer it)"
        )


def write_converted(
    root: str | Path,
    shards: Sequence[ConvertedShard],
    opts: InstrumentOptions,
    *,
    overwrite: bool = False,
) -> ImportReport:
    """Write every shard atomically and merge the instruments into ``ROOT/instruments.csv``.

    An instrument already in ``instruments.csv`` is left as it is unless ``--tick-size`` is
    given (an inferred tick size never replaces a recorded one).
    """
    root = Path(root)
    seen: dict[tuple[str, str], ConvertedShard] = {}
    for shard in shards:
        key = (shard.security, shard.date)
        if key in seen:
            raise DataError(
                f"{', '.join(seen[key].sources)} and {', '.join(shard.sources)} both hold "
                f"{shard.security} on {shard.date}; import them separately into different roots "
                "or merge the files first"
            )
        seen[key] = shard
    by_security: dict[str, list[np.ndarray]] = {}
    for shard in shards:
        by_security.setdefault(shard.security, []).append(shard.events)
    instruments: list[Instrument] = []
    notes: list[str] = []
    existing = _existing_securities(root)
    for security, events in sorted(by_security.items()):
        ins, note = _instrument_for(security, events, opts)
        if opts.tick_size is not None:
            for shard in shards:
                if shard.security == security:
                    _check_tick_grid(shard, opts.tick_size)
        if security in existing and opts.tick_size is None:
            notes.append(f"{security}: kept its row in {root / 'instruments.csv'}")
            continue
        instruments.append(ins)
        if note:
            notes.append(note)
    written = [_write_one(root, shard, overwrite) for shard in shards]
    if instruments:
        write_instruments_csv(root, instruments)
    return ImportReport(tuple(written), tuple(instruments), tuple(notes))


def _write_one(root: Path, shard: ConvertedShard, overwrite: bool) -> ImportedShard:
    target = shard_dir(root, shard.security, shard.date) / "part-0.parquet"
    before = _stamp(target)
    path = write_shard(root, shard.security, shard.date, shard.events, overwrite=overwrite)
    unchanged = before is not None and before == _stamp(path)
    return ImportedShard(shard.security, shard.date, path, len(shard.events), unchanged)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)
