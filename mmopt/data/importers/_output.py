"""The output side of every import: instrument facts, staged shard files, the final commit.

An importer opens an ``ImportOutput`` (a context manager around ``Staging``), shows it every
converted row while reading (``observe``: distinct prices and sizes, the ``--tick-size`` check),
then writes each shard from sorted blocks (``write_shard``) into the staging area, and calls
``finish``: every target is checked, the shards move into place, and the instruments are merged
into ``ROOT/instruments.csv``. Nothing reaches the root before ``finish``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from mmopt.data.importers._common import (
    ConvertedShard,
    ImportedShard,
    ImportReport,
    InstrumentOptions,
)
from mmopt.data.importers._instrument_stats import GridSample, check_tick_grid, instrument_for
from mmopt.data.importers._progress import ImportProgress, NullProgress
from mmopt.data.importers._staging import StagedShard, Staging
from mmopt.data.writer import write_instruments_csv
from mmopt.errors import DataError

__all__ = ["ImportOutput", "write_converted"]


def _existing_securities(root: Path) -> set[str]:
    path = root / "instruments.csv"
    if not path.exists():
        return set()
    with path.open(newline="") as fh:
        return {(row.get("security") or "").strip() for row in csv.DictReader(fh)}


class ImportOutput:
    """Collects instrument facts and staged shards of one import; see the module docstring."""

    def __init__(
        self,
        root: str | Path,
        opts: InstrumentOptions,
        *,
        overwrite: bool = False,
        progress: ImportProgress | None = None,
    ) -> None:
        self.root = Path(root)
        self.opts = opts
        self.overwrite = overwrite
        self.progress = progress or NullProgress()
        self.staging = Staging(self.root)
        self._samples: dict[str, GridSample] = {}
        self._staged: list[StagedShard] = []

    def __enter__(self) -> ImportOutput:
        self.staging.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.staging.__exit__(exc_type, exc, tb)

    @property
    def spill_dir(self) -> Path:
        return self.staging.path("")

    def observe(self, security: str, events: np.ndarray, where: str) -> None:
        """Take note of converted rows (any order); ``where`` names their input for errors."""
        if self.opts.tick_size is not None:
            check_tick_grid(events, self.opts.tick_size, where)
        self._samples.setdefault(security, GridSample()).add(events)

    def write_shard(self, security: str, date: str, blocks: Iterable[np.ndarray]) -> int:
        """Stage one shard from blocks sorted by ts_ns; returns its number of events."""
        directory, writer = self.staging.new_shard()
        try:
            for block in blocks:
                writer.add(block)
                self.progress.advance(int(block.size))
            writer.close()
        except BaseException:
            writer.abort()
            raise
        if writer.n_events == 0:
            raise DataError(f"{security} {date}: no rows to write; check the inputs")
        self._staged.append(StagedShard(security, date, directory, writer.n_events))
        return writer.n_events

    def finish(self) -> ImportReport:
        """Move every staged shard into place and merge the instruments (after all checks)."""
        existing = _existing_securities(self.root)
        instruments = []
        notes: list[str] = []
        for security in sorted(self._samples):
            ins, note = instrument_for(security, [self._samples[security]], self.opts)
            if security in existing and self.opts.tick_size is None:
                notes.append(f"{security}: kept its row in {self.root / 'instruments.csv'}")
                continue
            instruments.append(ins)
            if note:
                notes.append(note)
        placed = self.staging.commit(self._staged, self.overwrite)
        shards = tuple(
            ImportedShard(s.security, s.date, path, s.n_events, unchanged)
            for s, (path, unchanged) in zip(self._staged, placed, strict=True)
        )
        if instruments:
            write_instruments_csv(self.root, instruments)
        return ImportReport(shards, tuple(instruments), tuple(notes))


def write_converted(
    root: str | Path,
    shards: Sequence[ConvertedShard],
    opts: InstrumentOptions,
    *,
    overwrite: bool = False,
) -> ImportReport:
    """Write in-memory converted shards the way an import does (all staged, then committed)."""
    seen: dict[tuple[str, str], ConvertedShard] = {}
    for shard in shards:
        key = (shard.security, shard.date)
        if key in seen:
            raise DataError(
                f"{', '.join(seen[key].sources)} and {', '.join(shard.sources)} both hold "
                f"{shard.security} on {shard.date}; import them separately into different roots "
                "or merge the files first"
            )
        seen[key] = shard
    with ImportOutput(root, opts, overwrite=overwrite) as out:
        for shard in shards:
            where = f"{', '.join(shard.sources)}: {shard.security} {shard.date}"
            out.observe(shard.security, shard.events, where)
        for shard in shards:
            out.write_shard(shard.security, shard.date, [shard.events])
        return out.finish()
