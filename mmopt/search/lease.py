"""The driver lease: at most one driver writes to a study, and it stops when it loses the lease.

One row per study, changed only by single-statement compare-and-set, so that of several
drivers started together exactly one wins:

* ``acquire``: insert the row (the primary key admits one), or take it over when its
  heartbeat is older than ``timeout_s`` or its holder is a dead process on this host (an
  update conditioned on the old holder: two drivers taking over together, one wins).
* ``renew``: the heartbeat; an update conditioned on our lease id. False means another driver
  took the study over: the caller stops without writing (``StudyWriter`` renews before each
  write as well).
* ``release``: delete the row if it is still ours (a clean exit: the next driver starts at once).

Where the row lives: SQL storages (``sqlite:///``, ``postgresql://``, ...) keep it in a table
``mmopt_driver_lease`` of the same database; a journal file ``F`` in the SQLite file
``F.lease.db`` beside it; Redis in the key ``mmopt:lease:<study>`` (compare-and-set with
``WATCH``/``MULTI``). Heartbeat times are the drivers' wall clocks: hosts that share a study need
clocks closer than ``timeout_s``.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from mmopt.errors import ConfigError, MmoptError

__all__ = [
    "LEASE_TABLE",
    "DriverLease",
    "LeaseHolder",
    "LeaseLostError",
    "heartbeat_s",
    "make_lease",
]

LEASE_TABLE = "mmopt_driver_lease"
_INIT_TRIES = 8


class LeaseLostError(MmoptError):
    """Another driver took the study over (this one was paused or cut off for too long)."""


def heartbeat_s(timeout_s: float) -> float:
    """How often a driver renews its lease: several times per timeout, at most every 5 s."""
    return min(5.0, timeout_s / 4.0)


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds (or wants) a study's lease."""

    lease_id: str
    host: str
    pid: int
    beat: float  # epoch seconds of the last heartbeat

    @classmethod
    def this_process(cls) -> LeaseHolder:
        return cls(uuid.uuid4().hex, socket.gethostname(), os.getpid(), time.time())

    def describe(self, now: float) -> str:
        return f"pid {self.pid} on {self.host} (heartbeat {max(0.0, now - self.beat):.0f} s ago)"

    def is_stale(self, now: float, timeout_s: float) -> bool:
        """Its heartbeat is too old, or it is a dead process on this host."""
        if now - self.beat > timeout_s:
            return True
        return self.host == socket.gethostname() and not _pid_alive(self.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: dead for us
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class DriverLease(Protocol):
    """One study's lease as seen by one driver (see the module docstring)."""

    holder: LeaseHolder  # this driver

    def acquire(self) -> None:
        """Take the lease; ConfigError naming the live holder if another driver has it."""

    def renew(self) -> bool:
        """Refresh our heartbeat; False if the lease is no longer ours."""

    def release(self) -> None:
        """Give the lease up if it is still ours."""

    def close(self) -> None:
        """Free the connection (does not release)."""


def _refused(study: str, where: str, holder: LeaseHolder, timeout_s: float) -> ConfigError:
    return ConfigError(
        f"study.name: study {study!r} in {where} is being run by another driver "
        f"({holder.describe(time.time())}); stop it first, or wait {timeout_s:.0f} s "
        "(study.lease_timeout_s) if it died"
    )


class SqlLease:
    """The lease as a row of ``mmopt_driver_lease`` in a SQL database (SQLAlchemy Core)."""

    def __init__(self, url: str, study: str, timeout_s: float, where: str) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self.study, self.timeout_s, self.where = study, timeout_s, where
        self.holder = LeaseHolder.this_process()
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 60}} if url.startswith(
            "sqlite") else {"pool_pre_ping": True}
        self._engine = sa.create_engine(url, **kwargs)
        self._table = sa.Table(
            LEASE_TABLE, sa.MetaData(),
            sa.Column("study_name", sa.String(512), primary_key=True),
            sa.Column("lease_id", sa.String(64), nullable=False),
            sa.Column("host", sa.String(255), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
            sa.Column("beat", sa.Float, nullable=False),
        )
        _retry_concurrent_init(lambda: self._table.create(self._engine, checkfirst=True))

    def acquire(self) -> None:
        sa, table = self._sa, self._table
        now = time.time()
        row = {"study_name": self.study, "lease_id": self.holder.lease_id,
               "host": self.holder.host, "pid": self.holder.pid, "beat": now}
        try:
            with self._engine.begin() as conn:
                conn.execute(table.insert().values(**row))
            return
        except sa.exc.IntegrityError:
            pass  # held, or left behind by a driver that did not release it
        current = self._current()
        if current is None:  # released meanwhile: try again from the start
            return self.acquire()
        if not current.is_stale(now, self.timeout_s):
            raise _refused(self.study, self.where, current, self.timeout_s)
        with self._engine.begin() as conn:
            taken = conn.execute(
                table.update()
                .where(table.c.study_name == self.study, table.c.lease_id == current.lease_id,
                       table.c.beat == current.beat)
                .values(**row)
            ).rowcount
        if taken != 1:  # another driver took it over first
            raise _refused(self.study, self.where, self._current() or current, self.timeout_s)

    def renew(self) -> bool:
        table = self._table
        with self._engine.begin() as conn:
            return bool(conn.execute(
                table.update()
                .where(table.c.study_name == self.study,
                       table.c.lease_id == self.holder.lease_id)
                .values(beat=time.time())
            ).rowcount == 1)

    def release(self) -> None:
        table = self._table
        with self._engine.begin() as conn:
            conn.execute(table.delete().where(table.c.study_name == self.study,
                                              table.c.lease_id == self.holder.lease_id))

    def close(self) -> None:
        self._engine.dispose()

    def _current(self) -> LeaseHolder | None:
        table = self._table
        with self._engine.connect() as conn:
            found = conn.execute(
                self._sa.select(table.c.lease_id, table.c.host, table.c.pid, table.c.beat)
                .where(table.c.study_name == self.study)
            ).first()
        if found is None:
            return None
        return LeaseHolder(str(found[0]), str(found[1]), int(found[2]), float(found[3]))


def _retry_concurrent_init(create: Any) -> None:
    """Run ``create`` (a schema set-up); retry when a concurrent starter made it first."""
    import sqlalchemy as sa

    for attempt in range(_INIT_TRIES):
        try:
            create()
            return
        except (sa.exc.IntegrityError, sa.exc.OperationalError, sa.exc.ProgrammingError):
            if attempt == _INIT_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class RedisLease:
    """The lease as a Redis key, changed by ``WATCH``/``MULTI`` compare-and-set."""

    def __init__(self, url: str, study: str, timeout_s: float, where: str) -> None:
        import redis

        self._redis = redis
        self._client = redis.Redis.from_url(url)
        self.study, self.timeout_s, self.where = study, timeout_s, where
        self.key = f"mmopt:lease:{study}"
        self.holder = LeaseHolder.this_process()

    def _value(self) -> bytes:
        h = self.holder
        return json.dumps({"lease_id": h.lease_id, "host": h.host, "pid": h.pid,
                           "beat": time.time()}).encode()

    @staticmethod
    def _parse(raw: Any) -> LeaseHolder | None:
        if raw is None:
            return None
        d = json.loads(raw)
        return LeaseHolder(str(d["lease_id"]), str(d["host"]), int(d["pid"]), float(d["beat"]))

    def _swap(self, decide: Any) -> tuple[bool, LeaseHolder | None]:
        """Set (or delete) the key when ``decide(current)`` says so, atomically."""
        with self._client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.key)
                    current = self._parse(pipe.get(self.key))
                    action = decide(current)
                    if action is None:
                        pipe.unwatch()
                        return False, current
                    pipe.multi()
                    if action == "delete":
                        pipe.delete(self.key)
                    else:
                        pipe.set(self.key, self._value())
                    pipe.execute()
                    return True, current
                except self._redis.WatchError:
                    continue

    def acquire(self) -> None:
        now = time.time()
        ok, current = self._swap(lambda cur: "set" if cur is None or cur.is_stale(
            now, self.timeout_s) else None)
        if not ok:
            assert current is not None
            raise _refused(self.study, self.where, current, self.timeout_s)

    def renew(self) -> bool:
        ok, _ = self._swap(lambda cur: "set" if cur is not None
                           and cur.lease_id == self.holder.lease_id else None)
        return ok

    def release(self) -> None:
        self._swap(lambda cur: "delete" if cur is not None
                   and cur.lease_id == self.holder.lease_id else None)

    def close(self) -> None:
        self._client.close()


def make_lease(url: str, study: str, timeout_s: float, where: str) -> DriverLease:
    """The lease of study ``study`` in the Optuna storage ``url`` (``where``: the URL to show)."""
    if url.startswith("journal:///"):
        return SqlLease(f"sqlite:///{url[len('journal:///'):]}.lease.db", study, timeout_s,
                        where)
    if url.startswith(("redis://", "rediss://")):
        return RedisLease(url, study, timeout_s, where)
    return SqlLease(url, study, timeout_s, where)
