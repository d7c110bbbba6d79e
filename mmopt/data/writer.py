"""Write event arrays as Hive-partitioned Parquet shards, atomically and without clobbering.

A shard goes to ``ROOT/security=SEC/date=YYYY-MM-DD/part-0.parquet``. It is first written into a
temporary directory inside ROOT and then renamed into place, so an interrupted write never
leaves a half-written shard. An existing shard is never overwritten silently: an identical one is
left as it is, a different one is an error unless ``overwrite=True``.
"""

from __future__ import annotations

import csv
import filecmp
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_NAMES,
    NO_EXCH_TS,
    NO_LEVEL,
    SIDE_BUY,
    SIDE_SELL,
    Instrument,
)
from mmopt.errors import DataError

__all__ = [
    "PARQUET_WRITE_OPTIONS",
    "ROW_GROUP_SIZE",
    "different_shard_error",
    "events_to_table",
    "install_shard_dir",
    "shard_conflict",
    "shard_dir",
    "storage_table",
    "write_instruments_csv",
    "write_shard",
]

PART_NAME = "part-0.parquet"
ROW_GROUP_SIZE = 1_000_000
# how every shard file is written (a streamed shard uses the same, so its bytes are the same)
PARQUET_WRITE_OPTIONS: dict[str, object] = {"compression": "zstd", "store_schema": False}
INSTRUMENT_FIELDS = (
    "security",
    "tick_size",
    "lot_size",
    "contract_type",
    "contract_size",
    "quote_currency",
    "maker_fee_bps",
    "taker_fee_bps",
)


def shard_dir(root: str | Path, security: str, date: str) -> Path:
    return Path(root) / f"security={security}" / f"date={date}"


def events_to_table(events: np.ndarray) -> pa.Table:
    """The on-disk table of an ``EVENT_DTYPE`` array (string kinds and sides, nulls restored)."""
    table = storage_table(events)
    for name in ("kind", "side"):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(pa.string()))
    return table


def storage_table(events: np.ndarray) -> pa.Table:
    """Like ``events_to_table`` with kind and side dictionary-encoded (cheap to build).

    Written with ``store_schema=False`` they read back as plain strings, the documented schema.
    """
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"expected EVENT_DTYPE, got {events.dtype}")
    names = [KIND_NAMES.get(code, "") for code in range(max(KIND_NAMES) + 1)]
    kind = pa.DictionaryArray.from_arrays(
        pa.array(events["kind"].astype(np.int32)), pa.array(names, pa.string())
    )
    side_codes = np.full(len(events), -1, dtype=np.int32)
    side_codes[events["side"] == SIDE_BUY] = 0
    side_codes[events["side"] == SIDE_SELL] = 1
    side = pa.DictionaryArray.from_arrays(
        pa.array(side_codes, mask=side_codes < 0), pa.array(["buy", "sell"], pa.string())
    )
    level = events["level"]
    exch = events["exch_ts_ns"]
    return pa.table(
        {
            "ts_ns": pa.array(events["ts_ns"], pa.int64()),
            "kind": kind,
            "level": pa.array(level, pa.int32(), mask=level == NO_LEVEL),
            "price": pa.array(events["price"], pa.float64()),
            "qty": pa.array(events["qty"], pa.float64()),
            "side": side,
            "exch_ts_ns": pa.array(exch, pa.int64(), mask=exch == NO_EXCH_TS),
            "is_snapshot": pa.array(events["is_snapshot"], pa.bool_()),
        }
    )


def write_shard(
    root: str | Path,
    security: str,
    date: str,
    events: np.ndarray | pa.Table,
    *,
    overwrite: bool = False,
) -> Path:
    """Write one shard atomically; return the path of its Parquet file."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    table = events if isinstance(events, pa.Table) else storage_table(events)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".mmopt-tmp-", dir=root))
    try:
        pq.write_table(
            table, tmp_dir / PART_NAME, row_group_size=ROW_GROUP_SIZE, **PARQUET_WRITE_OPTIONS
        )
        return install_shard_dir(root, security, date, tmp_dir, overwrite=overwrite)[0]
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def shard_conflict(root: Path, security: str, date: str, new_file: Path) -> str | None:
    """``"same"`` if the shard exists with these bytes, ``"different"`` if it differs, else None."""
    target_dir = shard_dir(root, security, date)
    if not target_dir.exists():
        return None
    target = target_dir / PART_NAME
    if target.exists() and filecmp.cmp(new_file, target, shallow=False):
        return "same"
    return "different"


def different_shard_error(root: Path, security: str, date: str) -> DataError:
    return DataError(
        f"{shard_dir(root, security, date)}: a different shard for security={security} "
        f"date={date} already exists; remove it or pass --overwrite to replace it"
    )


def install_shard_dir(
    root: Path, security: str, date: str, tmp_dir: Path, *, overwrite: bool = False
) -> tuple[Path, bool]:
    """Move ``tmp_dir`` (holding a finished ``part-0.parquet``, inside ``root``) into place.

    Returns (path of the shard's file, True if an identical shard was already there). A
    different existing shard is an error unless ``overwrite``; then it is replaced by a rename.
    """
    target_dir = shard_dir(root, security, date)
    target = target_dir / PART_NAME
    state = shard_conflict(root, security, date, tmp_dir / PART_NAME)
    if state == "same":
        return target, True
    if state == "different":
        if not overwrite:
            raise different_shard_error(root, security, date)
        old = Path(tempfile.mkdtemp(prefix=".mmopt-old-", dir=root))
        os.replace(target_dir, old / "shard")
        target_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_dir, target_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        target_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_dir, target_dir)
    return target, False


def write_instruments_csv(root: str | Path, instruments: Iterable[Instrument]) -> Path:
    """Write (or merge into) ``ROOT/instruments.csv``, one row per security, sorted."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "instruments.csv"
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                rows[row["security"]] = row
    for ins in instruments:
        rows[ins.security] = {f: str(getattr(ins, f)) for f in INSTRUMENT_FIELDS}
    fd, tmp = tempfile.mkstemp(prefix=".instruments-", suffix=".csv", dir=root)
    with os.fdopen(fd, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(INSTRUMENT_FIELDS))
        writer.writeheader()
        for sec in sorted(rows):
            writer.writerow({f: rows[sec].get(f, "") for f in INSTRUMENT_FIELDS})
    os.replace(tmp, path)
    return path
