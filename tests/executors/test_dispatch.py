"""Which owner runs which call (``Dispatcher``, no Ray) and the shard cache's LRU budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mmopt.executors import Resident, ShardCache
from mmopt.executors.dispatch import Dispatcher


@dataclass(frozen=True)
class FakeShard(Resident):
    name: str
    disk: int
    memory: int = 100

    def cache_key(self) -> str:
        return self.name

    def size_hint(self) -> int:
        return self.disk

    def data_root(self) -> str:
        return "root"

    def check_readable(self) -> None:
        return None

    def prepare(self) -> tuple[Any, int]:
        return f"prepared {self.name}", self.memory


def _fn() -> None:
    return None


def _run_all(d: Dispatcher) -> list[tuple[str | None, int]]:
    """Start and finish everything; (shard key, owner index) in start order."""
    out = []
    while starts := d.to_start():
        for job in starts:
            assert job.owner is not None
            out.append((job.key, job.owner.index))
            d.finished(job, value=1)
    return out


def test_largest_shards_first_and_spread_by_bytes() -> None:
    d = Dispatcher(max_retries=1, slots=1)
    d.add_owner("a")
    d.add_owner("b")
    for name, size in (("s1", 10), ("s2", 40), ("s3", 30), ("s4", 20)):
        d.add(_fn, ("spec", FakeShard(name, size)))
    first = d.to_start()
    assert [(j.key, j.owner.index) for j in first if j.owner] == [("s2", 0), ("s3", 1)]
    # owner 0 has s2 (40), owner 1 s3 (30) then s4 (20): 50 vs 40 -> s1 goes to owner 0
    assert d.owner_of["s4"].index == 1 and d.owner_of["s1"].index == 0


def test_a_shard_stays_with_its_owner_across_rounds() -> None:
    d = Dispatcher(max_retries=1, slots=2)
    for name in ("a", "b"):
        d.add_owner(name)
    shards = [FakeShard(f"s{i}", 10 * (i + 1)) for i in range(4)]
    for _ in range(3):
        for s in shards:
            d.add(_fn, ("spec", s))
        d.next_round()
        ran = _run_all(d)
        assert {key: owner for key, owner in ran} == {
            k: o.index for k, o in d.owner_of.items()}
    assert d.n_stolen == 0


def test_an_idle_owner_steals_preferring_a_shard_it_read() -> None:
    d = Dispatcher(max_retries=1, slots=1)
    d.add_owner("a")
    d.add_owner("b")
    big = FakeShard("big", 100)
    small = FakeShard("small", 1)
    d.add(_fn, ("spec", big))
    d.add(_fn, ("spec", small))
    starts = d.to_start()
    assert len(starts) == 2  # big on owner 0, small on owner 1
    for _ in range(3):
        d.add(_fn, ("spec", big))  # all queued on owner 0, which is busy
    small_job = next(j for j in starts if j.key == "small")
    d.finished(small_job, value=1)
    stolen = d.to_start()
    assert [(j.key, j.owner.index) for j in stolen if j.owner] == [("big", 1)]
    assert d.n_stolen == 1 and d.owner_of["big"].index == 0


def test_a_lost_owner_gives_back_its_shards_and_retries_its_jobs_once() -> None:
    d = Dispatcher(max_retries=1, slots=1)
    a, b = d.add_owner("a"), d.add_owner("b")
    jobs = [d.add(_fn, ("spec", FakeShard(f"s{i}", 10 - i))) for i in range(4)]
    running = d.to_start()
    on_a = next(j for j in running if j.owner is a)
    assert d.lose(a) == []
    assert not any(o is a for o in d.owner_of.values())
    again = d.to_start()
    assert on_a not in again  # b is busy: the retried job waits
    for job in running:
        if job.owner is b:
            d.finished(job, value=1)
    _run_all(d)
    assert all(j.done and j.error is None for j in jobs)
    assert on_a.attempts == 1 and d.n_retried == 1
    # lost again past max_retries: fails for good, once
    c = d.add_owner("c")
    job = d.add(_fn, ("spec", FakeShard("x", 1)))
    job.attempts = 1
    d.lose(b)
    d.to_start()
    assert job.owner is c
    assert d.lose(c) == [job] and job.done and "max_retries=1" in (job.error or "")


@pytest.mark.parametrize("budget", [None, 250])
def test_shard_cache_keeps_within_budget_and_rereads(budget: int | None) -> None:
    cache = ShardCache(budget)
    shards = [FakeShard(f"s{i}", 1) for i in range(3)]
    for _ in range(2):
        for s in shards:
            assert cache.resolve(("x", s)) == ("x", f"prepared {s.name}")
    stats = cache.stats()
    if budget is None:
        assert stats.n_reads == 3 and stats.hits == 3 and stats.n_evictions == 0
    else:  # two fit: every access of the cycle misses (LRU), never above the budget
        assert stats.n_reads == 6 and stats.held_bytes <= budget and stats.peak_bytes <= 300
    big = FakeShard("big", 1, memory=1000)
    assert cache.get(big) == "prepared big"  # alone over the budget: kept while in use
    assert "big" in cache.held()
