"""Read one CSV or Parquet input chunk by chunk, and turn its mapped columns into numpy arrays.

CSV is read with pyarrow's streaming reader, every mapped column as text (so a later block can
never disagree with a type guessed from the first one); numbers are cast by pyarrow, and only
when a cast fails is pandas used to find the row to name. Parquet is read in record batches.
Text columns with few distinct values (type, side, security, date) are looked up once per
distinct value through a dictionary, not once per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mmopt.data.importers._timeparse import looks_numeric, parse_times, unit_for
from mmopt.data.importers.column_map import EPOCH_FORMATS, TabularConfig
from mmopt.errors import DataError

__all__ = ["Chunk", "TabularSource"]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 262_144
Where = Callable[[int], str]
_SCALE = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


class TabularSource:
    """One input file: its header, its chunks, and what carries over from chunk to chunk."""

    def __init__(self, path: Path, config: TabularConfig, index: int) -> None:
        self.path = path
        self.config = config
        self.index = index
        self.parquet = path.suffix.lower() in PARQUET_SUFFIXES
        self.columns = self._header()
        wanted = set(config.columns.mapped().values())
        self.keep = [c for c in self.columns if c in wanted]
        self.time_formats: dict[str, str] = {}  # 'auto' resolved on the first chunk, per column
        self.rows = 0
        first = 1 if self.parquet else 2
        noun = "row" if self.parquet else "line"
        self.where: Where = lambda i: f"{path}: {noun} {i + first}"

    @property
    def total_rows(self) -> int | None:
        if not self.parquet:
            return None
        return int(pq.ParquetFile(self.path).metadata.num_rows)

    def _fail_read(self, exc: BaseException) -> DataError:
        kind = "Parquet" if self.parquet else "CSV"
        if isinstance(exc, FileNotFoundError):
            return DataError(f"{self.path}: no such file; check the path")
        if "Empty CSV file" in str(exc):
            return DataError(f"{self.path}: the file is empty; it needs a header line and rows")
        return DataError(f"{self.path}: cannot read it as {kind} ({exc}); check the file")

    def _header(self) -> list[str]:
        try:
            if self.parquet:
                return list(pq.read_schema(self.path).names)
            opts = pacsv.ReadOptions(block_size=1 << 16)
            parse = pacsv.ParseOptions(delimiter=self.config.delimiter)
            with pacsv.open_csv(self.path, read_options=opts, parse_options=parse) as reader:
                return list(reader.schema.names)
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise self._fail_read(exc) from None

    def chunks(self) -> Iterator[Chunk]:
        """The file's rows in chunks (mapped columns only); errors name the file."""
        offset = 0
        try:
            for batch in self._batches():
                if batch.num_rows:
                    yield Chunk(self, pa.Table.from_batches([batch]), offset)
                    offset += batch.num_rows
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise self._fail_read(exc) from None
        self.rows = offset
        if offset == 0:
            raise DataError(f"{self.path}: the file has no rows; remove it from the inputs")

    def _batches(self) -> Iterator[pa.RecordBatch]:
        if self.parquet:
            pf = pq.ParquetFile(self.path)
            yield from pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=self.keep)
            return
        reader = pacsv.open_csv(
            self.path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=self.config.delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=self.keep,
                column_types={c: pa.string() for c in self.keep},
                strings_can_be_null=True,
            ),
        )
        with reader:
            yield from reader


class Chunk:
    """Consecutive rows of one source, from file row ``offset`` on."""

    def __init__(self, source: TabularSource, table: pa.Table, offset: int) -> None:
        self.source = source
        self.table = table
        self.offset = offset
        self.n = table.num_rows
        self.where: Where = lambda i: source.where(offset + i)

    @property
    def config(self) -> TabularConfig:
        return self.source.config

    def column_name(self, key: str) -> str:
        return str(getattr(self.config.columns, key))

    def has(self, key: str) -> bool:
        column = getattr(self.config.columns, key)
        return column is not None and column in self.table.column_names

    def require(self, key: str, layout: str) -> str:
        column: str = getattr(self.config.columns, key)
        if not self.has(key):
            raise DataError(
                f"{self.source.path}: {layout} need the {key!r} column {column!r}, which is not "
                f"in the file (columns: {', '.join(self.source.columns)}); fix the map "
                f"(--col {key}=<column>)"
            )
        return column

    def arrow(self, key: str) -> pa.Array:
        return self.table.column(self.column_name(key)).combine_chunks()

    def series(self, key: str) -> pd.Series:
        return self.arrow(key).to_pandas()

    def numbers(self, key: str) -> np.ndarray:
        """float64 values (null: NaN); a value that is not a number raises, naming its row."""
        col = self.arrow(key)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            try:
                col = pc.cast(pc.utf8_trim_whitespace(col), pa.float64())
            except pa.ArrowInvalid:
                return self._numbers_slow(key)
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            col = col.cast(pa.float64())
        elif pa.types.is_null(col.type):
            return np.full(self.n, np.nan)
        else:
            return self._numbers_slow(key)
        return np.asarray(pc.fill_null(col, np.nan).to_numpy(zero_copy_only=False), np.float64)

    def _numbers_slow(self, key: str) -> np.ndarray:
        raw = self.series(key)
        values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = np.isnan(values) & raw.notna().to_numpy(bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{self.where(i)}, column {self.column_name(key)}: {raw.iloc[i]!r} is not a "
                "number; fix the value"
            )
        return values

    def dictionary(self, key: str) -> tuple[np.ndarray, list[str | None]]:
        """(index per row, -1 for null; the distinct values as text) of a text-like column."""
        col = self.arrow(key)
        if not pa.types.is_dictionary(col.type):
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                col = col.cast(pa.string())
            col = pc.dictionary_encode(col)
        values = [
            None if v is None else str(v) for v in col.dictionary.cast(pa.string()).to_pylist()
        ]
        index = np.asarray(pc.fill_null(col.indices, -1).to_numpy(zero_copy_only=False), np.int64)
        return index, values

    def codes(self, key: str, lookup: dict[str, int], what: str) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, mask of rows with a known value); unknown non-empty values raise."""
        index, values = self.dictionary(key)
        text = pd.Series(values, dtype="string").str.strip().str.lower()
        text = text.str.replace(r"^(-?\d+)\.0*$", r"\1", regex=True)
        mapped = text.map(lookup)
        known_v = np.append(mapped.notna().to_numpy(bool), False)
        empty_v = np.append((text.isna() | (text == "")).fillna(True).to_numpy(bool), True)
        code_v = np.append(mapped.fillna(0).to_numpy(np.int64), 0)
        known, empty = known_v[index], empty_v[index]
        if (~known & ~empty).any():
            i = int(np.flatnonzero(~known & ~empty)[0])
            raise DataError(
                f"{self.where(i)}, column {self.column_name(key)}: {values[index[i]]!r} is not a "
                f"known {what} ({', '.join(sorted(lookup))}); add it under {key}_values: in the "
                "map file"
            )
        return code_v[index], known

    def times(self, key: str, dates: pd.Series | None, allow_null: bool) -> np.ndarray:
        """UTC ns of a time column; null rows give -1 where ``allow_null``, else an error."""
        col = self.arrow(key)
        column = self.column_name(key)
        valid = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), bool)
        out = np.full(self.n, -1, np.int64)
        if not valid.any():
            if not allow_null:
                self._fail_null(column, 0)
            return out
        if not valid.all():
            if not allow_null:
                self._fail_null(column, int(np.flatnonzero(~valid)[0]))
            rows = np.flatnonzero(valid)
            col = col.filter(pa.array(valid))
            dates = None if dates is None else dates.iloc[rows]
            where = _subset_namer(self.where, rows)
        else:
            rows = None
            where = self.where
        fmt = self._format(column, col)
        values = self._fast_epoch(col, fmt)
        if values is None:
            series = col.to_pandas()
            values = parse_times(series, fmt, self.config.timezone, where, column, dates)
        if rows is None:
            return values
        out[rows] = values
        return out

    def _fail_null(self, column: str, i: int) -> None:
        raise DataError(
            f"{self.where(i)}, column {column}: empty; every row needs a time there; fill it in "
            "or drop the row"
        )

    def _format(self, column: str, col: pa.Array) -> str:
        """The time format of this column, 'auto' resolved once per file from its first value."""
        fmt = self.source.time_formats.get(column)
        if fmt is not None:
            return fmt
        fmt = self.config.time_format
        if fmt == "auto":
            first = col[0].as_py()
            if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
                fmt = "iso"
            elif isinstance(first, int | float) and not isinstance(first, bool):
                fmt = unit_for(float(first))
            elif isinstance(first, str) and looks_numeric(first):
                fmt = unit_for(float(first.strip().partition(".")[0] or 0))
            else:
                fmt = "iso"
        self.source.time_formats[column] = fmt
        return fmt

    @staticmethod
    def _fast_epoch(col: pa.Array, fmt: str) -> np.ndarray | None:
        """Whole epoch numbers as text, cast by pyarrow; None where the exact slow path is needed"""
        if fmt not in EPOCH_FORMATS or not pa.types.is_string(col.type):
            return None
        try:  # plain digits cast directly; anything else takes the exact slow path
            ints = np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), np.int64)
        except pa.ArrowInvalid:
            return None
        if ints.size and ints.min() < 0:
            return None
        scale = _SCALE[fmt]
        if ints.size and ints.max() > np.iinfo(np.int64).max // scale:
            return None
        return ints * scale


def _subset_namer(where: Where, rows: np.ndarray) -> Where:
    """Names row ``i`` of a subset by its row in the chunk."""

    def name(i: int) -> str:
        return where(int(rows[i]))

    return name
