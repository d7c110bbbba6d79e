"""The MLflow tracker: one parent run per sweep, one nested child run per trial.

* ``start``: finds or creates the experiment (artifacts in ``<store dir>/mlartifacts`` for a
  local store), opens the parent run (tags ``mmopt.study_name``, ``mmopt.storage_url``,
  ``mmopt.config_id``, ``mmopt.data_fingerprint``, ``mmopt.code_version``; the resolved config
  as flat params and as ``config.yaml``). On resume it reopens the parent of the same study
  and storage and skips the trials already logged under it.
* ``log_trials``: per trial ``create_run`` (tags, ``mlflow.parentRunId``, explicit start time)
  -> ``log_batch`` (params, metrics, per security as ``sec.<security>.<metric>``, objective
  values as ``objective.<name>``, intermediate values as ``intermediate_objective`` by step)
  -> ``set_terminated`` (FINISHED / KILLED for pruned / FAILED, explicit end time).
* ``finish``: tags the best trial on the parent (``best_trial``, ``best_value``), copies its
  metrics there, writes the report (``mmopt.report``) and logs it under ``report/``.

``start`` and ``log_trials`` run in order on one background thread (``_worker.SerialWorker``):
the driver only hands batches over, and MLflow is imported on that thread, so building the
tracker is free. ``finish`` waits for that thread to drain, then runs on the caller's thread.
A trial that cannot be logged is warned about (``TrackingWarning``) and skipped.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mmopt.config import TrackingConfig
from mmopt.errors import MmoptError
from mmopt.tracking._entities import MAX_TAG_VALUE, clip
from mmopt.tracking._mlflow_io import MlflowIO
from mmopt.tracking._protocol import SweepInfo, SweepSummary, TrialRecord
from mmopt.tracking._uri import TrackingLocation, resolve_location
from mmopt.tracking._worker import SerialWorker, TrackingStats

if TYPE_CHECKING:
    from mmopt.report import Report

__all__ = ["DEFAULT_EXPERIMENT", "MAX_FAILURES_IN_A_ROW", "MlflowTracker", "TrackingWarning"]

DEFAULT_EXPERIMENT = "mmopt"
# A store that fails this many child runs in a row (e.g. a server gone) is not tried again for
# this sweep: every try could wait through MLflow's HTTP retries.
MAX_FAILURES_IN_A_ROW = 5
_PARENT_STATUS = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}


class TrackingWarning(UserWarning):
    """Something could not be logged to MLflow; the sweep goes on."""


class MlflowTracker:
    """Implements ``mmopt.tracking.Tracker`` on an MLflow tracking store."""

    def __init__(
        self, config: TrackingConfig, run_dir: str | Path, *, background: bool = True
    ) -> None:
        self.location: TrackingLocation = resolve_location(config.tracking_uri, Path(run_dir))
        self.experiment_name = config.experiment or DEFAULT_EXPERIMENT
        self._worker = SerialWorker(background)
        self._io: MlflowIO | None = None
        self._info: SweepInfo | None = None
        self._broken: str | None = None
        self._logged: set[int] = set()
        self._n_logged = 0
        self._n_skipped = 0
        self._log_s = 0.0
        self._log_cpu_s = 0.0
        self._start_s = 0.0
        self._finish_s = 0.0
        self._submit_s = 0.0
        self._finished = False
        self._failures = 0  # child runs that failed in a row
        self.report: Report | None = None

    # -- Tracker protocol -------------------------------------------------------------------

    def start(self, info: SweepInfo) -> None:
        self._info = info
        self._worker.submit(self._start, info)

    def log_trials(self, records: Sequence[TrialRecord]) -> None:
        if not records:
            return
        if self._finished:
            self._n_skipped += len(records)
            _warn(f"{len(records)} trial(s) handed over after finish(); not logged")
            return
        began = time.perf_counter()
        self._worker.submit(self._log_trials, tuple(records))
        self._submit_s += time.perf_counter() - began

    def finish(self, summary: SweepSummary) -> None:
        """Waits for the queued trials, then closes the parent; raises only if the store broke.

        Runs on the caller's thread once the worker is idle (matplotlib stays on one thread).
        """
        self._finished = True
        self._worker.close()
        self._finish(summary)

    def ui_command(self) -> str | None:
        return self.location.ui_command()

    # -- extras for the driver, the benchmark and tests -------------------------------------

    @property
    def parent_run_id(self) -> str | None:
        self.flush()
        return None if self._io is None else self._io.parent_id

    @property
    def experiment_id(self) -> str | None:
        self.flush()
        return None if self._io is None else self._io.experiment_id

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything handed over so far is written; False on timeout."""
        return self._worker.wait(timeout)

    def stats(self) -> TrackingStats:
        """What MLflow cost so far (call ``flush`` first for a complete count)."""
        return TrackingStats(
            trials_logged=self._n_logged,
            trials_skipped=self._n_skipped,
            log_seconds=self._log_s,
            log_cpu_seconds=self._log_cpu_s,
            start_seconds=self._start_s,
            finish_seconds=self._finish_s,
            submit_seconds=self._submit_s,
        )

    # -- on the worker thread ----------------------------------------------------------------

    def _start(self, info: SweepInfo) -> None:
        began = time.perf_counter()
        try:
            io = MlflowIO.connect(self.location, self.experiment_name)
            self._logged = io.open_parent(info)
            self._io = io
        except Exception as exc:
            self._broken = f"{type(exc).__name__}: {exc}"
            _warn(
                f"MLflow store {self.location.tracking_uri!r} unusable, nothing will be logged "
                f"for this sweep ({self._broken})"
            )
        finally:
            self._start_s += time.perf_counter() - began

    def _log_trials(self, records: tuple[TrialRecord, ...]) -> None:
        if self._io is None or self._info is None:
            self._n_skipped += len(records)
            return
        began, cpu = time.perf_counter(), time.thread_time()
        try:
            for record in records:
                if record.number in self._logged or self._failures >= MAX_FAILURES_IN_A_ROW:
                    self._n_skipped += 1
                    continue
                try:
                    self._io.log_trial(record, self._info.objective_names)
                except Exception as exc:
                    self._n_skipped += 1
                    self._failures += 1
                    stop = self._failures >= MAX_FAILURES_IN_A_ROW
                    tail = "; giving up on child runs for this sweep" if stop else ""
                    _warn(f"trial {record.number} not logged to MLflow: {exc}{tail}")
                    continue
                self._failures = 0
                self._logged.add(record.number)
                self._n_logged += 1
        finally:
            self._log_s += time.perf_counter() - began
            self._log_cpu_s += time.thread_time() - cpu

    def _finish(self, summary: SweepSummary) -> None:
        if self._io is None or self._info is None:
            raise MmoptError(
                f"tracking: nothing was logged to {self.location.tracking_uri!r} "
                f"({self._broken or 'start() was not called'}); the results are in the Optuna "
                "study: check the tracking URI / server, or run with tracking=none"
            )
        began = time.perf_counter()
        try:
            self._finish_parent(summary, self._io, self._info)
        finally:
            self._finish_s += time.perf_counter() - began

    def _finish_parent(self, summary: SweepSummary, io: MlflowIO, info: SweepInfo) -> None:
        from mmopt.report import write_report

        out_dir = Path(info.run_dir) / "reports" / str(io.parent_id)
        try:
            self.report = write_report(summary, out_dir, info.objective_names)
            io.log_artifacts(out_dir, "report")
        except Exception as exc:
            _warn(f"report not written or not logged: {exc}")
        try:
            io.log_best(summary, info.objective_names)
        except Exception as exc:
            _warn(f"best trial not tagged on the parent run: {exc}")
        extra = self.stats()
        io.close_parent(
            status=_PARENT_STATUS.get(summary.status, "FAILED"),
            tags={
                "sweep_status": summary.status,
                "mlflow_ms_per_trial": f"{extra.ms_per_trial:.1f}",
                **({"error": clip(summary.error, MAX_TAG_VALUE)} if summary.error else {}),
            },
        )


def _warn(message: str) -> None:
    warnings.warn(f"mmopt tracking: {message}", TrackingWarning, stacklevel=3)
