"""Instrument metadata: parse ``ROOT/instruments.csv``, or infer tick and lot size from data.

The CSV has one row per security. Required columns: ``security``, ``tick_size``, ``lot_size``;
optional: ``contract_type`` (linear | inverse, default linear), ``contract_size`` (default 1),
``quote_currency``, the fee columns ``maker_fee_bps``, ``taker_fee_bps``,
``maker_fee_per_unit``, ``taker_fee_per_unit``, ``fee_per_trade``, ``buy_fee_bps``,
``sell_fee_bps``, ``buy_fee_per_unit``, ``sell_fee_per_unit`` (default 0; positive = paid,
negative = rebate), and the session columns ``time_zone`` (IANA, e.g. America/New_York),
``session_open``, ``open_auction_end``, ``close_auction_start``, ``session_close``,
``flatten_at`` (times of day ``HH:MM[:SS]`` in that zone; empty = none). Other columns are
ignored. Where the file or a security's row is missing, tick and lot size are
inferred from the shard's prices and sizes and a warning is issued once per root (and once per
missing security).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow.fs as pafs

from mmopt.data._schema import Instrument
from mmopt.data.catalog import INSTRUMENTS_FILE, normalise_root, open_filesystem
from mmopt.errors import DataError

__all__ = [
    "InferredInstrumentWarning",
    "check_instrument_rows",
    "infer_grid",
    "infer_instrument",
    "instruments_for_root",
    "parse_instruments_csv",
    "read_instruments",
]

REQUIRED_COLUMNS = ("security", "tick_size", "lot_size")
FEE_COLUMNS = (
    "maker_fee_bps", "taker_fee_bps", "maker_fee_per_unit", "taker_fee_per_unit",
    "fee_per_trade", "buy_fee_bps", "sell_fee_bps", "buy_fee_per_unit", "sell_fee_per_unit",
)  # fmt: skip
FLOAT_COLUMNS = ("tick_size", "lot_size", "contract_size", *FEE_COLUMNS)
SESSION_COLUMNS = (
    "session_open", "open_auction_end", "close_auction_start", "session_close", "flatten_at",
)  # fmt: skip
CSV_HELP = (
    "columns: security,tick_size,lot_size[,contract_type,contract_size,quote_currency,"
    "maker_fee_bps,taker_fee_bps,maker_fee_per_unit,taker_fee_per_unit,fee_per_trade,"
    "buy_fee_bps,sell_fee_bps,buy_fee_per_unit,sell_fee_per_unit,time_zone,session_open,"
    "open_auction_end,close_auction_start,session_close,flatten_at]"
)
# Grid candidates, largest first: 5, 2.5, 2, 1 times a power of ten from 10^4 down to 10^-10.
_GRID_CANDIDATES = tuple(m * 10.0**e for e in range(4, -11, -1) for m in (5.0, 2.5, 2.0, 1.0))

_lock = threading.Lock()
_warned: set[tuple[str, str]] = set()
_cache: dict[tuple[str, str], dict[str, Instrument]] = {}


class InferredInstrumentWarning(UserWarning):
    """Tick or lot size was inferred from the data because instruments.csv does not give it."""


def parse_instruments_csv(text: str, source: str) -> dict[str, Instrument]:
    """Parse the CSV text; every error names ``source``, the line and the column."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"in the header; expected {CSV_HELP}"
        )
    reader.fieldnames = header
    out: dict[str, Instrument] = {}
    for line, row in enumerate(reader, start=2):
        ins = _parse_row(row, source, line)
        if ins.security in out:
            raise DataError(
                f"{source}: line {line}: security {ins.security!r} appears twice; keep one row"
            )
        out[ins.security] = ins
    return out


def _parse_row(row: Mapping[str, str | None], source: str, line: int) -> Instrument:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    security = cell("security")
    if not security:
        raise DataError(f"{source}: line {line}: column 'security' is empty; name the security")
    values: dict[str, float] = {}
    for name in FLOAT_COLUMNS:
        raw = cell(name)
        if not raw and name not in REQUIRED_COLUMNS:
            continue
        try:
            values[name] = float(raw)
        except ValueError:
            raise DataError(
                f"{source}: line {line}: column '{name}' = {raw!r} is not a number "
                f"(security {security!r}); write a decimal number such as 0.01"
            ) from None
        if not math.isfinite(values[name]):
            raise DataError(
                f"{source}: line {line}: column '{name}' = {raw!r} must be a finite number"
            )
    contract_type = cell("contract_type").lower() or "linear"
    sessions = _session_cells(cell, source, line, security)
    extra: dict[str, Any] = {name: values[name] for name in FEE_COLUMNS if name in values}
    extra.update(sessions)
    try:
        base = Instrument(
            security=security,
            tick_size=values["tick_size"],
            lot_size=values["lot_size"],
            contract_type=contract_type,  # type: ignore[arg-type]  # checked by Instrument
            contract_size=values.get("contract_size", 1.0),
            quote_currency=cell("quote_currency"),
        )
        return dataclasses.replace(base, **extra)
    except ValueError as exc:
        raise DataError(f"{source}: line {line}: {exc}; fix the row") from None


def _session_cells(cell: Callable[[str], str], source: str, line: int,
                   security: str) -> dict[str, str]:
    """The time zone and session times of a row, checked (unknown zone, bad time)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from mmopt.data.time_of_day import parse_time_of_day
    from mmopt.errors import ConfigError

    out = {"time_zone": cell("time_zone")}
    if out["time_zone"]:
        try:
            ZoneInfo(out["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise DataError(
                f"{source}: line {line} ({security}): column 'time_zone' = "
                f"{out['time_zone']!r} is not a known time zone; use an IANA name such as "
                "America/New_York, Europe/London or UTC"
            ) from None
    for name in SESSION_COLUMNS:
        raw = cell(name)
        if raw:
            try:
                parse_time_of_day(raw, name, out["time_zone"] or "UTC")
            except ConfigError:
                raise DataError(
                    f"{source}: line {line} ({security}): column '{name}' = {raw!r} is not a "
                    "time of day; write HH:MM or HH:MM:SS (e.g. 09:30) or leave it empty"
                ) from None
        out[name] = raw
    return out


def read_instruments(root: str) -> dict[str, Instrument] | None:
    """The instruments of ``ROOT/instruments.csv``, or None when the file does not exist."""
    fs, base = open_filesystem(normalise_root(root))
    path = f"{base}/{INSTRUMENTS_FILE}"
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        return None
    stamp = f"{info.size}:{info.mtime_ns}"
    key = (path, stamp)
    with _lock:
        if key in _cache:
            return dict(_cache[key])
    try:
        with fs.open_input_stream(path) as fh:
            text = fh.read().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the instruments file ({exc}); {CSV_HELP}") from exc
    parsed = parse_instruments_csv(text, path)
    with _lock:
        _cache[key] = parsed
    return dict(parsed)


def check_instrument_rows(root: str, securities: Iterable[str], *, fees_in_config: bool) -> None:
    """Every security must have a row in ``ROOT/instruments.csv`` (its fees), unless the config
    sets the fees itself; DataError naming the file, the securities and the fix.

    Without the file at all, tick and lot size are inferred with a warning (``warn_inferred``)
    and fees come from the config (0 where it sets none)."""
    table = read_instruments(root)
    if table is None or fees_in_config:
        return
    missing = sorted({s for s in securities if s not in table})
    if missing:
        fs_path = f"{normalise_root(root)}/{INSTRUMENTS_FILE}"
        raise DataError(
            f"{fs_path}: no row for {', '.join(repr(m) for m in missing)}, so its fees are "
            f"unknown (running with none would overstate PnL); add a row per security "
            f"({CSV_HELP}) or set the fees in config: engine.maker_fee_bps=... "
            "engine.taker_fee_bps=... (or engine.maker_fee_per_unit / taker_fee_per_unit)"
        )


def instruments_for_root(root: str) -> dict[str, Instrument]:
    """Like ``read_instruments`` but an absent file gives an empty mapping."""
    return read_instruments(root) or {}


def infer_grid(values: np.ndarray) -> float:
    """The largest 'round' step (5, 2.5, 2, 1 x 10^k) on which all finite positive values lie.

    Falls back to the smallest gap between distinct values when no round step fits.
    """
    v = values[np.isfinite(values) & (values > 0)]
    if v.size == 0:
        return 1.0
    u = np.unique(v)
    if u.size > 200_000:
        u = u[:: u.size // 200_000 + 1]
    for step in _GRID_CANDIDATES:
        if step > u[0] * (1 + 1e-9):  # the smallest value must be at least one step
            continue
        r = u / step
        if np.all(np.abs(r - np.rint(r)) <= 1e-6 + 1e-12 * r):
            return float(step)
    gaps = np.diff(u)
    gaps = gaps[gaps > 0]
    return float(gaps.min()) if gaps.size else float(u[0])


def infer_instrument(security: str, price: np.ndarray, qty: np.ndarray) -> Instrument:
    """An instrument whose tick and lot size are inferred from the prices and sizes seen."""
    return Instrument(
        security=security,
        tick_size=infer_grid(price),
        lot_size=infer_grid(qty),
        inferred=True,
    )


def warn_inferred(root: str, security: str, file_missing: bool) -> None:
    """Warn that tick/lot size are inferred: once per root (absent file) or per security."""
    key = (normalise_root(root), "" if file_missing else security)
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    if file_missing:
        msg = (
            f"{key[0]}/{INSTRUMENTS_FILE} not found: tick and lot size are inferred from the "
            f"data for every security (linear contract, no fees); write that file ({CSV_HELP})"
        )
    else:
        msg = (
            f"{key[0]}/{INSTRUMENTS_FILE} has no row for {security!r}: its tick and lot size "
            "are inferred from the data (linear contract, no fees); add a row for it"
        )
    warnings.warn(msg, InferredInstrumentWarning, stacklevel=3)
