"""Import CSV or Parquet quotes and/or trades through a column map (see ``column_map``).

Each file's layout follows from the mapped columns it holds: quotes (``bid``/``ask`` with
sizes: a ``bid`` or ``ask`` row whenever that side's price or size changes, per security),
trades (``price``/``size``[/``side``]), or event rows (``type``/``price``/``size``). All files
are read and checked first; then rows are grouped into one shard per security and date (the date
option, the date column, or the date of the time in ``timezone``) and sorted stably by time, ties
kept in file order (files sorted by path, so the same files always give the same shards).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mmopt.data._schema import EVENT_DTYPE, KIND_ASK, KIND_BID, KIND_TRADE, NO_EXCH_TS, SIDE_NONE
from mmopt.data.importers._common import (
    ConvertedShard,
    ImportReport,
    InstrumentOptions,
    check_security_name,
    make_events,
    write_converted,
)
from mmopt.data.importers._timeparse import parse_times
from mmopt.data.importers.column_map import TabularConfig
from mmopt.errors import ConfigError, DataError

__all__ = ["convert_tabular", "import_tabular"]

PARQUET_SUFFIXES = (".parquet", ".pq")
_TEXT_KEYS = ("time", "exch_time", "type", "side", "security", "date")
Where = Callable[[int], str]


class _File:
    """One input file's mapped columns, with row naming for messages."""

    def __init__(self, path: Path, config: TabularConfig) -> None:
        self.path = path
        self.config = config
        wanted = set(config.columns.mapped().values())
        parquet = path.suffix.lower() in PARQUET_SUFFIXES
        try:
            if parquet:
                self.columns = list(pq.read_schema(path).names)
                keep = [c for c in self.columns if c in wanted]
                self.frame = pq.read_table(path, columns=keep).to_pandas()
            else:
                self.columns = list(pd.read_csv(path, nrows=0, sep=config.delimiter).columns)
                keep = [c for c in self.columns if c in wanted]
                mapped = config.columns.mapped()
                text = {mapped[k] for k in _TEXT_KEYS if k in mapped}
                self.frame = pd.read_csv(
                    path, usecols=keep, sep=config.delimiter, dtype={c: str for c in text}
                )
        except FileNotFoundError:
            raise DataError(f"{path}: no such file; check the path") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{path}: the file is empty; it needs a header line and rows") from None
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pa.ArrowException) as exc:
            kind = "Parquet" if parquet else "CSV"
            raise DataError(f"{path}: cannot read it as {kind} ({exc}); check the file") from None
        first = 1 if parquet else 2
        noun = "row" if parquet else "line"
        self.where: Where = lambda i: f"{path}: {noun} {i + first}"

    def has(self, key: str) -> bool:
        column = getattr(self.config.columns, key)
        return column is not None and column in self.frame.columns

    def require(self, key: str, layout: str) -> str:
        column: str = getattr(self.config.columns, key)
        if not self.has(key):
            raise DataError(
                f"{self.path}: {layout} need the {key!r} column {column!r}, which is not in the "
                f"file (columns: {', '.join(self.columns)}); fix the map (--col {key}=<column>)"
            )
        return column

    def numbers(self, key: str) -> np.ndarray:
        column = getattr(self.config.columns, key)
        raw = self.frame[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = np.isnan(values) & raw.notna().to_numpy(bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{self.where(i)}, column {column}: {raw.iloc[i]!r} is not a number; fix the value"
            )
        return values

    def codes(self, key: str, lookup: dict[str, int], what: str) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, mask of rows with a known value); unknown non-empty values raise."""
        column = getattr(self.config.columns, key)
        raw = self.frame[column]
        text = raw.astype("string").str.strip().str.lower()
        text = text.str.replace(r"^(-?\d+)\.0*$", r"\1", regex=True)
        mapped = text.map(lookup)
        known = mapped.notna().to_numpy(bool)
        empty = text.isna().to_numpy(bool) | (text == "").fillna(False).to_numpy(bool)
        if (~known & ~empty).any():
            i = int(np.flatnonzero(~known & ~empty)[0])
            raise DataError(
                f"{self.where(i)}, column {column}: {raw.iloc[i]!r} is not a known {what} "
                f"({', '.join(sorted(lookup))}); add it under {key}_values: in the map file"
            )
        return mapped.fillna(0).to_numpy(np.int64), known


def _check(f: _File, bad: np.ndarray, key: str, values: np.ndarray, problem: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        column = getattr(f.config.columns, key)
        value = values[i].item() if isinstance(values[i], np.generic) else values[i]
        raise DataError(f"{f.where(i)}, column {column}: {value!r} {problem}; fix the value")


def _quote_rows(f: _File, keys: np.ndarray) -> tuple[np.ndarray, ...]:
    """(row, sub, kind, price, qty) of the bid/ask rows where a side changed (per security)."""
    order = np.lexsort((np.arange(len(keys)), keys))
    parts = []
    for sub, (kind, pkey, skey) in enumerate(
        ((KIND_BID, "bid", "bid_size"), (KIND_ASK, "ask", "ask_size"))
    ):
        price, size = f.numbers(pkey), f.numbers(skey)
        empty = ~(price > 0)
        _check(f, ~empty & ~(size >= 0), skey, size, "is not a size >= 0")
        _check(f, (price <= 0) & (size > 0), pkey, price, "is not a positive price")
        price = np.where(empty, np.nan, price)[order]
        size = np.where(empty, 0.0, size)[order]
        same_p = (price[1:] == price[:-1]) | (np.isnan(price[1:]) & np.isnan(price[:-1]))
        same = same_p & (size[1:] == size[:-1]) & (keys[order][1:] == keys[order][:-1])
        emit = np.concatenate([[len(order) > 0], ~same])[: len(order)]
        rows = order[emit]
        parts.append(
            (rows, np.full(rows.size, sub), np.full(rows.size, kind), price[emit], size[emit])
        )
    return tuple(np.concatenate(cols) for cols in zip(*parts, strict=True))


def _side_codes(f: _File, n: int) -> np.ndarray:
    if not f.has("side"):
        return np.full(n, SIDE_NONE, np.int64)
    return f.codes("side", f.config.side_lookup, "side")[0]


def _trade_rows(f: _File, event_kind: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(row, sub, kind, price, qty, side, level) of trade rows, or of every event row."""
    price, size = f.numbers("price"), f.numbers("size")
    n = len(price)
    active = np.ones(n, bool)
    if event_kind is None:
        kind = np.full(n, KIND_TRADE)
        if f.has("bid") or f.has("ask"):  # quotes and trades in one file: rows with a price
            active = ~np.isnan(price)
    else:
        kind = event_kind
    top = (kind == KIND_BID) | (kind == KIND_ASK)
    _check(f, active & ~(size >= 0), "size", size, "is not a size >= 0")
    _check(f, active & ~top & ~(price > 0), "price", price, "is not a positive price")
    price = np.where(top & ~(price > 0), np.nan, price)
    size = np.where(np.isnan(price), 0.0, size)
    side = np.where(kind == KIND_TRADE, _side_codes(f, n), SIDE_NONE)
    level: np.ndarray = np.zeros(n, np.int64)
    if f.has("level"):
        lv = f.numbers("level")
        lv_bad = active & (~(lv >= 0) | (lv != np.rint(lv))) & ~np.isnan(lv)
        _check(f, lv_bad, "level", lv, "is not a rank >= 0 (1 = best)")
        level = np.nan_to_num(lv).astype(np.int64)
    sel = np.flatnonzero(active)
    return sel, np.full(sel.size, 2), kind[sel], price[sel], size[sel], side[sel], level[sel]


def _file_events(f: _File) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(events, security per event, date per event, row order key) of one file."""
    cfg, cm = f.config, f.config.columns
    if not f.has("time"):
        f.require("time", "all rows")
    event_rows = f.has("type")
    if not (event_rows or f.has("bid") or f.has("ask") or f.has("price")):
        raise DataError(
            f"{f.path}: none of the mapped columns bid/ask (quotes), price (trades) or type "
            f"(event rows) is in the file (columns: {', '.join(f.columns)}); fix the map"
        )
    n = len(f.frame)
    if n == 0:
        raise DataError(f"{f.path}: the file has no rows; remove it from the inputs")
    security = (
        np.full(n, cfg.security, dtype=object)
        if cfg.security is not None
        else f.frame[f.require("security", "rows without --security")].to_numpy(object)
    )
    dates = None if cfg.date is not None or not f.has("date") else f.frame[cm.date]
    date_const = None if cfg.date is None else pd.Series([cfg.date] * n)
    ts = parse_times(
        f.frame[cm.time],
        cfg.time_format,
        cfg.timezone,
        f.where,
        str(cm.time),
        dates if dates is not None else date_const,
    )
    exch = (
        parse_times(
            f.frame[cm.exch_time],
            cfg.time_format,
            cfg.timezone,
            f.where,
            str(cm.exch_time),
            dates if dates is not None else date_const,
        )
        if f.has("exch_time")
        else np.full(n, NO_EXCH_TS, np.int64)
    )
    sec_codes = pd.factorize(pd.Series(security))[0]
    parts: list[tuple[np.ndarray, ...]] = []
    if f.has("bid") or f.has("ask"):
        for key in ("bid", "ask", "bid_size", "ask_size"):
            f.require(key, "quotes")
        r, sub, kind, price, qty = _quote_rows(f, sec_codes)
        parts.append(
            (r, sub, kind, price, qty, np.zeros(r.size, np.int64), np.zeros(r.size, np.int64))
        )
    if event_rows:
        kinds = f.codes("type", cfg.type_lookup, "type")[0]
        f.require("price", "event rows")
        f.require("size", "event rows")
        parts.append(_trade_rows(f, kinds))
    elif f.has("price"):
        f.require("size", "trades")
        parts.append(_trade_rows(f, None))
    r, sub, kind, price, qty, side, level = (np.concatenate(c) for c in zip(*parts, strict=True))
    events = make_events(ts[r], kind, price, qty, side=side, level=level, exch_ts_ns=exch[r])
    if cfg.date is not None:
        day = np.full(r.size, cfg.date, dtype=object)
    elif dates is not None:
        day = _iso_dates(f, dates)[r]
    else:
        day = _local_dates(ts[r], cfg.timezone)
    return events, security[r], day, r * 4 + sub


def _iso_dates(f: _File, dates: pd.Series) -> np.ndarray:
    text = dates.astype("string").str.strip()
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna().to_numpy(bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{f.where(i)}, column {f.config.columns.date}: {dates.iloc[i]!r} is not "
            "a date; write YYYY-MM-DD"
        )
    return np.asarray(parsed.dt.strftime("%Y-%m-%d"), dtype=object)


def _local_dates(ts: np.ndarray, tz: str) -> np.ndarray:
    index = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert(tz)
    days = index.tz_localize(None).asi8 // 86_400_000_000_000
    uniq, inv = np.unique(days, return_inverse=True)
    names = np.array([str(np.datetime64(int(d), "D")) for d in uniq], dtype=object)
    return names[inv]


def convert_tabular(inputs: Iterable[str | Path], config: TabularConfig) -> list[ConvertedShard]:
    """Read and check every file, then split the rows into shards (security, date)."""
    paths = sorted({Path(p) for p in inputs})
    if not paths:
        raise DataError("no input files given; pass one or more CSV or Parquet files")
    files = [_File(p, config) for p in paths]
    seen = {c for f in files for c in f.columns}
    for key, column in config.columns.mapped().items():
        if column not in seen:
            raise ConfigError(
                f"{config.source}: {key}={column!r}: no input file has a column {column!r} "
                f"(columns: {', '.join(sorted(seen))}); fix the map"
            )
    per_file = [_file_events(f) for f in files]
    events = np.concatenate([p[0] for p in per_file])
    security = np.concatenate([p[1] for p in per_file])
    day = np.concatenate([p[2] for p in per_file])
    ordinal = np.concatenate([p[3] + (i << 40) for i, p in enumerate(per_file)])
    sec_codes, sec_names = pd.factorize(pd.Series(security, dtype=object), sort=True)
    day_codes, day_names = pd.factorize(pd.Series(day, dtype=object), sort=True)
    order = np.lexsort((ordinal, events["ts_ns"], day_codes, sec_codes))
    events, sec_codes, day_codes = events[order], sec_codes[order], day_codes[order]
    cut = np.flatnonzero((np.diff(sec_codes) != 0) | (np.diff(day_codes) != 0)) + 1
    sources = tuple(str(p) for p in paths)
    shards = []
    for start, stop in zip(np.r_[0, cut], np.r_[cut, len(events)], strict=True):
        name = check_security_name(str(sec_names[sec_codes[start]]), ", ".join(sources))
        shard_events = np.ascontiguousarray(events[start:stop], dtype=EVENT_DTYPE)
        shards.append(ConvertedShard(name, str(day_names[day_codes[start]]), shard_events, sources))
    return shards


def import_tabular(
    inputs: Iterable[str | Path],
    root: str | Path,
    config: TabularConfig,
    instrument: InstrumentOptions | None = None,
    *,
    overwrite: bool = False,
) -> ImportReport:
    """Convert every file (all checked first), then write one shard per security and date."""
    shards = convert_tabular(inputs, config)
    return write_converted(root, shards, instrument or InstrumentOptions(), overwrite=overwrite)
