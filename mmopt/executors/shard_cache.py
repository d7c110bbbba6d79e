"""The prepared shards one worker keeps: least recently used out beyond a byte budget.

``resolve`` replaces every ``Resident`` argument of a call by its prepared value, preparing it
on a miss. The value just used always stays (even alone above the budget); older ones are
dropped until the rest fits. ``stats`` counts reads (prepares), hits and evictions per key, so
that tests and benchmarks can tell how often a shard was read.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mmopt.executors.resident import Resident

__all__ = ["CacheStats", "ShardCache", "budget_bytes"]

MB = 1 << 20


def budget_bytes(shard_cache_mb: float | None) -> int | None:
    """``executor.shard_cache_mb`` in bytes (None: no limit)."""
    return None if shard_cache_mb is None else max(1, int(shard_cache_mb * MB))


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What a cache did so far: reads (prepares) and evictions per key, hits, bytes held."""

    reads: tuple[tuple[str, int], ...]
    evictions: tuple[tuple[str, int], ...]
    hits: int
    held_bytes: int
    peak_bytes: int

    @property
    def n_reads(self) -> int:
        return sum(n for _, n in self.reads)

    @property
    def n_evictions(self) -> int:
        return sum(n for _, n in self.evictions)


class ShardCache:
    """Prepared residents of one worker, within ``budget`` bytes (None: unlimited)."""

    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self._values: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._held = 0
        self._peak = 0
        self._reads: Counter[str] = Counter()
        self._evictions: Counter[str] = Counter()
        self._hits = 0

    def get(self, resident: Resident) -> Any:
        key = resident.cache_key()
        entry = self._values.get(key)
        if entry is not None:
            self._values.move_to_end(key)
            self._hits += 1
            return entry[0]
        value, size = resident.prepare()
        self._reads[key] += 1
        self._values[key] = (value, size)
        self._held += size
        self._peak = max(self._peak, self._held)
        self._evict(keep=key)
        return value

    def resolve(self, args: Sequence[Any]) -> tuple[Any, ...]:
        """``args`` with each resident replaced by its prepared value."""
        return tuple(self.get(a) if isinstance(a, Resident) else a for a in args)

    def _evict(self, keep: str) -> None:
        if self.budget is None:
            return
        while self._held > self.budget and len(self._values) > 1:
            key, (_, size) = next(iter(self._values.items()))
            if key == keep:  # the newest is last; this cannot happen with more than one entry
                break
            del self._values[key]
            self._held -= size
            self._evictions[key] += 1

    def held(self) -> tuple[str, ...]:
        """Keys of the prepared values held now, least recently used first."""
        return tuple(self._values)

    def stats(self) -> CacheStats:
        return CacheStats(tuple(sorted(self._reads.items())),
                          tuple(sorted(self._evictions.items())), self._hits, self._held,
                          self._peak)
