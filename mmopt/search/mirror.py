"""The driver's working study in memory, mirrored to persistent storage by a background thread.

Optuna's persistent storages cost 5-40 ms per trial here (every suggest, report and attribute
is a round trip), so the driver asks and tells on an in-memory study and a writer thread copies
each finished trial to the persistent study in one call (``create_new_trial`` with the trial
as template), in trial-number order, while it holds the driver lease (``mmopt.search.lease``:
a second driver is refused; a driver that lost the lease to another writes nothing more).
The persistent study also holds, as a study system attr:

* ``mmopt:in_flight``: the trials running now (number and parameters), written in order with
  the finished trials. When a new driver takes over from a dead one, each in-flight trial that
  never reached the storage is written as FAIL (user attrs ``error``, ``mmopt.requeue``) and
  its parameters are enqueued again, so it is re-asked and counted once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from mmopt.errors import MmoptError
from mmopt.redact import mask_secrets
from mmopt.search.lease import DriverLease, LeaseLostError
from mmopt.search.storage import PersistentStudy

__all__ = [
    "ATTR_ERROR",
    "ATTR_REQUEUE",
    "ATTR_RETRY_OF",
    "StudyWriter",
    "TrialCounts",
    "count_trials",
    "counts_toward_total",
    "load_working_study",
    "take_over",
]

IN_FLIGHT_KEY = "mmopt:in_flight"
ATTR_ERROR = "error"
ATTR_REQUEUE = "mmopt.requeue"
ATTR_RETRY_OF = "mmopt.retry_of"
RENEW_BEFORE_WRITE_S = 1.0  # a write first renews the lease if it is older than this


def counts_toward_total(trial: FrozenTrial) -> bool:
    """Finished and not to be re-run: complete, pruned, or failed by its own evaluation."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and not trial.user_attrs.get(ATTR_REQUEUE, False)


@dataclass(frozen=True, slots=True)
class TrialCounts:
    """A study's trials by outcome, as the sweep, ``mmopt show`` and the tracker report them."""

    complete: int
    pruned: int
    failed: int  # failed by their own evaluation (they count toward n_trials)
    retried: int  # lost with a stopped driver; their parameters are (or will be) re-run
    running: int


def count_trials(trials: Sequence[FrozenTrial]) -> TrialCounts:
    """Count ``trials``; a FAIL trial whose parameters are re-run is retried, not failed."""
    fail = [t for t in trials if t.state == TrialState.FAIL]
    retried = sum(not counts_toward_total(t) for t in fail)
    return TrialCounts(
        complete=sum(t.state == TrialState.COMPLETE for t in trials),
        pruned=sum(t.state == TrialState.PRUNED for t in trials),
        failed=len(fail) - retried,
        retried=retried,
        running=sum(t.state == TrialState.RUNNING for t in trials),
    )


def take_over(
    persistent: PersistentStudy, distributions: dict[str, BaseDistribution], lease: DriverLease
) -> list[FrozenTrial]:
    """Claim the study for this driver (``lease.acquire``); fail what a dead driver left running.

    Returns every trial of the study (by number), lost ones now FAIL. The study is read again
    once the lease is ours: a driver that held it until now may have written more.
    """
    lease.acquire()
    storage, study_id = persistent.storage, persistent.study_id
    attrs = storage.get_study_system_attrs(study_id)
    trials = sorted(storage.get_all_trials(study_id, deepcopy=False), key=lambda t: t.number)
    for t in trials:
        if t.state in (TrialState.RUNNING, TrialState.WAITING):
            _fail_in_place(storage, study_id, t)
    stored = {t.number for t in trials}
    for number, params in sorted(attrs.get(IN_FLIGHT_KEY) or [], key=lambda e: e[0]):
        if number in stored:
            continue
        _lost_trial(storage, study_id, params, distributions)
    storage.set_study_system_attr(study_id, IN_FLIGHT_KEY, [])
    return sorted(storage.get_all_trials(study_id, deepcopy=False), key=lambda t: t.number)


_LOST = "the driver stopped before this trial finished; its parameters are re-run"


def _fail_in_place(storage: BaseStorage, study_id: int, trial: FrozenTrial) -> None:
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
    storage.set_trial_user_attr(trial_id, ATTR_ERROR, _LOST)
    storage.set_trial_user_attr(trial_id, ATTR_REQUEUE, True)
    storage.set_trial_state_values(trial_id, TrialState.FAIL)


def _lost_trial(storage: BaseStorage, study_id: int, params: dict[str, Any],
                distributions: dict[str, BaseDistribution]) -> FrozenTrial:
    kept = {k: v for k, v in params.items() if k in distributions
            and _fits(distributions[k], v)}
    now = optuna.trial.create_trial(state=TrialState.FAIL, params=kept,
                                    distributions={k: distributions[k] for k in kept},
                                    user_attrs={ATTR_ERROR: _LOST, ATTR_REQUEUE: True})
    storage.create_new_trial(study_id, template_trial=now)
    return now


def _fits(distribution: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is a value of ``distribution`` (a changed search space may drop it)."""
    if isinstance(distribution, CategoricalDistribution):
        return any(value == c for c in distribution.choices)  # (as Optuna: 3.0 is 3)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    assert isinstance(distribution, FloatDistribution | IntDistribution)
    if not distribution.low <= value <= distribution.high:
        return False
    step = distribution.step
    if step is None:
        return True
    ratio = (value - distribution.low) / step
    return abs(ratio - round(ratio)) < 1e-8


def load_working_study(
    trials: Sequence[FrozenTrial],
    name: str,
    directions: Sequence[str],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> tuple[optuna.Study, int]:
    """An in-memory study holding ``trials``, with lost trials enqueued again.

    Returns the study and how many trials were enqueued.
    """
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=sampler,
                                pruner=pruner, study_name=name,
                                directions=[optuna.study.StudyDirection[d.upper()]
                                            for d in directions])
    study.add_trials(trials)
    retried = {t.user_attrs[ATTR_RETRY_OF] for t in trials if ATTR_RETRY_OF in t.user_attrs}
    todo = [t for t in trials if t.state == TrialState.FAIL and t.user_attrs.get(ATTR_REQUEUE)
            and t.number not in retried]
    for t in todo:
        study.enqueue_trial(dict(t.params), user_attrs={ATTR_RETRY_OF: t.number})
    return study, len(todo)


def _storage_cause(exc: BaseException) -> str:
    """The database's own error behind Optuna's generic one ("An exception is raised during
    the commit ... e.g. exceeding max length" also when the server went away): its type and
    first line."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy's DBAPIError wraps the driver's
    lines = str(cause).strip().splitlines() or [""]
    package = type(cause).__module__.split(".")[0]
    name = type(cause).__name__ if package == "builtins" else f"{package}.{type(cause).__name__}"
    return f"{name}: {lines[0].strip()}"


class StudyWriter:
    """The background thread that writes to the persistent study (FIFO, one thread).

    It renews the driver lease every ``heartbeat_s`` and before any write when the last renewal
    is older than ``RENEW_BEFORE_WRITE_S``; once the lease is lost it writes nothing more and
    ``check`` raises ``LeaseLostError``.
    """

    def __init__(self, persistent: PersistentStudy, lease: DriverLease, heartbeat_s: float
                 ) -> None:
        self._persistent = persistent
        self._lease = lease
        self._heartbeat_s = heartbeat_s
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._error: BaseException | None = None
        self._renewed = time.monotonic()  # acquire() just wrote our heartbeat
        self.write_s = 0.0  # time spent writing (for the benchmarks)
        self._thread = threading.Thread(target=self._loop, name="mmopt-study-writer",
                                        daemon=True)
        self._thread.start()

    def persist(self, trials: Sequence[FrozenTrial]) -> None:
        """Copy finished trials (in the order given) to the persistent study."""
        self.check()
        if trials:
            self._queue.put(("trials", list(trials)))

    def set_in_flight(self, entries: Sequence[tuple[int, dict[str, Any]]]) -> None:
        self.check()
        self._queue.put(("in_flight", [[n, p] for n, p in entries]))

    def flush(self) -> None:
        """Wait until everything queued so far is written (or writing failed: ``check``)."""
        done = threading.Event()
        self._queue.put(("flush", done))
        while not done.wait(0.25):
            if not self._thread.is_alive():
                break
        self.check()

    def check(self) -> None:
        if isinstance(self._error, LeaseLostError):
            raise self._error
        if self._error is not None:
            raise MmoptError(mask_secrets(
                f"study.storage: writing to {self._persistent.url} failed: "
                f"{_storage_cause(self._error)}; the trials written before are in the study: "
                "once the storage is reachable again, run the same command to resume"))

    def close(self, release: bool = True) -> None:
        """Write everything queued, then release the lease (a later driver may start at once)."""
        if release:
            self._queue.put(("release", None))
        self._queue.put(("stop", None))
        self._thread.join()
        self._lease.close()
        self.check()

    def _loop(self) -> None:
        while True:
            try:
                kind, payload = self._queue.get(timeout=self._heartbeat_s)
            except queue.Empty:
                kind, payload = "beat", None
            if kind == "flush":
                payload.set()
                continue
            if kind == "stop":
                return
            if self._error is not None:
                continue
            try:
                start = time.perf_counter()
                self._write(kind, payload)
                self.write_s += time.perf_counter() - start
            except Exception as exc:  # reported to the driver by check()
                self._error = exc

    def _write(self, kind: str, payload: Any) -> None:
        if kind == "release":
            self._lease.release()
            return
        if kind == "beat":
            self._hold_lease(force=True)
            return
        storage, study_id = self._persistent.storage, self._persistent.study_id
        if kind == "trials":
            for trial in payload:  # (a pause may fall between two trials of a batch)
                self._hold_lease()
                storage.create_new_trial(study_id, template_trial=trial)
        elif kind == "in_flight":
            self._hold_lease()
            storage.set_study_system_attr(study_id, IN_FLIGHT_KEY, payload)

    def _hold_lease(self, force: bool = False) -> None:
        """Renew the lease if due (or ``force``); LeaseLostError if another driver has it."""
        if not force and time.monotonic() - self._renewed < RENEW_BEFORE_WRITE_S:
            return
        if not self._lease.renew():
            raise LeaseLostError(
                f"study {self._persistent.name!r} in {mask_secrets(self._persistent.url)} was "
                "taken over "
                "by another driver while this one was paused or cut off for longer than "
                "study.lease_timeout_s; this driver stopped without writing more (the "
                "other one goes on; its trials are in the study)"
            )
        self._renewed = time.monotonic()
