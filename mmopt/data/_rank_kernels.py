"""numba kernels for depth ranks: check that ranked ``*_level`` rows are price-keyed, and convert
rank-keyed rows ("level k is now price P size q") into price-keyed updates with removals.

Both keep, per side, the levels as a sorted array of keys (ask: price, bid: -price, so rank 1 is
index 0 on both sides) with their sizes, in a ``RankBook`` of plain arrays that a caller carries
from block to block. The check (``first_rank_mismatch``) applies every ``*_level`` row price-keyed
(size 0 removes the price) and, for a row whose ``level`` k > 0, requires its price to be the
book's k-th level: after the row for a size > 0, before it for a removal.

The conversion (``convert_ranked``) keeps the ranked book (``depth`` slots per side). All
``*_level`` rows of one ``ts_ns`` form a batch: each sets its slot (size 0 empties it); at the end
of the batch the new ranked book is compared with the old one by price, and the rows written are
removals (size 0, level 0) of the prices that left it, then, best first, the prices that are new
or whose size changed (level = their new rank), bids before asks. Replayed price-keyed, these
rows give a book equal to the ranked book after every batch, and they pass the check above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = [
    "CONVERT_OK",
    "CONVERT_UNSORTED",
    "RankBook",
    "RankedSlots",
    "convert_ranked",
    "first_rank_mismatch",
]

KIND_BID_LEVEL = 4
KIND_ASK_LEVEL = 5
CONVERT_OK = -1
CONVERT_UNSORTED = -2


@dataclass(frozen=True, slots=True)
class RankBook:
    """A price-keyed book of both sides: sorted keys, sizes and the number of levels per side."""

    keys: np.ndarray  # (2, capacity) float64; row 0 bids (-price), row 1 asks (price)
    sizes: np.ndarray  # (2, capacity) float64
    count: np.ndarray  # (2,) int64

    @classmethod
    def empty(cls, capacity: int = 64) -> RankBook:
        return cls(np.zeros((2, capacity)), np.zeros((2, capacity)), np.zeros(2, np.int64))

    def with_room(self, extra: int) -> RankBook:
        """This book, copied into bigger arrays when ``extra`` more levels might not fit."""
        need = int(self.count.max()) + extra
        if need <= self.keys.shape[1]:
            return self
        cap = max(need, 2 * self.keys.shape[1])
        keys, sizes = np.zeros((2, cap)), np.zeros((2, cap))
        keys[:, : self.keys.shape[1]] = self.keys
        sizes[:, : self.sizes.shape[1]] = self.sizes
        return RankBook(keys, sizes, self.count)


@dataclass(frozen=True, slots=True)
class RankedSlots:
    """A rank-keyed book: ``depth`` slots per side (price NaN = empty slot)."""

    price: np.ndarray  # (2, depth) float64
    size: np.ndarray  # (2, depth) float64

    @classmethod
    def empty(cls, depth: int = 16) -> RankedSlots:
        return cls(np.full((2, depth), np.nan), np.zeros((2, depth)))

    def with_depth(self, depth: int) -> RankedSlots:
        if depth <= self.price.shape[1]:
            return self
        price, size = np.full((2, depth), np.nan), np.zeros((2, depth))
        price[:, : self.price.shape[1]] = self.price
        size[:, : self.size.shape[1]] = self.size
        return RankedSlots(price, size)


@njit(cache=True, nogil=True)
def _find(keys, n, key):  # type: ignore[no-untyped-def]
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _apply(keys, sizes, count, s, key, qty):  # type: ignore[no-untyped-def]
    """Set the size at ``key`` on side ``s`` (0 removes); returns the index it has (or had)."""
    n = count[s]
    i = _find(keys[s], n, key)
    found = i < n and keys[s, i] == key
    if qty > 0:
        if found:
            sizes[s, i] = qty
        else:
            for j in range(n, i, -1):
                keys[s, j] = keys[s, j - 1]
                sizes[s, j] = sizes[s, j - 1]
            keys[s, i] = key
            sizes[s, i] = qty
            count[s] = n + 1
    elif found:
        for j in range(i, n - 1):
            keys[s, j] = keys[s, j + 1]
            sizes[s, j] = sizes[s, j + 1]
        count[s] = n - 1
    return i, found


@njit(cache=True, nogil=True)
def _mismatch(kind, price, qty, level, keys, sizes, count, at):  # type: ignore[no-untyped-def]
    for r in range(kind.shape[0]):
        k = kind[r]
        if k != KIND_BID_LEVEL and k != KIND_ASK_LEVEL:
            continue
        s = 0 if k == KIND_BID_LEVEL else 1
        key = -price[r] if s == 0 else price[r]
        rank = level[r]
        # a removal with a rank: the price must be that level now
        if rank > 0 and not qty[r] > 0 and (rank > count[s] or keys[s, rank - 1] != key):
            at[0] = r
            at[1] = rank
            return
        i, _found = _apply(keys, sizes, count, s, key, qty[r])
        if rank > 0 and qty[r] > 0 and i != rank - 1:
            at[0] = r
            at[1] = rank
            return


def first_rank_mismatch(
    kind: np.ndarray, price: np.ndarray, qty: np.ndarray, level: np.ndarray, book: RankBook
) -> tuple[int, float]:
    """(first row whose rank is not its price's rank in the book or -1, book price at that rank).

    ``book`` is updated in place (it must have room for one more level per row: ``with_room``).
    """
    at = np.full(2, -1, np.int64)
    _mismatch(kind, price, qty, level, book.keys, book.sizes, book.count, at)
    row, rank = int(at[0]), int(at[1])
    if row < 0:
        return -1, float("nan")
    s = 0 if kind[row] == KIND_BID_LEVEL else 1
    if rank > book.count[s]:
        return row, float("nan")
    key = float(book.keys[s, rank - 1])
    return row, (-key if s == 0 else key)


@njit(cache=True, nogil=True)
def _emit(out_i, out_kind, out_price, out_qty, out_level, src, n, kind, price, qty, rank):  # type: ignore[no-untyped-def]
    out_i[n] = src
    out_kind[n] = kind
    out_price[n] = price
    out_qty[n] = qty
    out_level[n] = rank
    return n + 1


@njit(cache=True, nogil=True)
def _flush(old_p, old_q, new_p, new_q, last, out_i, out_kind, out_price, out_qty, out_level, n):  # type: ignore[no-untyped-def]
    depth = new_p.shape[1]
    for s in range(2):  # removals: prices of the old book that are not in the new one
        for a in range(depth):
            p = old_p[s, a]
            if np.isnan(p):
                continue
            gone = True
            for b in range(depth):
                if new_p[s, b] == p:
                    gone = False
                    break
            if gone:
                k = KIND_BID_LEVEL if s == 0 else KIND_ASK_LEVEL
                n = _emit(out_i, out_kind, out_price, out_qty, out_level, last, n, k, p, 0.0, 0)
    for s in range(2):  # updates, best first: new prices and changed sizes, with their rank
        rank = 0
        for b in range(depth):
            p = new_p[s, b]
            if np.isnan(p):
                continue
            rank += 1
            changed = True
            for a in range(depth):
                if old_p[s, a] == p:
                    changed = old_q[s, a] != new_q[s, b]
                    break
            if changed:
                k = KIND_BID_LEVEL if s == 0 else KIND_ASK_LEVEL
                n = _emit(
                    out_i, out_kind, out_price, out_qty, out_level, last, n, k, p, new_q[s, b], rank
                )
    return n


@njit(cache=True, nogil=True)
def _sorted_ok(p):  # type: ignore[no-untyped-def]
    for s in range(2):
        prev = np.nan
        for b in range(p.shape[1]):
            x = p[s, b]
            if np.isnan(x):
                continue
            if not np.isnan(prev) and ((s == 0 and x >= prev) or (s == 1 and x <= prev)):
                return False
            prev = x
    return True


@njit(cache=True, nogil=True)
def _convert(  # type: ignore[no-untyped-def]
    ts,
    kind,
    price,
    qty,
    level,
    slot_p,
    slot_q,
    out_i,
    out_kind,
    out_price,
    out_qty,
    out_level,
    status,
):
    n = 0
    m = ts.shape[0]
    old_p = slot_p.copy()
    old_q = slot_q.copy()
    r = 0
    while r < m:
        k = kind[r]
        if k != KIND_BID_LEVEL and k != KIND_ASK_LEVEL:
            n = _emit(
                out_i, out_kind, out_price, out_qty, out_level, r, n, k, price[r], qty[r], level[r]
            )
            r += 1
            continue
        t = ts[r]
        old_p[:, :] = slot_p
        old_q[:, :] = slot_q
        last = r
        while r < m and ts[r] == t and (kind[r] == KIND_BID_LEVEL or kind[r] == KIND_ASK_LEVEL):
            s = 0 if kind[r] == KIND_BID_LEVEL else 1
            j = level[r] - 1
            if qty[r] > 0:
                slot_p[s, j] = price[r]
                slot_q[s, j] = qty[r]
            else:
                slot_p[s, j] = np.nan
                slot_q[s, j] = 0.0
            last = r
            r += 1
        if not _sorted_ok(slot_p):
            status[0] = CONVERT_UNSORTED
            status[1] = last
            return n
        n = _flush(
            old_p, old_q, slot_p, slot_q, last, out_i, out_kind, out_price, out_qty, out_level, n
        )
    status[0] = CONVERT_OK
    return n


@dataclass(frozen=True, slots=True)
class ConvertedRows:
    """Rows written by the conversion: source row (for time, exch time, flags) and new fields."""

    source: np.ndarray
    kind: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    level: np.ndarray


def convert_ranked(
    ts: np.ndarray,
    kind: np.ndarray,
    price: np.ndarray,
    qty: np.ndarray,
    level: np.ndarray,
    slots: RankedSlots,
) -> tuple[ConvertedRows, int]:
    """Rank-keyed rows -> price-keyed rows; ``slots`` is updated in place.

    Every ``*_level`` row needs ``1 <= level <= slots depth`` (checked by the caller). Returns the
    rows and ``CONVERT_OK``, or (rows so far, index of the last row of a batch after which a side's
    levels are not sorted best first).
    """
    cap = 2 * ts.shape[0] + 4 * slots.price.shape[1] + 8
    out_i = np.empty(cap, np.int64)
    out_kind = np.empty(cap, np.int8)
    out_price = np.empty(cap, np.float64)
    out_qty = np.empty(cap, np.float64)
    out_level = np.empty(cap, np.int32)
    status = np.zeros(2, np.int64)
    n = _convert(
        ts, kind, price, qty, level, slots.price, slots.size,
        out_i, out_kind, out_price, out_qty, out_level, status,
    )  # fmt: skip
    rows = ConvertedRows(out_i[:n], out_kind[:n], out_price[:n], out_qty[:n], out_level[:n])
    return rows, (CONVERT_OK if status[0] == CONVERT_OK else int(status[1]))
