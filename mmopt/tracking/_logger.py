"""``TrialLogger``: the tracker's ``start`` and ``log_trials`` work on an MLflow store.

It runs wherever the MLflow calls run: in the driver for ``background=False``, or in the
tracker's own process (``_child``), so that MLflow's Python never holds the driver's GIL.
A trial that cannot be logged is warned about (``TrackingWarning``) and skipped; after
``MAX_FAILURES_IN_A_ROW`` failures in a row no more child runs are tried.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from mmopt.redact import mask_secrets
from mmopt.tracking._mlflow_io import MlflowIO
from mmopt.tracking._protocol import SweepInfo, TrialRecord
from mmopt.tracking._uri import TrackingLocation

__all__ = ["MAX_FAILURES_IN_A_ROW", "LoggerState", "TrackingWarning", "TrialLogger", "warn"]

# A store that fails this many child runs in a row (e.g. a server gone) is not tried again for
# this sweep: every try could wait through MLflow's HTTP retries.
MAX_FAILURES_IN_A_ROW = 5


class TrackingWarning(UserWarning):
    """Something could not be logged to MLflow; the sweep goes on."""


def warn(message: str) -> None:
    warnings.warn(f"mmopt tracking: {mask_secrets(message)}", TrackingWarning, stacklevel=3)


@dataclass(frozen=True, slots=True)
class LoggerState:
    """What a ``TrialLogger`` did so far (picklable: sent from the tracker's process)."""

    trials_logged: int = 0
    trials_skipped: int = 0
    log_seconds: float = 0.0
    log_cpu_seconds: float = 0.0
    start_seconds: float = 0.0
    experiment_id: str | None = None
    parent_id: str | None = None
    trial_runs: dict[str, str] = field(default_factory=dict)  # TrialRecord.key -> run id
    broken: str | None = None
    warnings: tuple[str, ...] = ()  # TrackingWarning messages raised in the tracker's process


class TrialLogger:
    """Opens the parent run and logs child runs, counting what it costs."""

    def __init__(self, location: TrackingLocation, experiment: str) -> None:
        self.location = location
        self.experiment = experiment
        self.io: MlflowIO | None = None
        self.info: SweepInfo | None = None
        self.broken: str | None = None
        self._logged: set[str] = set()  # TrialRecord.key
        self._failures = 0  # child runs that failed in a row
        self.n_logged = 0
        self.n_skipped = 0
        self.log_s = 0.0
        self.log_cpu_s = 0.0
        self.start_s = 0.0

    def state(self, messages: tuple[str, ...] = ()) -> LoggerState:
        io = self.io
        return LoggerState(
            self.n_logged, self.n_skipped, self.log_s, self.log_cpu_s, self.start_s,
            None if io is None else io.experiment_id, None if io is None else io.parent_id,
            {} if io is None else dict(io.trial_runs), self.broken, messages,
        )

    def start(self, info: SweepInfo) -> None:
        self.info = info
        began = time.perf_counter()
        try:
            io = MlflowIO.connect(self.location, self.experiment)
            self._logged = io.open_parent(info)
            self.io = io
        except Exception as exc:
            self.broken = f"{type(exc).__name__}: {exc}"
            warn(
                f"MLflow store {self.location.tracking_uri!r} unusable, nothing will be logged "
                f"for this sweep ({self.broken})"
            )
        finally:
            self.start_s += time.perf_counter() - began

    def log_trials(self, records: Sequence[TrialRecord]) -> None:
        if self.io is None or self.info is None:
            self.n_skipped += len(records)
            return
        began, cpu = time.perf_counter(), time.thread_time()
        try:
            for record in records:
                self._log_one(self.io, self.info, record)
        finally:
            self.log_s += time.perf_counter() - began
            self.log_cpu_s += time.thread_time() - cpu

    def _log_one(self, io: MlflowIO, info: SweepInfo, record: TrialRecord) -> None:
        if record.key in self._logged or self._failures >= MAX_FAILURES_IN_A_ROW:
            self.n_skipped += 1
            return
        try:
            io.log_trial(record, info.objective_names)
        except Exception as exc:
            self.n_skipped += 1
            self._failures += 1
            stop = self._failures >= MAX_FAILURES_IN_A_ROW
            tail = "; giving up on child runs for this sweep" if stop else ""
            warn(f"trial {record.number} not logged to MLflow: {exc}{tail}")
            return
        self._failures = 0
        self._logged.add(record.key)
        self.n_logged += 1
