"""Read and validate one LOBSTER message/orderbook pair in chunks of lines (whole columns per
chunk, errors name the file and line), so files of any length stream in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mmopt.errors import DataError

__all__ = [
    "CHUNK_LINES",
    "DUMMY_PRICE",
    "MESSAGE_COLUMNS",
    "PairChunk",
    "book_column_names",
    "iter_pair",
]

MESSAGE_COLUMNS = ("Time", "Type", "Order ID", "Size", "Price", "Direction")
DUMMY_PRICE = 9_999_999_999
CHUNK_LINES = 250_000
_FIX_NUMBERS = "LOBSTER files hold numbers only, with no header line; fix or regenerate the file"


def book_column_names(levels: int) -> list[str]:
    return [
        f"{name} {k}"
        for k in range(1, levels + 1)
        for name in ("Ask Price", "Ask Size", "Bid Price", "Bid Size")
    ]


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _numbers(path: Path, names: list[str], what: str, chunk_lines: int) -> Iterator[np.ndarray]:
    """The file as float64 matrices of ``chunk_lines`` lines with ``len(names)`` numbers each."""
    start = 0
    try:
        with pd.read_csv(path, header=None, dtype=np.float64, chunksize=chunk_lines) as reader:
            for frame in reader:
                out = frame.to_numpy(np.float64)
                if frame.shape[1] != len(names) or not np.isfinite(out).all():
                    _locate(path, names, what, start, len(frame))
                yield out
                start += len(frame)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the {what} file is empty; re-export it from LOBSTER") from None
    except ValueError:  # a cell that is not a number: find it for the message
        _locate(path, names, what, start, chunk_lines)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the {what} file ({exc}); re-export it") from None


def _locate(path: Path, names: list[str], what: str, start: int, lines: int) -> None:
    """Raise the error of the first bad cell among ``lines`` lines from line ``start`` (0-based)."""
    text = pd.read_csv(
        path, header=None, dtype=str, keep_default_na=False, skiprows=start, nrows=lines
    )
    if text.shape[1] != len(names):
        raise DataError(
            f"{path}: {text.shape[1]} columns, expected {len(names)} for a {what} file "
            f"({', '.join(names[:6])}{', ...' if len(names) > 6 else ''}); check the LEVELS "
            "number in the file name and that the file is a LOBSTER file"
        )
    for j, name in enumerate(names):
        raw = text.iloc[:, j]
        values = pd.to_numeric(raw.str.strip(), errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            i = _first(bad)
            raise DataError(
                f"{path}: line {start + i + 1}, column {name}: {raw.iloc[i]!r} is not a number; "
                f"{_FIX_NUMBERS}"
            )
    raise DataError(f"{path}: cannot read the {what} file as numbers; {_FIX_NUMBERS}")


def _check_messages(path: Path, msg: np.ndarray, first: int, prev_time: float) -> None:
    def fail(mask: np.ndarray, column: str, problem: str, fix: str) -> None:
        if mask.any():
            i = _first(mask)
            j = MESSAGE_COLUMNS.index(column)
            raise DataError(
                f"{path}: line {first + i + 1}, column {column}: {msg[i, j]:g} {problem}; {fix}"
            )

    time, kind, size, price, direction = msg[:, 0], msg[:, 1], msg[:, 3], msg[:, 4], msg[:, 5]
    fail(
        (time < 0) | (time > 2 * 86_400),
        "Time",
        "is not seconds after midnight",
        "LOBSTER times are seconds after midnight",
    )
    fail(
        np.concatenate([[time[0] < prev_time], time[1:] < time[:-1]]),
        "Time",
        "is earlier than the line before",
        "messages must be in time order; re-export the file",
    )
    fail(
        ~np.isin(kind, (1, 2, 3, 4, 5, 6, 7)),
        "Type",
        "is not an event type",
        "LOBSTER types are 1-7",
    )
    fail(
        (size < 0) | (size != np.rint(size)),
        "Size",
        "is not a whole number of shares >= 0",
        "fix the size",
    )
    trading = kind <= 6
    fail(trading & (price <= 0), "Price", "is not a positive price", "fix the price")
    fail(
        (kind <= 5) & ~np.isin(direction, (-1, 1)),
        "Direction",
        "is not -1 or 1",
        "Direction is -1 (sell limit order) or 1 (buy limit order)",
    )


def _check_book(path: Path, book: np.ndarray, levels: int, first: int) -> None:
    names = book_column_names(levels)

    def fail(i: int, j: int, problem: str) -> None:
        raise DataError(
            f"{path}: line {first + i + 1}, column {names[j]}: {book[i, j]:g} {problem}"
        )

    sizes = book[:, 1::2]
    if (sizes < 0).any():
        i, j = np.argwhere(sizes < 0)[0]
        fail(int(i), int(2 * j + 1), "is a negative size; fix the row")
    for offset, ascending in ((0, True), (2, False)):
        price = book[:, offset::4]
        valid = (book[:, offset + 1 :: 4] > 0) & (np.abs(price) < DUMMY_PRICE)
        if (valid & (price <= 0)).any():
            i, k = np.argwhere(valid & (price <= 0))[0]
            fail(
                int(i),
                int(4 * k + offset),
                "is not a positive price on a non-empty level; "
                f"empty levels use the dummy price {'' if ascending else '-'}{DUMMY_PRICE}",
            )
        if levels > 1:
            step = price[:, 1:] - price[:, :-1]
            wrong = valid[:, 1:] & valid[:, :-1] & ((step <= 0) if ascending else (step >= 0))
            if wrong.any():
                i, k = np.argwhere(wrong)[0]
                order = "above" if ascending else "below"
                fail(
                    int(i),
                    int(4 * (k + 1) + offset),
                    f"is not strictly {order} the level before; levels must be sorted from "
                    "the best price outwards",
                )


@dataclass(frozen=True, slots=True)
class PairChunk:
    """Consecutive lines of a message file and its orderbook file, checked."""

    first_line: int  # 0-based index of the chunk's first line in both files
    msg: np.ndarray
    book: np.ndarray


def iter_pair(
    message: Path,
    orderbook: Path,
    levels: int,
    expected_levels: int,
    chunk_lines: int | None = None,
) -> Iterator[PairChunk]:
    """The message and orderbook matrices (float64, integral except Time) in checked chunks."""
    if levels != expected_levels:
        raise DataError(
            f"{message}: {levels} levels, but another file of the same ticker and day has "
            f"{expected_levels}; import files with the same number of levels together"
        )
    lines = chunk_lines or CHUNK_LINES
    msgs = _numbers(message, list(MESSAGE_COLUMNS), "message", lines)
    books = _numbers(orderbook, book_column_names(levels), "orderbook", lines)
    first, prev_time = 0, -np.inf
    for msg in msgs:
        book = next(books, None)
        if book is None or len(book) != len(msg):
            n_msg = first + len(msg) + sum(len(m) for m in msgs)
            n_book = first + (0 if book is None else len(book)) + sum(len(b) for b in books)
            _raise_lengths(message, orderbook, n_msg, n_book)
        assert book is not None
        _check_messages(message, msg, first, prev_time)
        _check_book(orderbook, book, levels, first)
        yield PairChunk(first, msg, book)
        first += len(msg)
        prev_time = float(msg[-1, 0])
    rest = sum(len(b) for b in books)
    if rest:
        _raise_lengths(message, orderbook, first, first + rest)


def _raise_lengths(message: Path, orderbook: Path, n_msg: int, n_book: int) -> None:
    raise DataError(
        f"{message} has {n_msg} lines but {orderbook} has {n_book}; each message "
        "line needs its orderbook line: re-export the pair"
    )
