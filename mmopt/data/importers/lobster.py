"""Import LOBSTER message + orderbook CSV pairs (any number of levels) as mmopt shards.

LOBSTER (lobsterdata.com) writes, per ticker and day, ``TICKER_DATE_START_END_message_L.csv``
(Time, Type, Order ID, Size, Price, Direction; no header) and ``..._orderbook_L.csv`` (per level
Ask Price, Ask Size, Bid Price, Bid Size). Row i of the orderbook is the visible book *after*
message i. Times are seconds after midnight (up to 9 decimals) in the exchange's time zone,
prices are dollars x 10,000, and empty levels hold dummy prices (ask 9999999999,
bid -9999999999) with size 0.

Conversion (whole columns at once, no per-row Python):

* The first orderbook row becomes the initial snapshot: one ``bid_level`` / ``ask_level`` row
  per visible level, ``is_snapshot=True``, ``level`` = rank (1 = best).
* Each later row is compared with the row before it, per side and keyed by price: a price whose
  size changed or that appeared gives a row with its new total size and its rank; a price that
  left the visible book (deleted, or pushed below the deepest level) gives a row with size 0 and
  ``level`` 0 (it has no rank any more). Within one message, removals come before updates, bids
  before asks, best level first.
* Types 4 and 5 (visible / hidden execution) give a ``trade`` at the message's price and size.
  Direction is the side of the *resting* order, so the aggressor is the opposite side. A
  message's trade comes before the book change it caused. Hidden executions change no visible
  level. (Nasdaq may mask the side of hidden orders; LOBSTER's Direction is used as given.)
* Type 6 (cross trade, i.e. the opening/closing auction print) is dropped by default: it does not
  trade against the visible book and has no aggressor. ``cross_trades="keep"`` writes it as a
  ``trade`` with no side. Type 7 (trading halt / resume) changes no book and writes nothing.
* Optionally (``top_of_book``) a ``bid`` / ``ask`` row whenever the best price or size changes
  (NaN price and size 0 when a side is empty).
* ``ts_ns`` = ``exch_ts_ns`` = the file name's date + Time as wall-clock time in the exchange's
  time zone (default America/New_York), converted to UTC nanoseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mmopt.data._schema import (
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_NONE,
)
from mmopt.data.importers._common import (
    ConvertedShard,
    ImportReport,
    InstrumentOptions,
    check_security_name,
    check_timezone,
    local_naive_to_utc_ns,
    make_events,
)
from mmopt.data.importers._lobster_read import iter_pair
from mmopt.data.importers._output import ImportOutput
from mmopt.data.importers._progress import ImportProgress, NullProgress
from mmopt.errors import ConfigError, DataError

__all__ = [
    "LobsterOptions",
    "LobsterPair",
    "convert_lobster",
    "find_lobster_pairs",
    "import_lobster",
    "lobster_blocks",
]

NAME_PATTERN = re.compile(
    r"^(?P<ticker>.+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<part>message|orderbook)_(?P<levels>\d+)(?P<ext>\.csv(?:\.gz|\.bz2|\.xz|\.zip)?)$"
)
NAME_HELP = "TICKER_YYYY-MM-DD_START_END_message_LEVELS.csv (and ..._orderbook_LEVELS.csv)"
PRICE_SCALE = 10_000.0

# phases within one message: its trade, then removed levels, updated levels, top of book
_PH_TRADE, _PH_REMOVE, _PH_UPDATE, _PH_TOP = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class LobsterOptions:
    """How LOBSTER files become shards."""

    timezone: str = "America/New_York"
    security_prefix: str = ""
    cross_trades: Literal["drop", "keep"] = "drop"
    top_of_book: bool = False

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        if self.cross_trades not in ("drop", "keep"):
            raise ConfigError(f"--cross-trades {self.cross_trades!r}: must be 'drop' or 'keep'")


@dataclass(frozen=True, slots=True)
class LobsterPair:
    """One message file and its orderbook file, with the facts in their names."""

    ticker: str
    date: str
    start: int
    levels: int
    message: Path
    orderbook: Path


def find_lobster_pairs(inputs: Iterable[str | Path]) -> list[LobsterPair]:
    """Pair message and orderbook files given as files or directories (sorted, deduplicated)."""
    files: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = [p for p in path.iterdir() if NAME_PATTERN.match(p.name)]
            if not found:
                raise DataError(f"{path}: no LOBSTER files in this directory; expected {NAME_HELP}")
            files.update(found)
        elif path.exists():
            files.add(path)
        else:
            raise DataError(f"{path}: no such file or directory; check the path")
    pairs: dict[Path, LobsterPair] = {}
    for path in sorted(files):
        match = NAME_PATTERN.match(path.name)
        if match is None:
            raise DataError(f"{path}: not a LOBSTER file name; rename it to {NAME_HELP}")
        other = "orderbook" if match["part"] == "message" else "message"
        partner = path.with_name(
            path.name[: match.start("part")] + other + path.name[match.end("part") :]
        )
        if not partner.exists():
            raise DataError(f"{path}: its {other} file {partner.name} is missing; put it beside")
        message, orderbook = (path, partner) if other == "orderbook" else (partner, path)
        pairs[message] = LobsterPair(
            ticker=match["ticker"],
            date=_check_date(match["date"], path),
            start=int(match["start"]),
            levels=int(match["levels"]),
            message=message,
            orderbook=orderbook,
        )
    if not pairs:
        raise DataError(f"no input files given; expected {NAME_HELP}")
    return sorted(pairs.values(), key=lambda p: (p.ticker, p.date, p.start, p.message.name))


def _check_date(text: str, path: Path) -> str:
    try:
        pd.Timestamp(text)
        np.datetime64(text, "D")
    except ValueError:
        raise DataError(
            f"{path}: {text!r} in the file name is not a valid date (YYYY-MM-DD)"
        ) from None
    return text


def _level_diffs(p: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, ...]:
    """Price-keyed changes between consecutive rows of one side (invalid levels: p=-1, s=0).

    Returns (row, price, qty, level, phase, rank) for every changed, new or removed price.
    """
    _n, depth = p.shape
    changed = np.flatnonzero(((p[1:] != p[:-1]) | (s[1:] != s[:-1])).any(axis=1)) + 1
    chunk = max(1, 4_000_000 // (depth * depth))
    parts = [_diff_chunk(changed[i : i + chunk], p, s) for i in range(0, changed.size, chunk)]
    if not parts:
        empty = np.empty(0, np.int64)
        return (empty,) * 6
    return tuple(np.concatenate(cols) for cols in zip(*parts, strict=True))


def _diff_chunk(idx: np.ndarray, p: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, ...]:
    cp, cs, pp, ps = p[idx], s[idx], p[idx - 1], s[idx - 1]
    cv, pv = cp >= 0, pp >= 0
    same = (cp[:, :, None] == pp[:, None, :]) & cv[:, :, None] & pv[:, None, :]
    prev_qty = np.where(same, ps[:, None, :], 0).sum(axis=2)
    updated = cv & (~same.any(axis=2) | (prev_qty != cs))
    removed = pv & ~same.any(axis=1)
    ru, ju = np.nonzero(updated)
    rr, kr = np.nonzero(removed)
    return (
        np.concatenate([idx[rr], idx[ru]]),
        np.concatenate([pp[rr, kr], cp[ru, ju]]),
        np.concatenate([np.zeros(rr.size, np.int64), cs[ru, ju]]),
        np.concatenate([np.zeros(rr.size, np.int64), ju + 1]),
        np.concatenate([np.full(rr.size, _PH_REMOVE), np.full(ru.size, _PH_UPDATE)]),
        np.concatenate([kr + 1, ju + 1]),
    )


@dataclass(frozen=True, slots=True)
class _Rows:
    """Output rows before sorting: message index + ordering keys + event fields."""

    row: np.ndarray
    phase: np.ndarray
    rank: np.ndarray
    kind: np.ndarray
    price_units: np.ndarray
    qty: np.ndarray
    level: np.ndarray
    side: np.ndarray
    snapshot: np.ndarray


def _side_rows(
    p: np.ndarray, s: np.ndarray, level_kind: int, top_kind: int, top: bool, first: bool
) -> _Rows:
    """Rows of one side for book lines ``p``/``s``; line 0 is the snapshot (``first``) or the
    last line of the previous chunk (then only lines 1.. give rows, numbered from 0)."""
    row, price, qty, level, phase, rank = _level_diffs(p, s)
    parts: list[tuple[Any, ...]] = []
    if first:
        snap = np.flatnonzero(p[0] >= 0)
        n_snap = snap.size
        parts.append(
            (
                np.zeros(n_snap, np.int64),
                p[0, snap],
                s[0, snap],
                snap + 1,
                np.full(n_snap, _PH_UPDATE),
                snap + 1,
                level_kind,
                True,
            )
        )
    parts.append((row, price, qty, level, phase, rank, level_kind, False))
    if top:
        best_p, best_s = p[:, 0], s[:, 0]
        moved = np.flatnonzero((best_p[1:] != best_p[:-1]) | (best_s[1:] != best_s[:-1])) + 1
        if first:
            moved = np.concatenate([[0], moved])
        parts.append(
            (
                moved,
                best_p[moved],
                best_s[moved],
                np.zeros(moved.size, np.int64),
                np.full(moved.size, _PH_TOP),
                np.zeros(moved.size, np.int64),
                top_kind,
                False,
            )
        )
    shift = 0 if first else 1
    return _Rows(
        row=np.concatenate([x[0] for x in parts]).astype(np.int64) - shift,
        phase=np.concatenate([x[4] for x in parts]),
        rank=np.concatenate([x[5] for x in parts]),
        kind=np.concatenate([np.full(len(x[0]), x[6], np.int8) for x in parts]),
        price_units=np.concatenate([x[1] for x in parts]).astype(np.float64),
        qty=np.concatenate([x[2] for x in parts]).astype(np.float64),
        level=np.concatenate([x[3] for x in parts]),
        side=np.zeros(sum(len(x[0]) for x in parts), np.int8),
        snapshot=np.concatenate([np.full(len(x[0]), x[7]) for x in parts]),
    )


def _trade_rows(msg: np.ndarray, keep_cross: bool) -> _Rows:
    kind = msg[:, 1]
    executed = (kind == 4) | (kind == 5)
    mask = executed | (kind == 6) if keep_cross else executed
    row = np.flatnonzero(mask)
    side = np.where(executed[row], -msg[row, 5], SIDE_NONE).astype(np.int8)
    zeros = np.zeros(row.size, np.int64)
    return _Rows(
        row=row,
        phase=np.full(row.size, _PH_TRADE),
        rank=zeros,
        kind=np.full(row.size, KIND_TRADE, np.int8),
        price_units=msg[row, 4].astype(np.float64),
        qty=msg[row, 3].astype(np.float64),
        level=zeros,
        side=side,
        snapshot=np.zeros(row.size, bool),
    )


def _book_sides(book: np.ndarray, depth: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(prices, sizes) in LOBSTER units per side (bids, asks); empty levels: price -1, size 0."""
    out = []
    for offset in (2, 0):
        price = book[:, offset::4][:, :depth]
        size = book[:, offset + 1 :: 4][:, :depth]
        valid = (size > 0) & (np.abs(price) < 9_999_999_999)
        out.append(
            (np.where(valid, price, -1).astype(np.int64), np.where(valid, size, 0).astype(np.int64))
        )
    return out


def _chunk_events(
    msg: np.ndarray,
    book: np.ndarray,
    ts: np.ndarray,
    prev_book: np.ndarray | None,
    depth: int,
    options: LobsterOptions,
) -> np.ndarray:
    """The rows of one chunk of messages (``prev_book``: the book line before the chunk)."""
    first = prev_book is None
    lines = book if first else np.concatenate([prev_book, book])
    sides = []
    for side_rank, (p, s), level_kind, top_kind in zip(
        (0, 1),
        _book_sides(lines, depth),
        (KIND_BID_LEVEL, KIND_ASK_LEVEL),
        (KIND_BID, KIND_ASK),
        strict=True,
    ):
        sides.append(
            (side_rank, _side_rows(p, s, level_kind, top_kind, options.top_of_book, first))
        )
    trades = _trade_rows(msg, options.cross_trades == "keep")
    parts = [(0, trades), *sides]
    rows = _concat_rows([r for _, r in parts])
    side_order = np.concatenate([np.full(r.row.size, o, np.int8) for o, r in parts])
    # one int64 key: message, then phase, then side (bids first), then rank
    key = ((rows.row * 4 + rows.phase) * 2 + side_order) * (depth + 1) + rows.rank
    order = np.argsort(key, kind="stable")
    price = rows.price_units[order] / PRICE_SCALE
    price[rows.price_units[order] < 0] = np.nan  # an empty side in a top-of-book row
    return make_events(
        ts[rows.row[order]],
        rows.kind[order],
        price,
        rows.qty[order],
        side=rows.side[order],
        level=rows.level[order],
        exch_ts_ns=ts[rows.row[order]],
        is_snapshot=rows.snapshot[order],
    )


def lobster_blocks(pairs: Sequence[LobsterPair], options: LobsterOptions) -> Iterator[np.ndarray]:
    """The shard of one ticker and day (pairs in time order) as sorted blocks, chunk by chunk."""
    tz = options.timezone
    depth = pairs[0].levels
    prev_book: np.ndarray | None = None
    last_time = -np.inf
    for pair in pairs:
        midnight = np.datetime64(pair.date, "ns").astype(np.int64)
        for chunk in iter_pair(pair.message, pair.orderbook, pair.levels, depth):
            seconds = chunk.msg[:, 0]
            if chunk.first_line == 0 and seconds[0] < last_time:
                raise DataError(
                    f"{pair.message}: line 1: Time {seconds[0]} is before the end of the "
                    "previous file of the same day; import overlapping files into different roots"
                )
            last_time = float(seconds[-1])
            naive = midnight + np.rint(seconds * 1e9).astype(np.int64)
            ts = local_naive_to_utc_ns(naive, tz, _line_namer(pair.message, chunk.first_line))
            yield _chunk_events(chunk.msg, chunk.book, ts, prev_book, depth, options)
            prev_book = chunk.book[-1:]


def _shard_name(pairs: Sequence[LobsterPair], options: LobsterOptions) -> str:
    return check_security_name(options.security_prefix + pairs[0].ticker, str(pairs[0].message))


def convert_lobster(pairs: Sequence[LobsterPair], options: LobsterOptions) -> ConvertedShard:
    """Convert the pairs of one ticker and day (in time order) into one shard (in memory)."""
    security = _shard_name(pairs, options)
    events = np.concatenate(list(lobster_blocks(pairs, options)))
    sources = tuple(str(p.message) for p in pairs)
    return ConvertedShard(security, pairs[0].date, events, sources)


def _line_namer(path: Path, first: int) -> Callable[[int], str]:
    return lambda i: f"{path}: line {first + i + 1}"


def _concat_rows(parts: Sequence[_Rows]) -> _Rows:
    return _Rows(
        **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _Rows.__slots__}
    )


def import_lobster(
    inputs: Iterable[str | Path],
    root: str | Path,
    options: LobsterOptions | None = None,
    instrument: InstrumentOptions | None = None,
    *,
    overwrite: bool = False,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Convert every LOBSTER pair (all checked first), then write one shard per ticker-day."""
    options = options or LobsterOptions()
    instrument = instrument or InstrumentOptions(lot_size=1.0, quote_currency="USD")
    progress = progress or NullProgress()
    groups: dict[tuple[str, str], list[LobsterPair]] = {}
    for pair in find_lobster_pairs(inputs):
        groups.setdefault((pair.ticker, pair.date), []).append(pair)
    progress.start("read")
    with ImportOutput(root, instrument, overwrite=overwrite, progress=progress) as output:
        for _, group in sorted(groups.items()):
            security = _shard_name(group, options)
            where = f"{', '.join(str(p.message) for p in group)}: {security} {group[0].date}"
            blocks = _observed(output, lobster_blocks(group, options), security, where)
            output.write_shard(security, group[0].date, blocks)
        return output.finish()


def _observed(
    output: ImportOutput, blocks: Iterator[np.ndarray], security: str, where: str
) -> Iterator[np.ndarray]:
    for block in blocks:
        output.observe(security, block, where)
        yield block
