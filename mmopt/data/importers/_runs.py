"""Bounded-memory stable sort of a shard's rows: sorted runs spilled to disk, merged in blocks.

Rows arrive per shard in input order, as blocks already sorted by ``ts_ns`` with ties in input
order. A shard's blocks stay in memory until all shards together hold more than
``budget_rows``; then every pending shard is sorted (stably) and appended to its own run file in
the staging directory. A block that starts at or after the end of the shard's last run extends
that run, so time-sorted input gives one run per shard and no merge work.

``blocks(key)`` yields the shard's rows sorted by ``ts_ns``, ties in input order: runs are merged
by the cut-off rule (emit every buffered row whose (ts, run) is at most the smallest (last ts,
run) over the buffers), which keeps one buffer of ``merge_rows / runs`` rows per run in memory.
Earlier runs hold earlier input rows, so (ts, run, position) is the input's stable order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mmopt.data._schema import EVENT_DTYPE, KIND_ASK_LEVEL, KIND_BID_LEVEL

__all__ = ["BLOCK_ROWS", "BUDGET_ROWS", "MERGE_ROWS", "RunStore", "ShardKey"]

ShardKey = tuple[str, str]  # (security, date)
_ITEM = EVENT_DTYPE.itemsize
_MIN_BUFFER = 16_384
BUDGET_ROWS = 2_000_000  # rows of all shards kept in memory before sorted runs are spilled
MERGE_ROWS = 2_000_000  # rows buffered over all runs of one shard while merging
BLOCK_ROWS = 500_000  # rows per block handed to the writer


@dataclass(slots=True)
class _Shard:
    pending: list[np.ndarray] = field(default_factory=list)
    n_pending: int = 0
    runs: list[tuple[int, int]] = field(default_factory=list)  # (first row, rows) in the file
    n_spilled: int = 0
    file: Path | None = None
    sources: list[str] = field(default_factory=list)
    ranked: bool = False  # some *_level row carries a depth rank


def _stable_by_time(events: np.ndarray) -> np.ndarray:
    ts = events["ts_ns"]
    if ts.size < 2 or bool(np.all(ts[1:] >= ts[:-1])):
        return events
    return events[np.argsort(ts, kind="stable")]


class RunStore:
    """Per-shard pending blocks and spilled runs; ``spill_dir=None`` keeps everything in memory."""

    def __init__(
        self,
        spill_dir: Path | None,
        budget_rows: int | None = None,
        merge_rows: int | None = None,
        block_rows: int | None = None,
    ) -> None:
        self._dir = spill_dir
        self._budget = budget_rows or BUDGET_ROWS
        self._merge_rows = merge_rows or MERGE_ROWS
        self._block_rows = block_rows or BLOCK_ROWS
        self._shards: dict[ShardKey, _Shard] = {}
        self._n_pending = 0
        self._files: list[Path] = []

    def shard_keys(self) -> list[ShardKey]:
        return sorted(self._shards)

    def sources(self, key: ShardKey) -> tuple[str, ...]:
        return tuple(self._shards[key].sources)

    def ranked(self, key: ShardKey) -> bool:
        return self._shards[key].ranked

    def rows(self, key: ShardKey) -> int:
        shard = self._shards[key]
        return shard.n_spilled + shard.n_pending

    def add(self, key: ShardKey, events: np.ndarray, source: str) -> None:
        """Append rows of one shard (sorted by ts_ns, ties in input order)."""
        if events.size == 0:
            return
        shard = self._shards.setdefault(key, _Shard())
        if source not in shard.sources:
            shard.sources.append(source)
        if not shard.ranked:
            kind = events["kind"]
            depth = (kind == KIND_BID_LEVEL) | (kind == KIND_ASK_LEVEL)
            shard.ranked = bool(np.any(depth & (events["level"] > 0)))
        shard.pending.append(events)
        shard.n_pending += events.size
        self._n_pending += events.size
        if self._dir is not None and self._n_pending > self._budget:
            for name in sorted(self._shards, key=lambda k: -self._shards[k].n_pending):
                self._spill(name)
                if self._n_pending <= self._budget // 2:
                    break

    def _spill(self, key: ShardKey) -> None:
        shard = self._shards[key]
        if not shard.n_pending or self._dir is None:
            return
        data = _stable_by_time(np.concatenate(shard.pending))
        self._n_pending -= shard.n_pending
        shard.pending, shard.n_pending = [], 0
        if shard.file is None:
            shard.file = self._dir / f"run-{len(self._files):06d}.bin"
            self._files.append(shard.file)
        with shard.file.open("ab") as fh:
            data.tofile(fh)
        first = int(data["ts_ns"][0])
        if shard.runs and first >= self._last_ts(shard):
            start, n = shard.runs[-1]
            shard.runs[-1] = (start, n + data.size)
        else:
            shard.runs.append((shard.n_spilled, int(data.size)))
        shard.n_spilled += int(data.size)

    def _last_ts(self, shard: _Shard) -> int:
        assert shard.file is not None
        with shard.file.open("rb") as fh:
            fh.seek((shard.n_spilled - 1) * _ITEM)
            last = np.fromfile(fh, dtype=EVENT_DTYPE, count=1)
        return int(last["ts_ns"][0])

    def blocks(self, key: ShardKey) -> Iterator[np.ndarray]:
        """The shard's rows in stable time order, in blocks; its run file is deleted after."""
        shard = self._shards[key]
        if not shard.runs:
            data = _stable_by_time(np.concatenate(shard.pending))
            self._n_pending -= shard.n_pending
            shard.pending, shard.n_pending = [], 0
            for start in range(0, data.size, self._block_rows):
                yield data[start : start + self._block_rows]
            return
        self._spill(key)
        assert shard.file is not None
        try:
            with shard.file.open("rb") as fh:
                if len(shard.runs) == 1:
                    yield from self._read_run(fh, shard.runs[0])
                else:
                    yield from self._merge(fh, shard.runs)
        finally:
            shard.file.unlink(missing_ok=True)

    def _read_run(self, fh: BinaryIO, run: tuple[int, int]) -> Iterator[np.ndarray]:
        start, n = run
        for at in range(start, start + n, self._block_rows):
            yield _read(fh, at, min(self._block_rows, start + n - at))

    def _merge(self, fh: BinaryIO, runs: list[tuple[int, int]]) -> Iterator[np.ndarray]:
        size = max(min(_MIN_BUFFER, self._merge_rows), self._merge_rows // len(runs))
        cursor = [start for start, _ in runs]
        end = [start + n for start, n in runs]
        bufs: list[np.ndarray] = []
        for r in range(len(runs)):
            take = min(size, end[r] - cursor[r])
            bufs.append(_read(fh, cursor[r], take))
            cursor[r] += take
        while True:
            live = [r for r in range(len(runs)) if bufs[r].size]
            if not live:
                return
            cut_run = min(live, key=lambda r: (int(bufs[r]["ts_ns"][-1]), r))
            cut_ts = int(bufs[cut_run]["ts_ns"][-1])
            parts = []
            for r in live:
                ts_r = bufs[r]["ts_ns"]
                k = int(
                    np.searchsorted(ts_r, cut_ts, side="right")
                    if r <= cut_run
                    else np.searchsorted(ts_r, cut_ts, side="left")
                )
                if k:
                    parts.append(bufs[r][:k])
                    bufs[r] = bufs[r][k:]
                if bufs[r].size == 0 and cursor[r] < end[r]:
                    take = min(size, end[r] - cursor[r])
                    bufs[r] = _read(fh, cursor[r], take)
                    cursor[r] += take
            out = np.concatenate(parts) if len(parts) > 1 else parts[0]
            yield _stable_by_time(out)


def _read(fh: BinaryIO, first_row: int, rows: int) -> np.ndarray:
    fh.seek(first_row * _ITEM)
    return np.fromfile(fh, dtype=EVENT_DTYPE, count=rows)
