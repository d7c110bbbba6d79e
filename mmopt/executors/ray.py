"""Ray shard owners: a local runtime on this machine, or the cluster at ``executor.address``.

A local runtime (``executor.address`` null or ``local``) listens on 127.0.0.1 only, keeps its
files in ``executor.temp_dir`` and leaves no process behind (``ray_runtime``); joining a
cluster is the user's explicit choice and changes nothing there but the actors it starts (and
kills at ``close``).

Every call runs on a long-lived ``ShardOwner`` actor, one per CPU of the cluster (spread over
the nodes). Shards are passed as ``Resident`` names, never as data: the ``Dispatcher`` sends
each call to the owner of its shard, which reads and prepares the shard once and keeps it
(``executor.shard_cache_mb``). ``put`` stores other values (the work spec) once in the object
store. An owner that dies (its process killed, its node lost) is dropped: its shards go to the
others, its calls are retried up to ``max_retries`` times (each result is taken once). New
owners are started, warmed, on CPUs that come free or join the cluster. See docs/scale.md.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from mmopt.config import ExecutorConfig
from mmopt.errors import ConfigError
from mmopt.executors._errors import TaskError
from mmopt.executors.dispatch import Dispatcher, Job, Owner
from mmopt.executors.ray_runtime import LocalRuntime
from mmopt.executors.resident import Resident
from mmopt.executors.shard_cache import CacheStats, budget_bytes
from mmopt.executors.shard_owner import ShardOwner
from mmopt.redact import mask_secrets

__all__ = ["RayExecutor"]

POLL_S = 0.5
GROW_EVERY_S = 2.0  # how often free CPUs are looked for (after ``warm``)
START_TIMEOUT_S = 120.0  # an owner not warmed by then (no CPU for it) is given up
NO_OWNER_GRACE_S = 120.0  # how long the calls wait with no owner live or starting


class RayExecutor:
    """Shard-owning Ray actors behind the ``Executor`` protocol (see the module docstring)."""

    name = "ray"

    def __init__(self, config: ExecutorConfig) -> None:
        import ray

        self._ray = ray
        self._owns_runtime = False
        self.runtime: LocalRuntime | None = None  # the local runtime this executor started
        self.warmed_pids: set[int] = set()  # owner processes ``warm`` ran in
        if not ray.is_initialized():
            self._init_runtime(config)
            self._owns_runtime = True
        self._budget = budget_bytes(config.shard_cache_mb)
        self._actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(
            ShardOwner)
        self.dispatch = Dispatcher(config.max_retries)
        self._in_flight: dict[Any, Job] = {}
        self._starting: dict[Any, tuple[Owner, float]] = {}  # warm call -> new owner, started
        self._warm_call: tuple[Callable[..., Any], tuple[Any, ...]] | None = None
        self._last_grow = 0.0
        self._no_owner_since: float | None = None  # since when no owner is live or starting
        self._t0 = time.monotonic()
        self._closed = False
        for _ in range(self.n_workers):
            self.dispatch.add_owner(self._new_actor())

    def _init_runtime(self, config: ExecutorConfig) -> None:
        try:
            if config.address in (None, "local"):
                self.runtime = LocalRuntime.start(
                    self._ray, config.num_cpus or os.cpu_count() or 1, config.temp_dir)
            else:
                self._ray.init(address=config.address, include_dashboard=False,
                               log_to_driver=False, logging_level=logging.WARNING,
                               configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = mask_secrets(config.address or "a local runtime")
            raise ConfigError(
                f"executor.address: could not start or join Ray at {where}: "
                f"{mask_secrets(exc)} (fix: check the address, or use executor.address=null "
                "for a local runtime)"
            ) from None

    def _new_actor(self) -> Any:
        return self._actor_class.options(scheduling_strategy="SPREAD").remote(self._budget)

    @property
    def n_workers(self) -> int:
        cpus = self._ray.cluster_resources().get("CPU", 1)
        return max(1, int(cpus))

    def owner_actors(self) -> list[Any]:
        """The actor handles of the owners in use (tests kill one to see the sweep survive)."""
        return [o.actor for o in self.dispatch.live()]

    def cache_stats(self) -> list[tuple[str, CacheStats]]:
        """(node, cache statistics) of every owner in use."""
        return list(self._ray.get([a.stats.remote() for a in self.owner_actors()]))

    # -- the protocol -----------------------------------------------------------------------
    def put(self, value: Any) -> Any:
        if isinstance(value, Resident):
            return value  # read by its owner, never shipped
        return self._ray.put(value)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Job:
        return self.dispatch.add(fn, args)

    def wait(self, pending: Sequence[Any], timeout_s: float) -> bool:
        jobs = [self._job(p) for p in pending]
        self.dispatch.next_round()
        deadline = time.monotonic() + timeout_s
        while True:
            self._pump()
            self._collect_ready()  # a timeout of 0 is a poll: it still sees what finished
            if all(j.done for j in jobs):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            refs = [*self._in_flight, *self._starting]
            if not refs:
                if self._no_owner_left():
                    self.dispatch.fail_all(
                        f"no shard owner is left: every Ray worker died and no CPU came free "
                        f"for one in {NO_OWNER_GRACE_S:.0f} s; see the Ray logs")
                    continue
                time.sleep(min(remaining, POLL_S))  # CPUs of lost owners come free
                continue
            self._ray.wait(refs, num_returns=1, timeout=min(remaining, POLL_S),
                           fetch_local=True)

    def _no_owner_left(self) -> bool:
        """True once no owner has been live or starting for ``NO_OWNER_GRACE_S`` (the calls
        then fail; ``_pump`` meanwhile looks for a free CPU at every poll)."""
        now = time.monotonic()
        if self.dispatch.live() or self._starting:
            self._no_owner_since = None
            return False
        if self._no_owner_since is None:
            self._no_owner_since = now
            self._note(f"no shard owner is live; waiting up to {NO_OWNER_GRACE_S:.0f} s for a "
                       "CPU to start one on")
        return now - self._no_owner_since >= NO_OWNER_GRACE_S

    def _note(self, text: str) -> None:
        """A line on stderr for the sweep's log, with the seconds since the executor started."""
        print(f"note: [{time.monotonic() - self._t0:.1f} s] {text}", file=sys.stderr)

    def _collect_ready(self) -> None:
        """Take the result of every call (and new owner) that has finished, without blocking."""
        refs = [*self._in_flight, *self._starting]
        if not refs:
            return
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
        for ref in ready:
            self._collect(ref)

    def result(self, pending: Any) -> Any:
        job = self._job(pending)
        if not job.done:
            self.wait([job], float("inf"))
        if job.error is not None:
            raise TaskError(job.error)
        return job.value

    def warm(self, fn: Callable[..., Any], *args: Any) -> float:
        """Warm one owner first (on a fresh checkout it compiles the kernels and writes
        numba's cache), then every other at once (they load the cache). Each first checks it
        can read the data (``Resident`` arguments): a node that cannot fails here, named.
        An owner that finds no CPU within ``START_TIMEOUT_S`` (the CPU of a node lost just
        before, still counted) or dies while warming is dropped; the others go on."""
        start = time.perf_counter()
        self._warm_call = (fn, args)
        try:
            self._drop_unplaced(self.dispatch.live())
            owners = self.dispatch.live()
            for group in (owners[:1], owners[1:]):
                calls = [(o, o.actor.warm.remote(fn, *args)) for o in group]
                for owner, call in calls:
                    self._warmed(owner, call)
        except TaskError:
            raise
        except Exception as exc:
            raise TaskError(f"warming the Ray shard owners failed: {_cause(exc)}") from None
        if not self.dispatch.live():
            raise TaskError("no Ray shard owner could start: every one was lost or found no "
                            f"free CPU within {START_TIMEOUT_S:.0f} s (see the Ray logs)")
        if self.runtime is not None:
            self.runtime.remember_processes()
        return time.perf_counter() - start

    def _drop_unplaced(self, owners: list[Owner]) -> None:
        """Wait for ``owners`` to be placed on a CPU; drop those that are not in time."""
        calls = {o.actor.node.remote(): o for o in owners}
        if not calls:
            return
        ready, late = self._ray.wait(list(calls), num_returns=len(calls),
                                     timeout=START_TIMEOUT_S)
        for ref in ready:
            try:
                calls[ref].node = self._ray.get(ref)
            except _owner_lost_errors() as exc:
                self._lost(calls[ref], exc)
        for ref in late:
            owner = calls[ref]
            self._note(f"shard owner {owner.index} found no free CPU in {START_TIMEOUT_S:.0f} s "
                       "(a node lost?); the sweep goes on without it")
            self._kill(owner)

    def _warmed(self, owner: Owner, call: Any) -> None:
        """Wait for ``owner``'s warm call; an owner that died meanwhile is dropped."""
        try:
            pid, _, node = self._ray.get(call)
        except _owner_lost_errors() as exc:
            self._lost(owner, exc)
            return
        self.warmed_pids.add(pid)
        owner.node = node

    def close(self) -> None:
        """Stop the owners; shut down a runtime this executor started (and reap it)."""
        if self._closed:
            return
        self._closed = True
        self._in_flight.clear()
        self._starting.clear()
        if self._ray.is_initialized():
            for owner in self.dispatch.owners:
                if owner.alive:
                    self._kill(owner)
        if not (self._owns_runtime and self._ray.is_initialized()):
            return
        if self.runtime is not None:
            self.runtime.shutdown(self._ray)
        else:
            self._ray.shutdown()

    # -- inside ------------------------------------------------------------------------------
    @staticmethod
    def _job(pending: Any) -> Job:
        if not isinstance(pending, Job):
            raise TypeError(f"not a RayExecutor call: {pending!r}")
        return pending

    def _pump(self) -> None:
        """Start what can start; look for free CPUs (a lost owner's, a node that joined) once
        the owners are warmed, every ``GROW_EVERY_S`` or at once when no owner is live; give up
        new owners that found no CPU."""
        for job in self.dispatch.to_start():
            assert job.owner is not None
            ref = job.owner.actor.run.remote(job.fn, *job.args)
            job.handle = ref
            self._in_flight[ref] = job
        now = time.monotonic()
        for ref, (owner, started) in list(self._starting.items()):
            if now - started > START_TIMEOUT_S:
                del self._starting[ref]
                owner.ready = False
                self._kill(owner)
                self._note(f"new shard owner {owner.index} was not warmed within "
                           f"{START_TIMEOUT_S:.0f} s (no CPU for it?); given up")
        no_owner = not self.dispatch.live()  # then look for a CPU at every poll
        if self._warm_call is not None and (no_owner or now - self._last_grow > GROW_EVERY_S):
            self._last_grow = now
            self._grow()

    def _grow(self) -> None:
        """Start owners on free CPUs (a lost owner's CPU, a node that joined)."""
        if self._starting:
            return
        free = int(self._ray.available_resources().get("CPU", 0))
        for _ in range(free):
            owner = self.dispatch.add_owner(self._new_actor(), ready=False)
            if self._warm_call is None:
                call = owner.actor.node.remote()
            else:
                fn, args = self._warm_call
                call = owner.actor.warm.remote(fn, *args)
            self._starting[call] = (owner, time.monotonic())

    def _collect(self, ref: Any) -> None:
        from ray.exceptions import RayError, RayTaskError

        if ref in self._starting:
            self._started(ref)
            return
        job = self._in_flight.pop(ref, None)
        if job is None or job.handle is not ref:
            return  # a call of a lost owner, already given to another: never counted twice
        try:
            value = self._ray.get(ref)
        except _owner_lost_errors() as exc:
            # the owner died, or its node did and took the result with it (a result in the
            # node's object store is lost even when the call had finished): a lost owner
            assert job.owner is not None
            self._lost(job.owner, exc)
            return
        except RayTaskError as exc:
            cause = exc.cause if exc.cause is not None else exc
            self.dispatch.finished(job, error=f"{type(cause).__name__}: {cause}")
            return
        except RayError as exc:
            self.dispatch.finished(job, error=f"{type(exc).__name__}: {exc}")
            return
        self.dispatch.finished(job, value)

    def _started(self, ref: Any) -> None:
        owner, _ = self._starting.pop(ref)
        try:
            done = self._ray.get(ref)
        except Exception as exc:
            self._note(f"new shard owner {owner.index} could not start: {_cause(exc)}")
            owner.ready = False
            self._kill(owner)
            return
        if isinstance(done, tuple):
            pid, _, owner.node = done
            self.warmed_pids.add(pid)
        else:
            owner.node = done
        owner.ready = True
        self._note(f"new shard owner {owner.index} started on node {owner.node}")
        if self.runtime is not None:
            self.runtime.remember_processes()

    def _lost(self, owner: Owner, exc: Exception) -> None:
        n_shards = sum(1 for o in self.dispatch.owner_of.values() if o is owner)
        failed = self.dispatch.lose(owner)
        for ref in [r for r, j in self._in_flight.items() if j.handle is not r]:
            del self._in_flight[ref]
        self._kill(owner)
        self._note(f"shard owner {owner.index} on node {owner.node} was lost "
                   f"({type(exc).__name__}); its {n_shards} shard(s) go to the other owners and "
                   f"its calls are retried ({len(failed)} past executor.max_retries)")

    def _kill(self, owner: Owner) -> None:
        owner.alive = False
        try:
            self._ray.kill(owner.actor, no_restart=True)
        except Exception:  # already gone
            return


def _owner_lost_errors() -> tuple[type[Exception], ...]:
    """Ray's errors that mean a call's owner (or the node holding its result) is gone, not that
    the call itself failed: the call is retried elsewhere (``executor.max_retries``)."""
    from ray.exceptions import (
        LocalRayletDiedError,
        NodeDiedError,
        ObjectLostError,
        RayActorError,
        WorkerCrashedError,
    )

    return (RayActorError, ObjectLostError, NodeDiedError, WorkerCrashedError,
            LocalRayletDiedError)


def _cause(exc: BaseException) -> str:
    from ray.exceptions import RayTaskError

    if isinstance(exc, RayTaskError) and exc.cause is not None:
        return f"{type(exc.cause).__name__}: {exc.cause}"
    return f"{type(exc).__name__}: {exc}"
