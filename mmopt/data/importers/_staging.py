"""The staging area of an import: shards are written into a hidden directory inside the output
root, and moved into place only when every shard of the import is complete.

``Staging`` owns ``ROOT/.mmopt-import-XXXX/`` (spilled sort runs and finished shard files). It is
removed on every exit, so an import that fails or is interrupted leaves nothing behind; a shard
moves into place by a rename (atomic on one file system). Before the first rename every target
is checked, so a different existing shard (without ``--overwrite``) stops the import before any
shard is replaced.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow.parquet as pq

from mmopt.data._schema import EVENT_DTYPE
from mmopt.data.writer import (
    PARQUET_WRITE_OPTIONS,
    PART_NAME,
    ROW_GROUP_SIZE,
    different_shard_error,
    install_shard_dir,
    shard_conflict,
    storage_table,
)

__all__ = ["ShardFileWriter", "StagedShard", "Staging"]


@dataclass(frozen=True, slots=True)
class StagedShard:
    """A finished shard file in the staging area, waiting to be moved into place."""

    security: str
    date: str
    directory: Path
    n_events: int


class ShardFileWriter:
    """Writes sorted event blocks into one Parquet file, in row groups of ``ROW_GROUP_SIZE``.

    The bytes equal those of ``mmopt.data.writer.write_shard`` for the same events.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self.n_events = 0
        self.last_ts = np.iinfo(np.int64).min

    def add(self, events: np.ndarray) -> None:
        if events.size == 0:
            return
        if int(events["ts_ns"][0]) < self.last_ts:
            raise AssertionError("shard blocks must arrive sorted by ts_ns")
        self.last_ts = int(events["ts_ns"][-1])
        self._pending.append(events)
        self._n_pending += events.size
        self.n_events += events.size
        while self._n_pending >= ROW_GROUP_SIZE:
            block = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._write(block[:ROW_GROUP_SIZE])
            rest = block[ROW_GROUP_SIZE:]
            self._pending = [rest] if rest.size else []
            self._n_pending = int(rest.size)

    def _write(self, block: np.ndarray) -> None:
        table = storage_table(np.ascontiguousarray(block, dtype=EVENT_DTYPE))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, table.schema, **PARQUET_WRITE_OPTIONS)
        self._writer.write_table(table, row_group_size=ROW_GROUP_SIZE)

    def close(self) -> None:
        if self._n_pending:
            block = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._write(block)
            self._pending, self._n_pending = [], 0
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class Staging:
    """A hidden working directory inside ``root``; use as a context manager."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir: Path | None = None
        self._count = 0

    def __enter__(self) -> Staging:
        self.root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".mmopt-import-", dir=self.root))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def path(self, name: str) -> Path:
        if self.dir is None:
            raise RuntimeError("Staging used outside its `with` block")
        return self.dir / name

    def new_shard(self) -> tuple[Path, ShardFileWriter]:
        """A fresh shard directory in the staging area and a writer for its file."""
        self._count += 1
        directory = self.path(f"shard-{self._count:06d}")
        directory.mkdir()
        return directory, ShardFileWriter(directory / PART_NAME)

    def commit(self, shards: list[StagedShard], overwrite: bool) -> list[tuple[Path, bool]]:
        """Check every target first, then move each shard into place: (path, unchanged)."""
        if not overwrite:
            for s in shards:
                if shard_conflict(self.root, s.security, s.date, s.directory / PART_NAME) == (
                    "different"
                ):
                    raise different_shard_error(self.root, s.security, s.date)
        return [
            install_shard_dir(self.root, s.security, s.date, s.directory, overwrite=overwrite)
            for s in shards
        ]
