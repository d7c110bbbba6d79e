"""Validation of market data before any work: every failure is a DataError naming the file, the
row (0-based, with the offending value) or the column, and the fix.

Checked: the Parquet schema (missing or mistyped columns), empty shards, negative or decreasing
``ts_ns``, negative ``exch_ts_ns`` other than the absent marker, NaN / infinite / negative sizes,
non-positive prices (a NaN price on a ``bid``/``ask`` row means that side is empty and is
allowed), negative depth ranks, prices off the tick grid by more than float rounding, kind and
side codes, and rank-keyed depth: a ``*_level`` row whose ``level`` k > 0 must have its price at
rank k of the price-keyed book built from the file's ``*_level`` rows before it (see
``check_ranks``). Crossed books and trades outside the quote are real market behaviour and are not
rejected (``mmopt.data.inspect`` counts them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mmopt.data._kernels import (
    CHECK_EXCH_TS_NEGATIVE,
    CHECK_KIND,
    CHECK_LEVEL,
    CHECK_OFF_TICK,
    CHECK_PRICE,
    CHECK_QTY_NEGATIVE,
    CHECK_QTY_NOT_FINITE,
    CHECK_SIDE,
    CHECK_TS_DECREASING,
    CHECK_TS_NEGATIVE,
    check_rows,
    pack_events,
)
from mmopt.data._rank_kernels import RankBook, first_rank_mismatch
from mmopt.data._schema import EVENT_DTYPE, KIND_ASK_LEVEL, KIND_BID_LEVEL, KIND_NAMES
from mmopt.errors import DataError

__all__ = [
    "EventColumns",
    "check_ranks",
    "check_schema",
    "raise_row",
    "validate_columns",
    "validate_events",
]

WRITE_HINT = "write shards with mmopt.data.write_shard (or `mmopt data import`)"


def _is_int(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_timestamp(t))


def _is_int_or_null(t: pa.DataType) -> bool:
    return _is_int(t) or bool(pa.types.is_null(t))


def _is_num(t: pa.DataType) -> bool:
    return bool(pa.types.is_floating(t) or pa.types.is_integer(t))


def _is_str(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _is_str_or_null(t: pa.DataType) -> bool:
    return _is_str(t) or bool(pa.types.is_null(t))


def _is_bool_or_null(t: pa.DataType) -> bool:
    return bool(pa.types.is_boolean(t) or pa.types.is_null(t))


# column -> (type test, what the column must hold)
COLUMN_TYPES: dict[str, tuple[Callable[[pa.DataType], bool], str]] = {
    "ts_ns": (_is_int, "int64 nanoseconds since the Unix epoch"),
    "kind": (_is_str, "string: bid, ask, trade, bid_level or ask_level"),
    "level": (_is_int_or_null, "int32 depth rank (1 = best), null when absent"),
    "price": (_is_num, "float64 price"),
    "qty": (_is_num, "float64 size"),
    "side": (_is_str_or_null, "string aggressor side buy/sell, null when absent"),
    "exch_ts_ns": (_is_int_or_null, "int64 exchange time in ns, null when absent"),
    "is_snapshot": (_is_bool_or_null, "bool"),
}


def check_schema(schema: pa.Schema, path: str) -> None:
    """Every column present with a usable type; otherwise a DataError naming the column."""
    names = set(schema.names)
    missing = [c for c in COLUMN_TYPES if c not in names]
    if missing:
        raise DataError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}; a shard needs the columns "
            f"{', '.join(COLUMN_TYPES)}; fix: add them (nullable level/side/exch_ts_ns may be "
            f"all null) or {WRITE_HINT}"
        )
    for name, (ok, meaning) in COLUMN_TYPES.items():
        t = schema.field(name).type
        if not ok(t):
            raise DataError(
                f"{path}: column {name!r} has type {t}, expected {meaning}; "
                f"fix: cast the column when writing the file, or {WRITE_HINT}"
            )


def raise_row(
    path: str, row: int, count: int, column: str, value: object, problem: str, fix: str
) -> None:
    """Raise the DataError of a bad value at ``row`` (``count`` rows are bad in all)."""
    more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
    raise DataError(f"{path}: row {row}: column {column!r} = {value!r} {problem}{more}; fix: {fix}")


@dataclass(frozen=True, slots=True)
class EventColumns:
    """The columns of one file (or shard) as contiguous numpy arrays in the EVENT_DTYPE types."""

    ts_ns: np.ndarray
    exch_ts_ns: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    level: np.ndarray
    kind: np.ndarray
    side: np.ndarray
    is_snapshot: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_ns.shape[0])

    @classmethod
    def of(cls, events: np.ndarray) -> EventColumns:
        return cls(*(events[name] for name in EVENT_DTYPE.names or ()))

    def to_events(self) -> np.ndarray:
        """One ``EVENT_DTYPE`` array of these columns (one compiled pass)."""
        out = np.empty(len(self), dtype=EVENT_DTYPE)
        return pack_events(out, *(getattr(self, name) for name in EVENT_DTYPE.names or ()))


def validate_columns(cols: EventColumns, path: str, tick_size: float | None = None) -> None:
    """Check one file's events; ``tick_size`` (when known) enables the tick-grid check."""
    if len(cols) == 0:
        raise DataError(
            f"{path}: the file has no rows (empty shard); fix: delete it, or re-write the "
            "shard with its events"
        )
    first, count = check_rows(
        cols.ts_ns,
        cols.exch_ts_ns,
        cols.price,
        cols.qty,
        cols.level,
        cols.kind,
        cols.side,
        tick_size or 0.0,
    )
    for check in np.flatnonzero(count):
        _raise_check(cols, path, int(check), int(first[check]), int(count[check]), tick_size)
    check_ranks(cols, path)


def check_ranks(cols: EventColumns, path: str) -> None:
    """Ranked ``*_level`` rows must be price-keyed: their price is the book's level at the rank.

    The engine applies a ``*_level`` row as "the size at this price is now q". A row that carries
    a rank k (``level`` > 0) whose price is not the k-th level of the book built from the rows
    before it (for a removal: the k-th level before it) is rank-keyed ("level k is now price P"),
    and applying it by price would leave stale levels in the book: it is an error. Files without
    ranks (``level`` null or 0 on every depth row) are not checked.
    """
    depth = (cols.kind == KIND_BID_LEVEL) | (cols.kind == KIND_ASK_LEVEL)
    n_depth = int(np.count_nonzero(depth))
    if n_depth == 0 or not np.any(cols.level[depth] > 0):
        return
    book = RankBook.empty().with_room(n_depth)
    row, book_price = first_rank_mismatch(cols.kind, cols.price, cols.qty, cols.level, book)
    if row < 0:
        return
    rank = int(cols.level[row])
    have = (
        f"has only {int(book.count[0 if cols.kind[row] == KIND_BID_LEVEL else 1])} levels"
        if np.isnan(book_price)
        else f"has price {book_price!r} at rank {rank}"
    )
    raise DataError(
        f"{path}: row {row}: {KIND_NAMES[int(cols.kind[row])]} row with price "
        f"{float(cols.price[row])!r}, size {float(cols.qty[row])!r} and level {rank}, but the "
        f"book built from the depth rows before it {have}: the depth rows are rank-keyed "
        "('level k is now price P size q'), which the engine would apply by price and get a "
        "wrong book; fix: re-import the source with `mmopt data import --format csv --levels "
        "rank` (it converts rank-keyed rows into price-keyed updates with removals), or write "
        "the level column as null if its ranks mean nothing"
    )


def validate_events(events: np.ndarray, source: str, tick_size: float | None = None) -> None:
    """Check an in-memory ``EVENT_DTYPE`` array (e.g. from a generator or an importer)."""
    if events.dtype != EVENT_DTYPE:
        raise DataError(f"{source}: events have dtype {events.dtype}; expected EVENT_DTYPE")
    validate_columns(EventColumns.of(events), source, tick_size)


_KINDS = ", ".join(f"{code} ({name})" for code, name in KIND_NAMES.items())
# check id -> (column, problem, fix)
_MESSAGES: dict[int, tuple[str, str, str]] = {
    CHECK_TS_NEGATIVE: ("ts_ns", "is negative", "timestamps are ns since 1970-01-01 UTC"),
    CHECK_EXCH_TS_NEGATIVE: (
        "exch_ts_ns",
        "is negative",
        "exchange times are ns since 1970-01-01 UTC; write null where there is none",
    ),
    CHECK_KIND: ("kind", "is not a known kind code", f"use one of {_KINDS}"),
    CHECK_SIDE: ("side", "is not a side code", "use 1 (buy), -1 (sell) or 0 (none)"),
    CHECK_LEVEL: (
        "level",
        "is negative",
        "depth ranks start at 1 (best); write null where there is none",
    ),
    CHECK_QTY_NOT_FINITE: (
        "qty",
        "is not a finite number",
        "sizes must be finite numbers >= 0 (0 removes a depth level); repair or drop the row",
    ),
    CHECK_QTY_NEGATIVE: ("qty", "is negative", "sizes must be >= 0; repair or drop the row"),
    CHECK_PRICE: (
        "price",
        "is not a positive price",
        "prices must be finite and > 0 (NaN only on bid/ask rows, for an empty side)",
    ),
}


def _raise_check(
    cols: EventColumns, path: str, check: int, row: int, count: int, tick: float | None
) -> None:
    if check == CHECK_TS_DECREASING:
        more = f" ({count - 1} more row{'s' if count > 2 else ''} like it)" if count > 1 else ""
        raise DataError(
            f"{path}: row {row}: column 'ts_ns' = {int(cols.ts_ns[row])} is smaller than the "
            f"previous row's {int(cols.ts_ns[row - 1])} (timestamps decrease){more}; fix: sort "
            "the rows stably by ts_ns before writing the shard"
        )
    if check == CHECK_OFF_TICK:
        column, problem, fix = (
            "price",
            f"is off the tick grid (tick size {tick:g})",
            "round prices to the tick, or correct tick_size in ROOT/instruments.csv",
        )
    else:
        column, problem, fix = _MESSAGES[check]
    value = getattr(cols, column)[row].item()
    raise_row(path, row, count, column, value, problem, fix)
