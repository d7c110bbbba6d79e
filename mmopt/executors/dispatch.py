"""Which shard owner runs which call: affinity, largest first, work stealing, lost owners.

Pure bookkeeping (no Ray), driven by ``RayExecutor``. Each call is a ``Job`` named by the key
of its first ``Resident`` argument (its shard). A shard's first job makes it the shard of the
owner with the fewest bytes assigned (largest shards first, so the sizes even out); every later
job of that shard goes to that owner, which keeps the shard prepared. An owner runs at most
``slots`` jobs at once (one running, the next already queued in its process); the rest wait
here, in (submission round, largest shard first, submission order). An owner with nothing
running and nothing queued steals a waiting job from the owner with the longest queue,
preferring a shard it already read. When an owner is lost, its shards lose their owner (the
next job assigns them again) and its jobs wait again; a running job counts an attempt, and
fails for good past ``max_retries``. A job's result is taken once: a job is never counted twice.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from mmopt.executors.resident import residents_in

__all__ = ["Dispatcher", "Job", "Owner"]


@dataclass(eq=False)
class Job:
    """One call: ``fn(*args)`` on the owner of shard ``key`` (any owner when None)."""

    fn: Any
    args: tuple[Any, ...]
    key: str | None
    size: int
    seq: int
    round: int
    attempts: int = 0
    owner: Owner | None = None
    handle: Any = None  # the executor's reference to the running call
    done: bool = False
    value: Any = None
    error: str | None = None

    def order(self) -> tuple[int, int, int]:
        return (self.round, -self.size, self.seq)

    def finish(self, value: Any = None, error: str | None = None) -> None:
        self.done, self.value, self.error, self.handle = True, value, error, None


@dataclass(eq=False)
class Owner:
    """One long-lived worker (a Ray actor) and the shards and jobs it has."""

    index: int
    actor: Any
    node: str = "?"
    ready: bool = True  # warmed (only ready owners get jobs)
    alive: bool = True
    queue: list[Job] = field(default_factory=list)
    running: list[Job] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # shard keys sent here
    assigned_bytes: int = 0

    @property
    def idle(self) -> bool:
        return not self.running and not self.queue


class Dispatcher:
    """Affinity, ordering, stealing and retries over a set of owners (module docstring)."""

    def __init__(self, max_retries: int, slots: int = 2) -> None:
        self.max_retries = max_retries
        self.slots = slots
        self.owners: list[Owner] = []
        self.owner_of: dict[str, Owner] = {}
        self.waiting: list[Job] = []  # not yet given to an owner
        self.round = 0
        self.n_stolen = 0
        self.n_retried = 0
        self.n_lost = 0
        self._seq = itertools.count()

    # -- owners -----------------------------------------------------------------------------
    def add_owner(self, actor: Any, node: str = "?", ready: bool = True) -> Owner:
        owner = Owner(len(self.owners), actor, node, ready)
        self.owners.append(owner)
        return owner

    def live(self) -> list[Owner]:
        return [o for o in self.owners if o.alive and o.ready]

    def lose(self, owner: Owner) -> list[Job]:
        """``owner`` is gone: its shards lose their owner, its jobs wait again (running ones
        count an attempt); returns the jobs that failed for good (past ``max_retries``)."""
        if not owner.alive:
            return []
        owner.alive = False
        self.n_lost += 1
        for key in [k for k, o in self.owner_of.items() if o is owner]:
            del self.owner_of[key]
        failed = []
        for job in owner.running:
            job.attempts += 1
            job.owner = job.handle = None
            if job.attempts > self.max_retries:
                job.finish(error=f"its shard owner (node {owner.node}) was lost "
                                 f"{job.attempts} times (executor.max_retries={self.max_retries})")
                failed.append(job)
            else:
                self.n_retried += 1
                self.waiting.append(job)
        for job in owner.queue:
            job.owner = None
            self.waiting.append(job)
        owner.running, owner.queue = [], []
        return failed

    # -- jobs -------------------------------------------------------------------------------
    def add(self, fn: Any, args: tuple[Any, ...]) -> Job:
        residents = residents_in(args)
        key = residents[0].cache_key() if residents else None
        size = residents[0].size_hint() if residents else 0
        job = Job(fn, args, key, size, next(self._seq), self.round)
        self.waiting.append(job)
        return job

    def next_round(self) -> None:
        """Jobs added from now on come after the ones already added (the driver waits)."""
        self.round += 1

    def _assign_waiting(self) -> None:
        live = self.live()
        if not live:
            return
        for job in sorted(self.waiting, key=Job.order):
            owner = self.owner_of.get(job.key) if job.key is not None else None
            if owner is None:
                owner = min(live, key=lambda o: (o.assigned_bytes if job.key is not None
                                                 else len(o.running) + len(o.queue), o.index))
                if job.key is not None:
                    self.owner_of[job.key] = owner
                    owner.assigned_bytes += job.size
            job.owner = owner
            owner.queue.append(job)
        self.waiting = []

    def to_start(self) -> list[Job]:
        """Jobs to hand to their owner now (``job.owner`` says which), in order."""
        self._assign_waiting()
        starts = []
        for owner in self.live():
            while len(owner.running) < self.slots:
                job = self._next_for(owner)
                if job is None:
                    break
                job.owner = owner
                owner.running.append(job)
                if job.key is not None:
                    owner.seen.add(job.key)
                starts.append(job)
        return starts

    def _next_for(self, owner: Owner) -> Job | None:
        if owner.queue:
            job = min(owner.queue, key=Job.order)
            owner.queue.remove(job)
            return job
        if owner.running:
            return None  # not idle: no stealing
        victims = [o for o in self.live() if o is not owner and o.queue]
        if not victims:
            return None
        victim = max(victims, key=lambda o: (len(o.queue), -o.index))
        known = [j for j in victim.queue if j.key in owner.seen]
        job = min(known or victim.queue, key=Job.order)
        victim.queue.remove(job)
        self.n_stolen += 1
        return job

    def finished(self, job: Job, value: Any = None, error: str | None = None) -> None:
        """``job`` ran on its owner (its value, or the error of the call itself)."""
        owner = job.owner
        if owner is not None and job in owner.running:
            owner.running.remove(job)
        job.finish(value, error)

    def fail_all(self, reason: str) -> None:
        """No owner is left: every job not done fails with ``reason``."""
        jobs = list(self.waiting)
        for owner in self.owners:
            jobs += owner.running + owner.queue
            owner.running, owner.queue = [], []
        self.waiting = []
        for job in jobs:
            if not job.done:
                job.finish(error=reason)
