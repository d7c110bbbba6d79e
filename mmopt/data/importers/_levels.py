"""Depth ranks on import: keep price-keyed ``*_level`` rows (checked), or convert rank-keyed ones.

``levels: price`` (the default): a ``*_level`` row is "the size at this price is now q"; a rank in
``level`` must then be the price's rank in the book built from the rows before it, else the rows
are rank-keyed and the import stops, naming the row and the fix (``--levels rank``).
``levels: rank``: a ``*_level`` row is "the level of rank k is now price P, size q" (q = 0: that
rank is empty); the rows are converted into price-keyed updates with explicit removals (see
``mmopt.data._rank_kernels``), so the engine's price-keyed book equals the ranked book.
Both work block by block over a shard's sorted rows, carrying the book from block to block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np

from mmopt.data._rank_kernels import (
    CONVERT_OK,
    RankBook,
    RankedSlots,
    convert_ranked,
    first_rank_mismatch,
)
from mmopt.data._schema import EVENT_DTYPE, KIND_ASK_LEVEL, KIND_BID_LEVEL, KIND_NAMES
from mmopt.errors import DataError

__all__ = ["LevelsMode", "level_blocks"]

LevelsMode = Literal["price", "rank"]
_MAX_DEPTH = 10_000


def _is_level(events: np.ndarray) -> np.ndarray:
    kind = events["kind"]
    return (kind == KIND_BID_LEVEL) | (kind == KIND_ASK_LEVEL)


def level_blocks(
    blocks: Iterable[np.ndarray], mode: LevelsMode, where: str, ranked: bool = True
) -> Iterator[np.ndarray]:
    """The shard's sorted blocks, checked (price) or converted (rank); ``where`` names the shard.

    ``ranked=False`` (no ``*_level`` row of the shard has a rank) skips the price-keyed check.
    """
    if mode == "rank":
        yield from _converted(blocks, where)
    elif ranked:
        yield from _checked(blocks, where)
    else:
        yield from blocks


def _checked(blocks: Iterable[np.ndarray], where: str) -> Iterator[np.ndarray]:
    book = RankBook.empty()
    done = 0
    for block in blocks:
        book = book.with_room(int(_is_level(block).sum()))
        row, book_price = first_rank_mismatch(
            block["kind"], block["price"], block["qty"], block["level"], book
        )
        if row >= 0:
            raise _rank_keyed_error(where, block[row], done + row, book_price)
        done += block.size
        yield block


def _rank_keyed_error(where: str, row: np.void, index: int, book_price: float) -> DataError:
    have = "has no level there" if np.isnan(book_price) else f"has {book_price!r} there"
    return DataError(
        f"{where}: row {index} (ts_ns {int(row['ts_ns'])}): {KIND_NAMES[int(row['kind'])]} "
        f"price {float(row['price'])!r} size {float(row['qty'])!r} says level {int(row['level'])},"
        f" but the book built from the rows before it {have}: the level rows are rank-keyed "
        "('level k is now price P'); fix: import with --levels rank (map key levels: rank) to "
        "convert them into price-keyed updates, or leave the level column unmapped if the "
        "ranks mean nothing"
    )


def _converted(blocks: Iterable[np.ndarray], where: str) -> Iterator[np.ndarray]:
    slots = RankedSlots.empty()
    held: np.ndarray | None = None
    done = 0
    for block in blocks:
        data = block if held is None else np.concatenate([held, block])
        # the rows of the last timestamp may continue in the next block: hold them back
        last = data["ts_ns"][-1]
        cut = int(np.searchsorted(data["ts_ns"], last, side="left"))
        ready, held = data[:cut], data[cut:]
        if ready.size:
            out, slots = _convert_block(ready, slots, where, done)
            done += ready.size
            yield out
    if held is not None and held.size:
        out, slots = _convert_block(held, slots, where, done)
        yield out


def _convert_block(
    data: np.ndarray, slots: RankedSlots, where: str, done: int
) -> tuple[np.ndarray, RankedSlots]:
    is_level = _is_level(data)
    level = data["level"]
    bad = is_level & ((level < 1) | (level > _MAX_DEPTH))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{where}: row {done + i} (ts_ns {int(data['ts_ns'][i])}): a "
            f"{KIND_NAMES[int(data['kind'][i])]} row with level {int(level[i])}; with --levels "
            f"rank every depth row needs its rank 1..{_MAX_DEPTH} (1 = best); fix the level "
            "column, or import with --levels price if the rows are keyed by price"
        )
    if is_level.any():
        slots = slots.with_depth(int(level[is_level].max()))
    rows, status = convert_ranked(
        data["ts_ns"], data["kind"], data["price"], data["qty"], level, slots
    )
    if status != CONVERT_OK:
        raise DataError(
            f"{where}: row {done + status} (ts_ns {int(data['ts_ns'][status])}): after the depth "
            "rows of this time the ranked levels of a side are not sorted best first (bids "
            "falling, asks rising): the rows are not a rank-keyed book; fix the input, or import "
            "with --levels price if the rows are keyed by price"
        )
    out = np.empty(rows.source.size, dtype=EVENT_DTYPE)
    src = data[rows.source]
    out["ts_ns"] = src["ts_ns"]
    out["exch_ts_ns"] = src["exch_ts_ns"]
    out["side"] = src["side"]
    out["is_snapshot"] = src["is_snapshot"]
    out["kind"] = rows.kind
    out["price"] = rows.price
    out["qty"] = rows.qty
    out["level"] = rows.level
    return out, slots
