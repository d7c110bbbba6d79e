"""Order latency models: the recorded latency file, the feed latency, the kernel's series.

The kernel reads one int64 table ``(n, 4)`` per backtest (``LT_*`` columns): for the ``data``
model, the rows of the recorded file (entry latency interpolated over request times, response
latency over exchange times, as hftbacktest's interpolated order latency); for the ``feed``
model, one row per market row with an exchange time (entry latency = offset + mult x the feed
latency of the latest such row by local time, response latency the same by exchange time).
The (LT_REQ, LT_ENTRY) and (LT_EXCH, LT_RESP) column pairs are two series, each sorted by
time. The ``constant`` and ``random`` models use no table.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mmopt.errors import ConfigError, DataError

__all__ = [
    "LATENCY_COLUMNS",
    "LT_ENTRY",
    "LT_EXCH",
    "LT_REQ",
    "LT_RESP",
    "LatencyTable",
    "feed_latency",
    "kernel_latency_table",
    "read_latency_file",
]

LATENCY_COLUMNS = ("req_ts_ns", "exch_ts_ns", "resp_ts_ns")
# hftbacktest's latency .npz field names, accepted as well
_NPZ_COLUMNS = ("req_ts", "exch_ts", "resp_ts")
LT_REQ = 0  # request (local send) time of the row
LT_ENTRY = 1  # entry latency at that time (ns)
LT_EXCH = 2  # exchange time of the row
LT_RESP = 3  # response latency at that time (ns)
LT_N = 4
_HELP = (
    "a recorded order latency file is CSV or Parquet with integer columns req_ts_ns, "
    "exch_ts_ns, resp_ts_ns (ns since the epoch: request sent, reached the exchange, response "
    "received), one row per order, sorted by req_ts_ns"
)


@dataclass(frozen=True, slots=True, eq=False)
class LatencyTable:
    """A validated recorded latency file (read-only int64 columns, sorted by request time)."""

    path: str
    req_ts: np.ndarray
    exch_ts: np.ndarray
    resp_ts: np.ndarray

    def __len__(self) -> int:
        return int(self.req_ts.shape[0])


def read_latency_file(path: str | Path) -> LatencyTable:
    """Read and validate a recorded latency file; DataError naming the file, row and fix."""
    p = Path(path).expanduser()
    try:
        stat = os.stat(p)
    except OSError:
        raise ConfigError(
            f"engine.latency_file: {str(p)!r} does not exist or cannot be read; {_HELP}"
        ) from None
    return _read_cached(str(p.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, _size: int, _mtime: int) -> LatencyTable:
    columns = _read_columns(path)
    req, exch, resp = columns
    if req.shape[0] == 0:
        raise DataError(f"{path}: the latency file has no rows; {_HELP}")
    _check_sorted(req, path, "req_ts_ns")
    _check_sorted(exch, path, "exch_ts_ns")
    _check_non_negative(exch - req, path, "entry latency exch_ts_ns - req_ts_ns")
    _check_non_negative(resp - exch, path, "response latency resp_ts_ns - exch_ts_ns")
    for arr in columns:
        arr.flags.writeable = False
    return LatencyTable(path=path, req_ts=req, exch_ts=exch, resp_ts=resp)


def _read_columns(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path) as npz:
                data = npz[npz.files[0]]
            names = _NPZ_COLUMNS if _NPZ_COLUMNS[0] in (data.dtype.names or ()) else LATENCY_COLUMNS
            return tuple(_as_int(np.asarray(data[n]), path, n) for n in names)  # type: ignore[return-value]
        table = pq.read_table(path) if suffix == ".parquet" else pacsv.read_csv(path)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise DataError(f"{path}: cannot read the latency file ({exc}); {_HELP}") from None
    missing = [c for c in LATENCY_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; {_HELP}")
    out = []
    for name in LATENCY_COLUMNS:
        col = table.column(name)
        if col.null_count:
            row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise DataError(f"{path}: row {row}: column {name} is empty; {_HELP}")
        out.append(_as_int(col.to_numpy(), path, name))
    return out[0], out[1], out[2]


def _as_int(values: np.ndarray, path: str, name: str) -> np.ndarray:
    if values.dtype.kind in "iu":
        return np.ascontiguousarray(values, dtype=np.int64)
    if values.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if bad.shape[0] == 0:
            return np.ascontiguousarray(values, dtype=np.int64)
        raise DataError(
            f"{path}: row {int(bad[0])}: column {name} = {values[bad[0]]!r} is not an integer "
            f"number of ns; {_HELP}"
        )
    raise DataError(f"{path}: column {name} is not numeric ({values.dtype}); {_HELP}")


def _check_sorted(values: np.ndarray, path: str, name: str) -> None:
    bad = np.flatnonzero(np.diff(values) < 0)
    if bad.shape[0]:
        row = int(bad[0]) + 1
        raise DataError(
            f"{path}: row {row}: {name} {int(values[row])} is earlier than row {row - 1}'s "
            f"{int(values[row - 1])}: the latency file is out of order; sort it by req_ts_ns "
            "(each order's exchange time must not precede an earlier request's)"
        )


def _check_non_negative(values: np.ndarray, path: str, what: str) -> None:
    bad = np.flatnonzero(values < 0)
    if bad.shape[0]:
        row = int(bad[0])
        raise DataError(
            f"{path}: row {row}: negative {what} ({int(values[row])} ns); a latency cannot "
            "be negative: fix the clocks of that row or drop it"
        )


def feed_latency(
    ts: np.ndarray, exch_ts: np.ndarray | None, shift_ns: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local times, exchange times, feed latencies) in ns of the rows with an exchange time.

    Local times are ``ts + shift_ns`` (the clock-offset correction of the two clocks, see
    mmopt.engine.clock); the feed latency is local minus exchange time. With ``shift_ns``
    None, a negative smallest raw difference (a capture clock running behind the exchange's)
    is shifted to 0 and a non-negative one kept (hftbacktest's ``correct_local_timestamp``
    with a base of 0); the jitter is kept either way.
    """
    empty = np.zeros(0, dtype=np.int64)
    if exch_ts is None:
        return empty, empty, empty
    has = exch_ts >= 0
    local = np.ascontiguousarray(ts[has], dtype=np.int64)
    exch = np.ascontiguousarray(exch_ts[has], dtype=np.int64)
    if shift_ns is None:
        low = int((local - exch).min()) if local.shape[0] else 0
        shift_ns = -low if low < 0 else 0
    local = local + shift_ns
    return local, exch, local - exch


def kernel_latency_table(
    model: str,
    entry_ns: int,
    response_ns: int,
    *,
    latency_file: str | None = None,
    mult: float = 1.0,
    ts: np.ndarray | None = None,
    exch_ts: np.ndarray | None = None,
    shift_ns: int | None = None,
    security: str = "",
) -> np.ndarray:
    """The kernel's ``(n, 4)`` int64 latency table for ``model`` (one unused row when none)."""
    if model == "data":
        if latency_file is None:
            raise ConfigError("engine.latency_file: latency_model=data needs a latency file")
        table = read_latency_file(latency_file)
        out = np.empty((len(table), LT_N), dtype=np.int64)
        out[:, LT_REQ] = table.req_ts
        out[:, LT_ENTRY] = table.exch_ts - table.req_ts
        out[:, LT_EXCH] = table.exch_ts
        out[:, LT_RESP] = table.resp_ts - table.exch_ts
        return out
    if model == "feed":
        local, exch, feed = feed_latency(
            ts if ts is not None else np.zeros(0, np.int64), exch_ts, shift_ns)
        if local.shape[0] == 0:
            raise DataError(
                f"{security}: latency_model=feed needs exchange times (exch_ts_ns) and this "
                "shard has none; use latency_model=constant or random for it"
            )
        scaled = np.round(feed * mult).astype(np.int64)
        by_exch = np.argsort(exch, kind="stable")  # the response series is keyed by exchange time
        out = np.empty((local.shape[0], LT_N), dtype=np.int64)
        out[:, LT_REQ] = local
        out[:, LT_ENTRY] = entry_ns + scaled
        out[:, LT_EXCH] = exch[by_exch]
        out[:, LT_RESP] = response_ns + scaled[by_exch]
        return out
    return np.zeros((1, LT_N), dtype=np.int64)
