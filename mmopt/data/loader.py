"""Load one shard into one numpy structured array of ``EVENT_DTYPE``, validated first.

Strings become int8 codes through the Parquet dictionary (the small dictionary is looked up, not
the rows), nulls become the absent markers (level 0, exch_ts_ns -1, side 0), every file of the
shard is validated on its own (so errors name the file and its row) and the files are merged
with a stable sort by ``ts_ns``. No per-row Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from mmopt.data._schema import (
    KIND_CODES,
    NO_EXCH_TS,
    NO_LEVEL,
    PARQUET_COLUMNS,
    SIDE_CODES,
    SIDE_NONE,
    Instrument,
)
from mmopt.data.catalog import ShardCatalog, ShardRef, open_catalog, open_filesystem
from mmopt.data.instruments import infer_instrument, read_instruments, warn_inferred
from mmopt.data.validate import EventColumns, check_schema, raise_row, validate_columns
from mmopt.errors import DataError

__all__ = ["ShardData", "check_shard_readable", "load_events", "load_shard", "load_shard_head",
           "load_shards", "read_event_file"]

_BAD_CODE = 127  # int8 marker of a string outside the known values


@dataclass(frozen=True, slots=True)
class ShardData:
    """One loaded shard: its reference, its events (read-only, sorted by ts_ns), its instrument."""

    ref: ShardRef
    events: np.ndarray
    instrument: Instrument

    @property
    def security(self) -> str:
        return self.ref.security

    @property
    def date(self) -> str:
        return self.ref.date

    def __len__(self) -> int:
        return int(self.events.shape[0])


def load_shard(ref: ShardRef, instrument: Instrument | None = None) -> ShardData:
    """Read, convert and validate every file of ``ref``; DataError before returning anything.

    ``instrument`` defaults to the row of ``ROOT/instruments.csv``; without one, tick and lot
    size are inferred from the data (with a warning once per root or security).
    """
    fs, _ = open_filesystem(ref.root)
    if instrument is None:
        table = read_instruments(ref.root)
        instrument = None if table is None else table.get(ref.security)
        if instrument is None:
            warn_inferred(ref.root, ref.security, file_missing=table is None)
    tick = None if instrument is None or instrument.inferred else instrument.tick_size
    parts = [read_event_file(fs, path, tick) for path in ref.files]
    if not parts:
        raise DataError(f"{ref.root}: shard {ref.key} has no files; re-list the catalog")
    events = _merge(parts)
    if instrument is None:
        instrument = infer_instrument(ref.security, events["price"], events["qty"])
    events.flags.writeable = False
    return ShardData(ref=ref, events=events, instrument=instrument)


def load_shard_head(ref: ShardRef, n_events: int) -> ShardData:
    """The first ``n_events`` rows of the first file of ``ref`` (validated, instrument as in
    ``load_shard``): a small sample of the shard read without reading the whole of it."""
    if not ref.files:
        raise DataError(f"{ref.root}: shard {ref.key} has no files; re-list the catalog")
    fs, _ = open_filesystem(ref.root)
    table = read_instruments(ref.root)
    instrument = None if table is None else table.get(ref.security)
    tick = None if instrument is None or instrument.inferred else instrument.tick_size
    path = ref.files[0]
    cols = _convert(_read_table(fs, path, head=n_events), path)
    validate_columns(cols, path, tick)
    events = cols.to_events()
    if instrument is None:
        instrument = infer_instrument(ref.security, events["price"], events["qty"])
    events.flags.writeable = False
    return ShardData(ref=ref, events=events, instrument=instrument)


def check_shard_readable(ref: ShardRef) -> None:
    """DataError naming the file unless this process can open and read the shard's files."""
    fs, _ = open_filesystem(ref.root)
    for path in ref.files:
        try:
            with fs.open_input_file(path) as fh:
                fh.read(4)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(
                f"{path}: cannot read this shard file of the data root {ref.root} ({exc}); "
                "fix: make the data root reachable from every worker (the same path on every "
                "node, or a shared pyarrow.fs URI such as s3:// or gs://) with read access"
            ) from None


def load_shards(catalog: ShardCatalog) -> tuple[ShardData, ...]:
    """Every shard of a catalog, in (security, date) order."""
    return tuple(load_shard(ref) for ref in catalog)


def load_events(root: str | Path, security: str, date: str | dt.date) -> ShardData:
    """Shortcut: the shard of one security and day under ``root``."""
    return load_shard(open_catalog(root).get(security, date))


def read_event_file(fs: pafs.FileSystem, path: str, tick_size: float | None) -> np.ndarray:
    """One Parquet file as a validated ``EVENT_DTYPE`` array (in file order)."""
    table = _read_table(fs, path)
    cols = _convert(table, path)
    validate_columns(cols, path, tick_size)
    return cols.to_events()


def _merge(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]  # validated non-decreasing already
    events = np.concatenate(parts)
    ts = events["ts_ns"]
    if np.any(ts[1:] < ts[:-1]):
        events = events[np.argsort(ts, kind="stable")]
    return events


def _read_table(fs: pafs.FileSystem, path: str, head: int | None = None) -> pa.Table:
    """The file's columns (only its first ``head`` rows when given)."""
    try:
        with fs.open_input_file(path) as fh:
            meta = pq.ParquetFile(fh).metadata
            check_schema(meta.schema.to_arrow_schema(), path)
            # strings come back dictionary-encoded: kinds are looked up once per dictionary
            pf = pq.ParquetFile(fh, metadata=meta, read_dictionary=["kind", "side"])
            if head is None:
                return pf.read(columns=list(PARQUET_COLUMNS))
            batches = pf.iter_batches(batch_size=head, columns=list(PARQUET_COLUMNS))
            first = next(batches, None)
            if first is None:
                return pf.schema_arrow.empty_table().select(list(PARQUET_COLUMNS))
            return pa.Table.from_batches([first])
    except DataError:
        raise
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path}: unreadable or truncated Parquet file ({exc}); fix: re-write or "
            "re-download it, or delete it"
        ) from exc


def _convert(table: pa.Table, path: str) -> EventColumns:
    n = table.num_rows
    ts = table.column("ts_ns")
    if ts.null_count:
        _fail_null(ts, path, "ts_ns", "every row needs a receive time")
    kind = _encode(table.column("kind"), KIND_CODES, n)
    _fail_unknown(kind, table.column("kind"), path, "kind", tuple(KIND_CODES))
    side = _encode(table.column("side"), SIDE_CODES, n, null_code=SIDE_NONE)
    _fail_unknown(side, table.column("side"), path, "side", tuple(SIDE_CODES))
    return EventColumns(
        ts_ns=_ints(ts, np.int64, 0),
        exch_ts_ns=_ints(table.column("exch_ts_ns"), np.int64, NO_EXCH_TS),
        price=_floats(table.column("price")),
        qty=_floats(table.column("qty")),
        level=_ints(table.column("level"), np.int32, NO_LEVEL),
        kind=kind,
        side=side,
        is_snapshot=_bools(table.column("is_snapshot")),
    )


def _ints(col: pa.ChunkedArray, dtype: type[np.integer], null: int) -> np.ndarray:
    if pa.types.is_null(col.type):
        return np.full(len(col), null, dtype=dtype)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    if col.null_count:
        col = pc.fill_null(col, null)
    return np.ascontiguousarray(col.to_numpy(), dtype=dtype)


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    if col.null_count:
        col = pc.fill_null(col.cast(pa.float64()), float("nan"))
    return np.ascontiguousarray(col.to_numpy(), dtype=np.float64)


def _bools(col: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_null(col.type):
        return np.zeros(len(col), dtype=np.bool_)
    if col.null_count:
        col = pc.fill_null(col, False)
    return np.ascontiguousarray(col.to_numpy(), dtype=np.bool_)


def _encode(
    col: pa.ChunkedArray, codes: dict[str, int], n: int, null_code: int = _BAD_CODE
) -> np.ndarray:
    """String (or dictionary) column -> int8 codes; unknown strings -> _BAD_CODE."""
    out = np.empty(n, dtype=np.int8)
    if pa.types.is_null(col.type):
        out[:] = null_code
        return out
    value_set = pa.array(list(codes), pa.string())
    code_of = np.array([*codes.values(), _BAD_CODE], dtype=np.int8)  # index -1 -> bad
    pos = 0
    for chunk in col.chunks:
        m = len(chunk)
        if pa.types.is_dictionary(chunk.type):
            lut = code_of[_index_in(chunk.dictionary.cast(pa.string()), value_set)]
            idx = chunk.indices
            if idx.null_count:
                idx = pc.fill_null(idx, 0)
            piece = lut[idx.to_numpy()] if len(lut) else np.full(m, _BAD_CODE, np.int8)
        else:
            piece = code_of[_index_in(chunk.cast(pa.string()), value_set)]
        if chunk.null_count:
            piece = np.where(chunk.is_null().to_numpy(zero_copy_only=False), null_code, piece)
        out[pos : pos + m] = piece
        pos += m
    return out


def _index_in(values: pa.Array, value_set: pa.Array) -> np.ndarray:
    found = pc.index_in(values, value_set=value_set)
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _fail_unknown(
    coded: np.ndarray, col: pa.ChunkedArray, path: str, column: str, allowed: tuple[str, ...]
) -> None:
    bad = np.flatnonzero(coded == _BAD_CODE)
    if bad.size:
        row = int(bad[0])
        value = col[row].as_py()
        problem = "is null" if value is None else "is not a known value"
        fix = f"{column} must be one of {', '.join(allowed)}; repair or drop the row"
        raise_row(path, row, int(bad.size), column, value, problem, fix)


def _fail_null(col: pa.ChunkedArray, path: str, column: str, fix: str) -> None:
    bad = np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))
    raise_row(path, int(bad[0]), int(bad.size), column, None, "is null", fix)
