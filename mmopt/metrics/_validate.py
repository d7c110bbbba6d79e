"""Checks on the engine's outputs and the metric settings, before any metric is computed.

Every failure raises ``DataError`` (bad arrays) or ``ConfigError`` (bad settings) naming the
array, field or row and how to fix it.
"""

from __future__ import annotations

import math

import numpy as np

from mmopt.engine._records import EQUITY_DTYPE, FILL_DTYPE
from mmopt.errors import ConfigError, DataError

__all__ = [
    "check_equity",
    "check_fills",
    "check_interval_s",
    "check_max_position",
    "check_quoted_half_spread",
]


def _check_fields(arr: np.ndarray, dtype: np.dtype, what: str, dtype_name: str) -> None:
    if not isinstance(arr, np.ndarray) or arr.dtype.names is None:
        raise DataError(
            f"{what}: expected a numpy structured array of mmopt.engine._records.{dtype_name}, "
            f"got {type(arr).__name__}; pass the engine's {what} records unchanged"
        )
    if arr.ndim != 1:
        raise DataError(f"{what}: expected a 1-D array, got shape {arr.shape}; pass it flat")
    assert dtype.names is not None
    missing = [name for name in dtype.names if name not in arr.dtype.names]
    if missing:
        raise DataError(
            f"{what}: missing field(s) {', '.join(missing)}; build the array with "
            f"mmopt.engine._records.{dtype_name}"
        )


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_equity(equity: np.ndarray) -> None:
    """The equity series: non-empty, time non-decreasing, finite equity/position/fees."""
    _check_fields(equity, EQUITY_DTYPE, "equity", "EQUITY_DTYPE")
    if equity.shape[0] == 0:
        raise DataError(
            "equity: the series is empty; the engine must emit at least the initial and the "
            "final state"
        )
    ts = equity["ts_ns"]
    if equity.shape[0] > 1 and np.any(np.diff(ts) < 0):
        row = _first_bad(np.diff(ts) < 0) + 1
        raise DataError(
            f"equity: ts_ns decreases at row {row} ({ts[row - 1]} -> {ts[row]}); "
            "sort the equity series by time"
        )
    for field in ("equity", "position", "cash", "fees"):
        bad = ~np.isfinite(equity[field])
        if np.any(bad):
            row = _first_bad(bad)
            raise DataError(
                f"equity: field {field!r} is not finite at row {row} ({equity[field][row]}); "
                "carry the last valid mid forward when a book side is empty"
            )


def check_fills(fills: np.ndarray, equity: np.ndarray) -> None:
    """Fills: sorted, sensible values, inside the equity span, positions that add up."""
    _check_fields(fills, FILL_DTYPE, "fills", "FILL_DTYPE")
    if fills.shape[0] == 0:
        return
    ts = fills["ts_ns"]
    if np.any(np.diff(ts) < 0):
        row = _first_bad(np.diff(ts) < 0) + 1
        raise DataError(f"fills: ts_ns decreases at row {row}; keep fills in exchange order")
    checks = (
        (~(np.isfinite(fills["qty"]) & (fills["qty"] > 0)), "qty", "must be finite and > 0"),
        (~(np.isfinite(fills["price"]) & (fills["price"] > 0)), "price", "must be finite and > 0"),
        (~np.isfinite(fills["fee"]), "fee", "must be finite (rebates are negative fees)"),
        (~np.isfinite(fills["position_after"]), "position_after", "must be finite"),
        ((fills["side"] != 1) & (fills["side"] != -1), "side", "must be +1 (buy) or -1 (sell)"),
    )
    for bad, field, rule in checks:
        if np.any(bad):
            row = _first_bad(bad)
            raise DataError(f"fills: {field} {rule}; row {row} has {fills[field][row]}")
    t0, t1 = int(equity["ts_ns"][0]), int(equity["ts_ns"][-1])
    outside = (ts < t0) | (ts > t1)
    if np.any(outside):
        row = _first_bad(outside)
        raise DataError(
            f"fills: row {row} at ts_ns {ts[row]} lies outside the equity series "
            f"[{t0}, {t1}]; the equity series must cover every fill (initial and final state)"
        )
    _check_positions(fills)


def _check_positions(fills: np.ndarray) -> None:
    signed = fills["side"].astype(np.float64) * fills["qty"]
    pos = fills["position_after"]
    step = np.diff(pos)
    tol = 1e-9 * max(1.0, float(np.max(np.abs(pos))), float(np.max(fills["qty"])))
    bad = np.abs(step - signed[1:]) > tol
    if np.any(bad):
        row = _first_bad(bad) + 1
        raise DataError(
            f"fills: position_after at row {row} ({pos[row]}) is not position_after at row "
            f"{row - 1} ({pos[row - 1]}) plus side*qty ({signed[row]}); fills must be the "
            "complete, ordered list of our fills"
        )


def check_max_position(max_position: float) -> None:
    if not (isinstance(max_position, int | float) and math.isfinite(max_position)):
        raise ConfigError(f"max_position must be a finite number, got {max_position!r}")
    if max_position <= 0:
        raise ConfigError(
            f"max_position must be > 0 (the strategy's position limit), got {max_position}"
        )


def check_interval_s(interval_s: float) -> None:
    if not (isinstance(interval_s, int | float) and math.isfinite(interval_s)):
        raise ConfigError(f"metrics interval_s must be a finite number, got {interval_s!r}")
    if interval_s <= 0 or interval_s * 1e9 < 1:
        raise ConfigError(
            f"metrics interval_s must be at least 1 ns (e.g. 60 for one minute), got {interval_s}"
        )


def check_quoted_half_spread(quoted: np.ndarray | None, n_fills: int) -> np.ndarray:
    """Return the quoted half spreads as float64 (all NaN when not given).

    Signed: (mid when the order was placed - its price) x side, so a quote through the mid
    (possible on a crossed or locked book) is negative; it still counts in spread captured.
    """
    if quoted is None:
        return np.full(n_fills, np.nan)
    arr = np.asarray(quoted, dtype=np.float64)
    if arr.shape != (n_fills,):
        raise DataError(
            f"quoted_half_spread: shape {arr.shape} does not match the {n_fills} fills; give "
            "one value per fill (NaN where unknown)"
        )
    bad = np.isinf(arr)
    if np.any(bad):
        row = _first_bad(bad)
        raise DataError(
            f"quoted_half_spread: row {row} is infinite; give (reference mid - quote price) "
            "x side in price units (negative when the quote sat through the mid), NaN where "
            "unknown"
        )
    return arr
