"""Timestamps of tabular files -> UTC nanoseconds, whole columns at a time, exact for epochs.

Formats: ``s`` / ``ms`` / ``us`` / ``ns`` since the Unix epoch (decimal strings parsed exactly,
no float rounding), ``iso`` (ISO 8601; an offset in the text wins over the time zone), a strftime
pattern (``%Y-%m-%d %H:%M:%S.%f``; a pattern without a date, such as ``%H:%M:%S.%f``, is joined to
the date option or date column), or ``auto``: numbers are epochs whose unit follows from their
size (< 1e11 s, < 1e14 ms, < 1e17 us, else ns), text is ISO 8601.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mmopt.data.importers._common import local_naive_to_utc_ns
from mmopt.errors import DataError

__all__ = ["looks_numeric", "parse_times", "pattern_has_date", "unit_for"]

_DIGITS = {"s": 9, "ms": 6, "us": 3, "ns": 0}
_DATE_DIRECTIVES = ("%Y", "%y", "%m", "%d", "%j", "%b", "%B", "%F", "%D", "%c", "%x", "%s")
_FIX = "pass the right --time-format (auto, iso, s, ms, us, ns or a strftime pattern)"


def pattern_has_date(pattern: str) -> bool:
    return any(d in pattern for d in _DATE_DIRECTIVES)


def _fail(where: Callable[[int], str], column: str, i: int, value: object, what: str) -> None:
    value = value.item() if isinstance(value, np.generic) else value
    raise DataError(f"{where(i)}, column {column}: {value!r} is not {what}; {_FIX}")


def unit_for(magnitude: float) -> str:
    for unit, limit in (("s", 1e11), ("ms", 1e14), ("us", 1e17)):
        if magnitude < limit:
            return unit
    return "ns"


def _epoch_text(
    text: pd.Series, unit: str | None, where: Callable[[int], str], column: str
) -> np.ndarray:
    stripped = text.str.strip()
    ok = stripped.str.fullmatch(r"\d{1,19}(\.\d*)?").fillna(False).to_numpy(bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        _fail(where, column, i, text.iloc[i], f"a non-negative epoch time in {unit or 'auto'}")
    parts = stripped.str.partition(".")
    whole = parts[0].astype(np.int64).to_numpy(np.int64)
    if unit is None:
        unit = unit_for(float(whole[0]) if whole.size else 0.0)
    digits = _DIGITS[unit]
    scale = 10**digits
    if whole.size and whole.max() > np.iinfo(np.int64).max // scale:
        i = int(np.argmax(whole))
        _fail(where, column, i, text.iloc[i], f"an epoch time in {unit} before year 2262")
    if digits == 0:
        return whole
    frac = parts[2].str.slice(0, digits).str.pad(digits, side="right", fillchar="0")
    return whole * scale + frac.astype(np.int64).to_numpy(np.int64)


def _epoch_numbers(
    values: pd.Series, unit: str | None, where: Callable[[int], str], column: str
) -> np.ndarray:
    arr = values.to_numpy()
    bad = ~np.isfinite(arr.astype(np.float64)) | (arr < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _fail(where, column, i, arr[i], "a non-negative epoch time")
    if unit is None:
        unit = unit_for(float(arr[0]) if arr.size else 0.0)
    scale = 10 ** _DIGITS[unit]
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64) * scale
    return np.rint(arr.astype(np.float64) * scale).astype(np.int64)


def _datetimes(
    parsed: pd.Series, raw: pd.Series, tz: str, where: Callable[[int], str], column: str, what: str
) -> np.ndarray:
    missing = parsed.isna().to_numpy(bool)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        _fail(where, column, i, raw.iloc[i], what)
    if getattr(parsed.dt, "tz", None) is not None:
        return np.asarray(parsed.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64"))
    naive = np.asarray(parsed.dt.as_unit("ns").astype("int64"))
    return local_naive_to_utc_ns(naive, tz, where)


def parse_times(
    values: pd.Series,
    fmt: str,
    tz: str,
    where: Callable[[int], str],
    column: str,
    dates: pd.Series | None = None,
) -> np.ndarray:
    """UTC ns since the epoch for every value; ``where(i)`` names the file and row ``i``."""
    values = values.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _datetimes(values, values, tz, where, column, "a time")
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )
    if fmt in _DIGITS or fmt == "auto":
        unit = None if fmt == "auto" else fmt
        if numeric:
            return _epoch_numbers(values, unit, where, column)
        text = values.astype("string")
        if fmt != "auto" or (len(text) and looks_numeric(text.iloc[0])):
            return _epoch_text(text, unit, where, column)
        fmt = "iso"
    text = values.astype("string").str.strip()
    if fmt == "iso":
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        return _datetimes(parsed, values, tz, where, column, "an ISO 8601 time")
    pattern = fmt
    if not pattern_has_date(pattern):
        if dates is None:
            raise DataError(
                f"{where(0)}, column {column}: time format {pattern!r} has no date; pass --date "
                "YYYY-MM-DD or map a date column (--col date=<column>)"
            )
        text = dates.reset_index(drop=True).astype("string").str.strip() + " " + text
        pattern = "%Y-%m-%d " + pattern
    parsed = pd.to_datetime(text, format=pattern, errors="coerce")
    return _datetimes(parsed, values, tz, where, column, f"a time in the format {fmt!r}")


def looks_numeric(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True
