"""One chunk of a tabular input -> mmopt rows, grouped by shard (security, date).

Layouts follow from the mapped columns a file has: quotes (a ``bid`` and an ``ask`` row whenever
that side's price or size changes, per security, compared across chunks too), trades, or event
rows (``type``). Every row gets an ordinal (file, row, sub-row) that keeps the input order; each
group comes back sorted by (ts_ns, ordinal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmopt.data._schema import (
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    NO_EXCH_TS,
    SIDE_NONE,
)
from mmopt.data.importers._common import make_events
from mmopt.data.importers._tabular_read import Chunk, TabularSource
from mmopt.errors import DataError

__all__ = ["ChunkGroup", "QuoteCarry", "check_layout", "chunk_groups"]

_NS_PER_DAY = 86_400_000_000_000


@dataclass(slots=True)
class QuoteCarry:
    """The last (price, size) of each security's bid and ask side in one file."""

    last: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChunkGroup:
    """The rows of one shard from one chunk, sorted by (ts_ns, input order)."""

    security: str
    date: str
    events: np.ndarray


def check_layout(source: TabularSource) -> None:
    """A file must hold at least one mapped layout (checked before any row is read)."""
    cm = source.config.columns
    present = set(source.columns)
    if cm.time not in present:
        raise DataError(
            f"{source.path}: all rows need the 'time' column {cm.time!r}, which is not in the "
            f"file (columns: {', '.join(source.columns)}); fix the map (--col time=<column>)"
        )
    if not any(getattr(cm, k) in present for k in ("type", "bid", "ask", "price")):
        raise DataError(
            f"{source.path}: none of the mapped columns bid/ask (quotes), price (trades) or type "
            f"(event rows) is in the file (columns: {', '.join(source.columns)}); fix the map"
        )


def _check(chunk: Chunk, bad: np.ndarray, key: str, values: np.ndarray, problem: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = values[i].item() if isinstance(values[i], np.generic) else values[i]
        raise DataError(
            f"{chunk.where(i)}, column {chunk.column_name(key)}: {value!r} {problem}; fix the value"
        )


def _quote_rows(
    chunk: Chunk, keys: np.ndarray, names: list[str], carry: QuoteCarry
) -> tuple[np.ndarray, ...]:
    """(row, sub, kind, price, qty) of the bid/ask rows where a side changed (per security)."""
    order = np.lexsort((np.arange(len(keys)), keys))
    skeys = keys[order]
    starts = np.flatnonzero(np.r_[True, skeys[1:] != skeys[:-1]]) if len(keys) else order[:0]
    ends = np.r_[starts[1:], len(keys)] - 1
    parts = []
    for sub, (kind, pkey, skey) in enumerate(
        ((KIND_BID, "bid", "bid_size"), (KIND_ASK, "ask", "ask_size"))
    ):
        price, size = chunk.numbers(pkey), chunk.numbers(skey)
        empty = ~(price > 0)
        _check(chunk, ~empty & ~(size >= 0), skey, size, "is not a size >= 0")
        _check(chunk, (price <= 0) & (size > 0), pkey, price, "is not a positive price")
        price = np.where(empty, np.nan, price)[order]
        size = np.where(empty, 0.0, size)[order]
        same_p = (price[1:] == price[:-1]) | (np.isnan(price[1:]) & np.isnan(price[:-1]))
        same = same_p & (size[1:] == size[:-1]) & (skeys[1:] == skeys[:-1])
        emit = np.concatenate([[len(order) > 0], ~same])[: len(order)]
        for s, e in zip(starts, ends, strict=True):
            name = names[skeys[s]]
            prev = carry.last.get((name, sub))
            if prev is not None:
                p0, q0 = prev
                same0 = (p0 == price[s] or (np.isnan(p0) and np.isnan(price[s]))) and (
                    q0 == size[s]
                )
                emit[s] = not same0
            carry.last[(name, sub)] = (float(price[e]), float(size[e]))
        rows = order[emit]
        parts.append(
            (rows, np.full(rows.size, sub), np.full(rows.size, kind), price[emit], size[emit])
        )
    return tuple(np.concatenate(cols) for cols in zip(*parts, strict=True))


def _trade_rows(chunk: Chunk, event_kind: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(row, sub, kind, price, qty, side, level) of trade rows, or of every event row."""
    price, size = chunk.numbers("price"), chunk.numbers("size")
    n = len(price)
    active = np.ones(n, bool)
    if event_kind is None:
        kind = np.full(n, KIND_TRADE)
        if chunk.has("bid") or chunk.has("ask"):  # quotes and trades in one file
            active = ~np.isnan(price)
    else:
        kind = event_kind
    top = (kind == KIND_BID) | (kind == KIND_ASK)
    _check(chunk, active & ~(size >= 0), "size", size, "is not a size >= 0")
    if chunk.config.levels == "rank":  # an emptied rank (size 0) needs no price
        depth = (kind == KIND_BID_LEVEL) | (kind == KIND_ASK_LEVEL)
        top = top | (depth & (size == 0))
    _check(chunk, active & ~top & ~(price > 0), "price", price, "is not a positive price")
    price = np.where(top & ~(price > 0), np.nan, price)
    size = np.where(np.isnan(price), 0.0, size)
    if chunk.has("side"):
        sides = chunk.codes("side", chunk.config.side_lookup, "side")[0]
    else:
        sides = np.full(n, SIDE_NONE, np.int64)
    side = np.where(kind == KIND_TRADE, sides, SIDE_NONE)
    level: np.ndarray = np.zeros(n, np.int64)
    if chunk.has("level"):
        lv = chunk.numbers("level")
        lv_bad = active & (~(lv >= 0) | (lv != np.rint(lv))) & ~np.isnan(lv)
        _check(chunk, lv_bad, "level", lv, "is not a rank >= 0 (1 = best)")
        level = np.nan_to_num(lv).astype(np.int64)
    sel = np.flatnonzero(active)
    return sel, np.full(sel.size, 2), kind[sel], price[sel], size[sel], side[sel], level[sel]


def _securities(chunk: Chunk) -> tuple[np.ndarray, list[str]]:
    """(code per row, names) of the chunk's securities."""
    cfg = chunk.config
    if cfg.security is not None:
        return np.zeros(chunk.n, np.int64), [cfg.security]
    chunk.require("security", "rows without --security")
    index, values = chunk.dictionary("security")
    if (index < 0).any():
        i = int(np.flatnonzero(index < 0)[0])
        raise DataError(
            f"{chunk.where(i)}, column {chunk.column_name('security')}: empty; every row needs "
            "a security (or pass --security)"
        )
    return index, [str(v) for v in values]


def _day_numbers(chunk: Chunk, ts: np.ndarray) -> np.ndarray | None:
    """Days since 1970-01-01 per row from the date column or the local date (None: --date)."""
    cfg = chunk.config
    if cfg.date is not None:
        return None
    if chunk.has("date"):
        index, values = chunk.dictionary("date")
        text = pd.Series(values, dtype="string").str.strip()
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        ok = np.append(parsed.notna().to_numpy(bool), False)
        if not ok[index].all():
            i = int(np.flatnonzero(~ok[index])[0])
            value = None if index[i] < 0 else values[index[i]]
            raise DataError(
                f"{chunk.where(i)}, column {chunk.column_name('date')}: {value!r} is not a "
                "date; write YYYY-MM-DD"
            )
        days = np.append(parsed.to_numpy("datetime64[D]").astype(np.int64), 0)
        return days[index]
    if cfg.timezone == "UTC":
        return ts // _NS_PER_DAY
    local = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert(cfg.timezone)
    return np.asarray(local.tz_localize(None).asi8) // _NS_PER_DAY


def _dates_series(chunk: Chunk) -> pd.Series | None:
    """The dates joined to times without a date part (date column or --date)."""
    cfg = chunk.config
    if cfg.date is not None:
        return pd.Series([cfg.date] * chunk.n)
    if chunk.has("date"):
        return chunk.series("date")
    return None


def chunk_groups(chunk: Chunk, carry: QuoteCarry) -> list[ChunkGroup]:
    """The chunk's rows per shard, each sorted by (ts_ns, input order)."""
    cfg = chunk.config
    sec_codes, sec_names = _securities(chunk)
    dates = _dates_series(chunk)
    ts = chunk.times("time", dates, allow_null=False)
    exch = (
        chunk.times("exch_time", dates, allow_null=True)
        if chunk.has("exch_time")
        else np.full(chunk.n, NO_EXCH_TS, np.int64)
    )
    parts: list[tuple[np.ndarray, ...]] = []
    if chunk.has("bid") or chunk.has("ask"):
        for key in ("bid", "ask", "bid_size", "ask_size"):
            chunk.require(key, "quotes")
        r, sub, kind, price, qty = _quote_rows(chunk, sec_codes, sec_names, carry)
        zeros = np.zeros(r.size, np.int64)
        parts.append((r, sub, kind, price, qty, zeros, zeros))
    if chunk.has("type"):
        kinds = chunk.codes("type", cfg.type_lookup, "type")[0]
        chunk.require("price", "event rows")
        chunk.require("size", "event rows")
        parts.append(_trade_rows(chunk, kinds))
    elif chunk.has("price"):
        chunk.require("size", "trades")
        parts.append(_trade_rows(chunk, None))
    r, sub, kind, price, qty, side, level = (np.concatenate(c) for c in zip(*parts, strict=True))
    events = make_events(ts[r], kind, price, qty, side=side, level=level, exch_ts_ns=exch[r])
    ordinal = (chunk.offset + r) * 4 + sub
    day_all = _day_numbers(chunk, ts)
    sec = sec_codes[r]
    day = np.zeros(r.size, np.int64) if day_all is None else day_all[r]
    order = np.lexsort((ordinal, events["ts_ns"], day, sec))
    events, sec, day = events[order], sec[order], day[order]
    cut = np.flatnonzero((np.diff(sec) != 0) | (np.diff(day) != 0)) + 1
    groups = []
    for start, stop in zip(np.r_[0, cut], np.r_[cut, len(events)], strict=True):
        if stop <= start:
            continue
        date = cfg.date if day_all is None else str(np.datetime64(int(day[start]), "D"))
        groups.append(ChunkGroup(sec_names[sec[start]], str(date), events[start:stop]))
    return groups
