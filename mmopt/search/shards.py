"""The sweep's shards: chosen and ordered for the rungs by the driver, read by the workers.

``plan_shard_set`` is what a sweep uses: the catalog only (paths, sizes, securities, dates) and
one ``ShardSource`` per shard, a small ``Resident`` that the worker owning the shard reads and
prepares (``mmopt.executors``); the driver never holds market data. ``load_shard_set`` reads and
prepares every shard in this process (benchmarks, tests, tools that need the arrays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmopt.config import DataConfig, EngineSettings, PrunerConfig
from mmopt.data.catalog import ShardCatalog, ShardRef
from mmopt.executors.resident import Resident
from mmopt.search.objective import PreparedShard

__all__ = ["ShardPlan", "ShardSample", "ShardSet", "ShardSource", "load_shard_set",
           "order_by_security", "order_for_rungs", "order_stratified", "plan_shard_set",
           "prepared_bytes", "rung_bounds"]

WARM_SAMPLE_EVENTS = 4000


def prepared_bytes(shard: PreparedShard) -> int:
    """Memory held by a prepared shard: the numpy arrays of its market data."""
    market = shard.market
    seen: set[int] = set()
    total = 0
    for name in getattr(market, "__dataclass_fields__", {}):
        value = getattr(market, name)
        if isinstance(value, np.ndarray) and id(value) not in seen:
            seen.add(id(value))
            total += int(value.nbytes)
    return total


def _prepare(index: int, ref: ShardRef, events: np.ndarray, instrument: Any) -> PreparedShard:
    from mmopt.engine import prepare_market

    return PreparedShard(index, ref.security, ref.date, prepare_market(events, instrument),
                         instrument, int(events.shape[0]))


@dataclass(frozen=True, slots=True)
class ShardSource(Resident):
    """One shard of the sweep as the driver knows it: its catalog entry and its rung index.
    The worker that owns it reads, validates and prepares it (``prepare``)."""

    index: int  # position in the sweep's shard order (the rungs follow it)
    ref: ShardRef

    @property
    def security(self) -> str:
        return self.ref.security

    @property
    def date(self) -> str:
        return self.ref.date

    @property
    def n_bytes(self) -> int:
        return self.ref.n_bytes

    def cache_key(self) -> str:
        return f"{self.ref.root}|{self.ref.key}|{self.ref.fingerprint}|{self.index}"

    def size_hint(self) -> int:
        return self.ref.n_bytes

    def data_root(self) -> str:
        return self.ref.root

    def check_readable(self) -> None:
        from mmopt.data.loader import check_shard_readable

        check_shard_readable(self.ref)

    def prepare(self) -> tuple[PreparedShard, int]:
        from mmopt.data.loader import load_shard

        loaded = load_shard(self.ref)
        shard = _prepare(self.index, self.ref, loaded.events, loaded.instrument)
        return shard, prepared_bytes(shard)


@dataclass(frozen=True, slots=True)
class ShardSample(Resident):
    """The first ``n_events`` rows of a shard, prepared: what warms a worker's kernels."""

    ref: ShardRef
    n_events: int = WARM_SAMPLE_EVENTS

    def cache_key(self) -> str:
        return f"{self.ref.root}|{self.ref.key}|{self.ref.fingerprint}|head{self.n_events}"

    def size_hint(self) -> int:
        return 0

    def data_root(self) -> str:
        return self.ref.root

    def check_readable(self) -> None:
        from mmopt.data.loader import check_shard_readable

        check_shard_readable(self.ref)

    def prepare(self) -> tuple[PreparedShard, int]:
        from mmopt.data.loader import load_shard_head

        loaded = load_shard_head(self.ref, self.n_events)
        shard = _prepare(-1, self.ref, loaded.events, loaded.instrument)
        return shard, prepared_bytes(shard)


@dataclass(frozen=True, slots=True, eq=False)
class ShardPlan:
    """The sweep's shards as sources in rung order, their catalog, a warm-up sample."""

    shards: tuple[ShardSource, ...]
    catalog: ShardCatalog
    sample: ShardSample

    @property
    def n_bytes(self) -> int:
        return sum(s.n_bytes for s in self.shards)


@dataclass(frozen=True, slots=True, eq=False)
class ShardSet:
    """Prepared shards in rung order, the catalog they came from, a small warm-up sample."""

    shards: tuple[PreparedShard, ...]
    catalog: ShardCatalog
    sample: PreparedShard | None

    @property
    def n_events(self) -> int:
        return sum(s.n_events for s in self.shards)


def order_by_security(refs: Sequence[ShardRef]) -> list[ShardRef]:
    """Round robin over securities (each one's days in date order), so that every rung covers
    as many securities as it can: SEC_A d1, SEC_B d1, ..., SEC_A d2, SEC_B d2, ... (the first
    rungs then see only the first dates)."""
    rank: dict[str, int] = {}
    keyed = []
    for ref in sorted(refs, key=lambda r: (r.security, r.date)):
        r = rank.get(ref.security, 0)
        rank[ref.security] = r + 1
        keyed.append(((r, ref.security), ref))
    return [ref for _, ref in sorted(keyed, key=lambda kv: kv[0])]


def order_stratified(refs: Sequence[ShardRef]) -> list[ShardRef]:
    """Securities and dates both spread over the rungs (a Latin square): security ``i`` takes
    date ``(i + r) mod n_dates`` in round ``r``, so SEC_A d1, SEC_B d2, SEC_C d3, SEC_D d1, ...;
    any prefix of the order covers as many securities *and* dates as it can, and a first rung
    cut short is not one day's market. Deterministic; O(n log n)."""
    securities = {s: i for i, s in enumerate(sorted({r.security for r in refs}))}
    dates = {d: j for j, d in enumerate(sorted({r.date for r in refs}))}
    n = max(1, len(dates))
    return sorted(refs, key=lambda r: ((dates[r.date] - securities[r.security]) % n,
                                       securities[r.security]))


def order_for_rungs(refs: Sequence[ShardRef]) -> list[ShardRef]:
    """The shard order the rungs follow: ``order_by_security``."""
    return order_by_security(refs)


def rung_bounds(n_shards: int, pruner: PrunerConfig) -> tuple[int, ...]:
    """Shards evaluated by the end of each rung (increasing; the last is every shard)."""
    if pruner.name == "none":
        return (n_shards,)
    bounds = {max(1, math.ceil(share * n_shards - 1e-9)) for share in pruner.rungs}
    return (*sorted(b for b in bounds if b < n_shards), n_shards)


def plan_shard_set(data: DataConfig, *, holdout: bool = False,
                   engine: EngineSettings | None = None) -> ShardPlan:
    """Select the shards (generating synthetic data on first use) and order them for the
    rungs; nothing is read but the catalog (and instruments.csv). With ``engine``, a security
    without an instruments.csv row is an error unless the engine settings give its fees."""
    from mmopt.config import open_shards
    from mmopt.data.instruments import check_instrument_rows

    catalog = open_shards(data, holdout=holdout)
    if engine is not None:
        check_instrument_rows(catalog.root, catalog.securities,
                              fees_in_config=engine.build().fees_in_config())
    ordered = order_for_rungs(tuple(catalog))
    sources = tuple(ShardSource(index, ref) for index, ref in enumerate(ordered))
    smallest = min(ordered, key=lambda r: (r.n_bytes, r.security, r.date))
    return ShardPlan(sources, catalog, ShardSample(smallest))


def load_shard_set(data: DataConfig, *, holdout: bool = False,
                   engine: EngineSettings | None = None) -> ShardSet:
    """Select (generating synthetic data on first use), load, validate and prepare the shards.

    With ``engine``, a security without an instruments.csv row is an error unless the engine
    settings give its fees (checked before any shard is read)."""
    from mmopt.config import open_shards
    from mmopt.data.instruments import check_instrument_rows
    from mmopt.data.loader import load_shard
    from mmopt.engine import prepare_market

    catalog = open_shards(data, holdout=holdout)
    if engine is not None:
        check_instrument_rows(catalog.root, catalog.securities,
                              fees_in_config=engine.build().fees_in_config())
    prepared = []
    sample = None
    for index, ref in enumerate(order_for_rungs(tuple(catalog))):
        loaded = load_shard(ref)
        market = prepare_market(loaded.events, loaded.instrument)
        prepared.append(PreparedShard(index, ref.security, ref.date, market, loaded.instrument,
                                      len(loaded)))
        if sample is None:
            small = loaded.events[: min(len(loaded), WARM_SAMPLE_EVENTS)]
            sample = PreparedShard(-1, ref.security, ref.date,
                                   prepare_market(small, loaded.instrument), loaded.instrument,
                                   len(small))
    return ShardSet(tuple(prepared), catalog, sample)
