"""Import CSV or Parquet quotes and/or trades through a column map (see ``column_map``), streaming.

Each file's layout follows from the mapped columns it holds: quotes (``bid``/``ask`` with
sizes: a ``bid`` or ``ask`` row whenever that side's price or size changes, per security),
trades (``price``/``size``[/``side``]), or event rows (``type``/``price``/``size``). Rows are
grouped into one shard per security and date (the date option, the date column, or the date of
the time in ``timezone``) and sorted stably by time, ties kept in input order (files sorted by
path, so the same files always give the same shards).

Memory stays bounded whatever the input size: files are read in chunks (pyarrow's streaming CSV
reader, Parquet record batches), a shard's rows are kept in memory only up to a budget and
otherwise spilled as sorted runs into a hidden staging directory inside the output root, and
merged block by block when the shard is written. Every input row is read and checked before any
shard is moved into the root (see ``_output``); an interrupted import leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mmopt.data._schema import EVENT_DTYPE
from mmopt.data.importers._common import (
    ConvertedShard,
    ImportReport,
    InstrumentOptions,
    check_security_name,
)
from mmopt.data.importers._levels import level_blocks
from mmopt.data.importers._output import ImportOutput
from mmopt.data.importers._progress import ImportProgress, NullProgress
from mmopt.data.importers._runs import RunStore
from mmopt.data.importers._tabular_read import TabularSource
from mmopt.data.importers._tabular_rows import QuoteCarry, check_layout, chunk_groups
from mmopt.data.importers.column_map import TabularConfig
from mmopt.errors import ConfigError, DataError

__all__ = ["convert_tabular", "import_tabular"]


def _open_sources(inputs: Iterable[str | Path], config: TabularConfig) -> list[TabularSource]:
    """Every input's header, checked against the map before any row is read."""
    paths = sorted({Path(p) for p in inputs})
    if not paths:
        raise DataError("no input files given; pass one or more CSV or Parquet files")
    sources = [TabularSource(p, config, i) for i, p in enumerate(paths)]
    seen = {c for s in sources for c in s.columns}
    for key, column in config.columns.mapped().items():
        if column not in seen:
            raise ConfigError(
                f"{config.source}: {key}={column!r}: no input file has a column {column!r} "
                f"(columns: {', '.join(sorted(seen))}); fix the map"
            )
    for source in sources:
        check_layout(source)
    return sources


def _read(
    sources: list[TabularSource],
    store: RunStore,
    progress: ImportProgress,
    output: ImportOutput | None = None,
) -> None:
    """Convert every chunk of every file into the store (and show it to ``output``)."""
    totals = [s.total_rows for s in sources]
    progress.start("read", None if None in totals else sum(t or 0 for t in totals))
    for source in sources:
        carry = QuoteCarry()
        for chunk in source.chunks():
            for group in chunk_groups(chunk, carry):
                check_security_name(group.security, str(source.path))
                if output is not None:
                    output.observe(group.security, group.events, str(source.path))
                store.add((group.security, group.date), group.events, str(source.path))
            progress.advance(chunk.n)


def convert_tabular(inputs: Iterable[str | Path], config: TabularConfig) -> list[ConvertedShard]:
    """Read and check every file, then split the rows into shards (in memory; small inputs)."""
    sources = _open_sources(inputs, config)
    store = RunStore(None)
    _read(sources, store, NullProgress())
    shards = []
    names = tuple(str(s.path) for s in sources)
    for key in store.shard_keys():
        where = f"{', '.join(store.sources(key))}: {key[0]} {key[1]}"
        blocks = list(level_blocks(store.blocks(key), config.levels, where, store.ranked(key)))
        events = np.ascontiguousarray(np.concatenate(blocks), dtype=EVENT_DTYPE)
        shards.append(ConvertedShard(key[0], key[1], events, names))
    return shards


def import_tabular(
    inputs: Iterable[str | Path],
    root: str | Path,
    config: TabularConfig,
    instrument: InstrumentOptions | None = None,
    *,
    overwrite: bool = False,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Convert every file (all checked first), then write one shard per security and date."""
    progress = progress or NullProgress()
    sources = _open_sources(inputs, config)
    opts = instrument or InstrumentOptions()
    with ImportOutput(root, opts, overwrite=overwrite, progress=progress) as output:
        store = RunStore(output.spill_dir)
        _read(sources, store, progress, output)
        keys = store.shard_keys()
        progress.start("write", sum(store.rows(k) for k in keys))
        for key in keys:
            where = f"{', '.join(store.sources(key))}: {key[0]} {key[1]}"
            blocks = level_blocks(store.blocks(key), config.levels, where, store.ranked(key))
            output.write_shard(key[0], key[1], blocks)
        return output.finish()
