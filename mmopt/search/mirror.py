"""The driver's working study in memory, mirrored to persistent storage by a background thread.

Optuna's persistent storages cost 5-40 ms per trial here (every suggest, report and attribute
is a round trip), so the driver asks and tells on an in-memory study and a writer thread copies
each finished trial to the persistent study in one call (``create_new_trial`` with the trial
as template), in trial-number order. The persistent study also holds, as study system attrs:

* ``mmopt:driver``: the driver's lease (host, pid, heartbeat time), refreshed every few seconds;
  a second driver on a study whose lease is fresh is refused.
* ``mmopt:in_flight``: the trials running now (number and parameters), written in order with
  the finished trials. When a new driver takes over from a dead one, each in-flight trial that
  never reached the storage is written as FAIL (user attrs ``error``, ``mmopt.requeue``) and
  its parameters are enqueued again, so it is re-asked and counted once.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from mmopt.errors import ConfigError, MmoptError
from mmopt.redact import mask_secrets
from mmopt.search.storage import PersistentStudy

__all__ = [
    "ATTR_ERROR",
    "ATTR_REQUEUE",
    "ATTR_RETRY_OF",
    "StudyWriter",
    "counts_toward_total",
    "load_working_study",
    "take_over",
]

LEASE_KEY = "mmopt:driver"
IN_FLIGHT_KEY = "mmopt:in_flight"
ATTR_ERROR = "error"
ATTR_REQUEUE = "mmopt.requeue"
ATTR_RETRY_OF = "mmopt.retry_of"
HEARTBEAT_S = 5.0
GRACE_S = 60.0


def counts_toward_total(trial: FrozenTrial) -> bool:
    """Finished and not to be re-run: complete, pruned, or failed by its own evaluation."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and not trial.user_attrs.get(ATTR_REQUEUE, False)


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


def _lease_holder(lease: Any, now: float) -> str | None:
    """Who holds a live lease (a description), or None if it is free, stale or dead."""
    if not isinstance(lease, dict) or not lease.get("time"):
        return None
    age = now - float(lease["time"])
    if age > GRACE_S:
        return None
    if lease.get("host") == socket.gethostname() and not _pid_alive(int(lease.get("pid", -1))):
        return None
    return f"pid {lease.get('pid')} on {lease.get('host')} (heartbeat {age:.0f} s ago)"


def _new_lease() -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(),
            "time": time.time()}


def take_over(
    persistent: PersistentStudy, distributions: dict[str, BaseDistribution]
) -> tuple[dict[str, Any], list[FrozenTrial]]:
    """Claim the study for this driver; fail what a dead driver left running.

    Returns our lease and every trial of the study (by number), lost ones now FAIL.
    """
    storage, study_id = persistent.storage, persistent.study_id
    attrs = storage.get_study_system_attrs(study_id)
    holder = _lease_holder(attrs.get(LEASE_KEY), time.time())
    if holder is not None:
        raise ConfigError(
            f"study.name: study {persistent.name!r} in {mask_secrets(persistent.url)} is being "
            f"run by another driver ({holder}); stop it first, or wait {GRACE_S:.0f} s if it died"
        )
    lease = _new_lease()
    storage.set_study_system_attr(study_id, LEASE_KEY, lease)
    trials = list(persistent.trials)
    for t in trials:
        if t.state in (TrialState.RUNNING, TrialState.WAITING):
            _fail_in_place(storage, t)
    stored = {t.number for t in trials}
    for number, params in sorted(attrs.get(IN_FLIGHT_KEY) or [], key=lambda e: e[0]):
        if number in stored:
            continue
        trials.append(_lost_trial(storage, study_id, len(trials), params, distributions))
    storage.set_study_system_attr(study_id, IN_FLIGHT_KEY, [])
    trials = sorted(storage.get_all_trials(study_id, deepcopy=False), key=lambda t: t.number)
    return lease, trials


_LOST = "the driver stopped before this trial finished; its parameters are re-run"


def _fail_in_place(storage: Any, trial: FrozenTrial) -> None:
    storage.set_trial_user_attr(trial._trial_id, ATTR_ERROR, _LOST)
    storage.set_trial_user_attr(trial._trial_id, ATTR_REQUEUE, True)
    storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def _lost_trial(storage: Any, study_id: int, number: int, params: dict[str, Any],
                distributions: dict[str, BaseDistribution]) -> FrozenTrial:
    kept = {k: v for k, v in params.items() if k in distributions
            and _fits(distributions[k], v)}
    now = optuna.trial.create_trial(state=TrialState.FAIL, params=kept,
                                    distributions={k: distributions[k] for k in kept},
                                    user_attrs={ATTR_ERROR: _LOST, ATTR_REQUEUE: True})
    storage.create_new_trial(study_id, template_trial=now)
    return now


def _fits(distribution: BaseDistribution, value: Any) -> bool:
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


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
    for t in trials:
        study._storage.create_new_trial(study._study_id, template_trial=t)
    retried = {t.user_attrs[ATTR_RETRY_OF] for t in trials if ATTR_RETRY_OF in t.user_attrs}
    todo = [t for t in trials if t.state == TrialState.FAIL and t.user_attrs.get(ATTR_REQUEUE)
            and t.number not in retried]
    for t in todo:
        study.enqueue_trial(dict(t.params), user_attrs={ATTR_RETRY_OF: t.number})
    return study, len(todo)


class StudyWriter:
    """The background thread that writes to the persistent study (FIFO, one thread)."""

    def __init__(self, persistent: PersistentStudy, lease: dict[str, Any]) -> None:
        self._persistent = persistent
        self._lease = dict(lease)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._error: BaseException | None = None
        self._last_beat = 0.0
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

    def check(self) -> None:
        if self._error is not None:
            raise MmoptError(mask_secrets(
                f"study.storage: writing to {self._persistent.url} failed: {self._error}"))

    def close(self, release: bool = True) -> None:
        """Write everything queued, then release the lease (a later driver may start at once)."""
        if release:
            self._queue.put(("release", None))
        self._queue.put(("stop", None))
        self._thread.join()
        self.check()

    def _loop(self) -> None:
        while True:
            try:
                kind, payload = self._queue.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                kind, payload = "beat", None
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
        storage, study_id = self._persistent.storage, self._persistent.study_id
        if kind == "trials":
            for trial in payload:
                storage.create_new_trial(study_id, template_trial=trial)
        elif kind == "in_flight":
            storage.set_study_system_attr(study_id, IN_FLIGHT_KEY, payload)
        elif kind == "release":
            storage.set_study_system_attr(study_id, LEASE_KEY, {**self._lease, "time": 0})
            return
        if time.time() - self._last_beat >= HEARTBEAT_S:
            self._last_beat = time.time()
            storage.set_study_system_attr(study_id, LEASE_KEY, {**self._lease,
                                                                "time": self._last_beat})
