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
  metrics there, writes the report with the ``report_writer`` it was given (the sweep driver
  passes ``mmopt.report.write_report``; without one no report is written) and logs it under
  ``report/``.

``start`` and ``log_trials`` run in order in the tracker's own process (``_child``), fed small
pickled messages: the driver only hands batches over, MLflow is imported there and its Python
never holds the driver's GIL. ``finish`` waits for that process to drain and exit, then runs on
the caller's thread (MLflow imported in the driver only then). ``background=False`` runs
everything inline. A trial that cannot be logged is warned about (``TrackingWarning``) and
skipped; warnings raised in the tracker's process are re-raised in the driver on ``flush`` /
``finish``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from mmopt.config import TrackingConfig
from mmopt.errors import MmoptError
from mmopt.redact import mask_secrets
from mmopt.tracking._child import LoggerProcess
from mmopt.tracking._entities import MAX_TAG_VALUE, clip
from mmopt.tracking._logger import (
    MAX_FAILURES_IN_A_ROW,
    LoggerState,
    TrackingWarning,
    TrialLogger,
)
from mmopt.tracking._mlflow_io import MlflowIO
from mmopt.tracking._protocol import SweepInfo, SweepSummary, TrialRecord
from mmopt.tracking._report_writer import ReportWriter
from mmopt.tracking._stats import TrackingStats
from mmopt.tracking._uri import TrackingLocation, resolve_location
from mmopt.tracking.study_summary import SUMMARY_FILE

__all__ = ["DEFAULT_EXPERIMENT", "MAX_FAILURES_IN_A_ROW", "MlflowTracker", "TrackingWarning"]

DEFAULT_EXPERIMENT = "mmopt"
_PARENT_STATUS = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}


class MlflowTracker:
    """Implements ``mmopt.tracking.Tracker`` on an MLflow tracking store."""

    def __init__(
        self,
        config: TrackingConfig,
        run_dir: str | Path,
        *,
        background: bool = True,
        report_writer: ReportWriter | None = None,
    ) -> None:
        self.location: TrackingLocation = resolve_location(config.tracking_uri, Path(run_dir))
        self.experiment_name = config.experiment or DEFAULT_EXPERIMENT
        self._background = background
        self._inline = None if background else TrialLogger(self.location, self.experiment_name)
        self._process: LoggerProcess | None = None
        self._state = LoggerState()  # the process's last report (background mode)
        self._attached: MlflowIO | None = None  # the parent run, reopened in the driver
        self._info: SweepInfo | None = None
        self._n_late = 0  # handed over after finish()
        self._finish_s = 0.0
        self._submit_s = 0.0
        self._finished = False
        self._report_writer = report_writer
        self.report: object | None = None  # what report_writer returned

    # -- Tracker protocol -------------------------------------------------------------------

    def start(self, info: SweepInfo) -> None:
        self._info = info
        if self._inline is not None:
            self._inline.start(info)
            return
        began = time.perf_counter()
        if self._process is None:
            self._process = LoggerProcess(self.location, self.experiment_name)
        self._process.send("start", info)
        self._submit_s += time.perf_counter() - began

    def log_trials(self, records: Sequence[TrialRecord]) -> None:
        if not records:
            return
        if self._finished:
            self._n_late += len(records)
            _warn(f"{len(records)} trial(s) handed over after finish(); not logged")
            return
        began = time.perf_counter()
        if self._inline is not None:
            self._inline.log_trials(tuple(records))
        elif self._process is not None:
            self._process.send("log", tuple(records))
        else:
            self._n_late += len(records)  # start() was not called
        self._submit_s += time.perf_counter() - began

    def finish(self, summary: SweepSummary) -> None:
        """Waits for the queued trials, then closes the parent; raises only if the store broke.

        Runs on the caller's thread once the tracker's process has exited.
        """
        self._finished = True
        staged: Path | None = None
        if self._process is not None:
            self._process.request_stop()
            staged = self._stage_report(summary)  # while the child drains its queue
            self._state = self._process.close()
            self._reraise_warnings()
        self._finish(summary, staged)

    def ui_command(self) -> str | None:
        return self.location.ui_command()

    # -- extras for the driver, the benchmark and tests -------------------------------------

    @property
    def _io(self) -> MlflowIO | None:
        """The MLflow client and runs in this process (inline mode, or after ``finish``)."""
        return self._inline.io if self._inline is not None else self._attached

    @property
    def parent_run_id(self) -> str | None:
        self.flush()
        return self._inline.state().parent_id if self._inline else self._state.parent_id

    @property
    def experiment_id(self) -> str | None:
        self.flush()
        return self._inline.state().experiment_id if self._inline else self._state.experiment_id

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything handed over so far is written; False on timeout."""
        if self._process is None or self._finished:
            return True
        done = self._process.sync(timeout)
        self._state = self._process.state
        self._reraise_warnings()
        return done

    def stats(self) -> TrackingStats:
        """What MLflow cost so far (call ``flush`` first for a complete count)."""
        state = self._inline.state() if self._inline is not None else self._state
        return TrackingStats(
            trials_logged=state.trials_logged,
            trials_skipped=state.trials_skipped + self._n_late,
            log_seconds=state.log_seconds,
            log_cpu_seconds=state.log_cpu_seconds,
            start_seconds=state.start_seconds,
            finish_seconds=self._finish_s,
            submit_seconds=self._submit_s,
        )

    def _reraise_warnings(self) -> None:
        for message in self._state.warnings:
            warnings.warn(message, TrackingWarning, stacklevel=3)
        self._state = dataclasses.replace(self._state, warnings=())

    def _stage_report(self, summary: SweepSummary) -> Path | None:
        """Write the report (plots, tables) into a staging folder under ``run_dir/reports``
        while the tracker's process still logs trials; ``_finish_parent`` moves it into the
        parent run's folder once the parent's id is known. None if there is nothing to
        write or it failed (then it is tried again there, and a failure is warned)."""
        if self._report_writer is None or self._info is None:
            return None
        staging = Path(self._info.run_dir) / "reports" / f".staging-{os.getpid()}-{time.time_ns()}"
        try:
            self.report = self._report_writer(summary, staging, self._info.objective_names)
        except Exception:
            shutil.rmtree(staging, ignore_errors=True)
            return None
        return staging

    def _finish(self, summary: SweepSummary, staged: Path | None = None) -> None:
        io = self._io if self._inline is not None else self._attach()
        if io is None or self._info is None:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
            broken = self._inline.broken if self._inline is not None else self._state.broken
            if self._process is not None and self._process.dead and not broken:
                broken = self._process.dead
            raise MmoptError(mask_secrets(
                f"tracking: nothing was logged to {self.location.tracking_uri!r} "
                f"({broken or 'start() was not called'}); the results are in the Optuna "
                "study: check the tracking URI / server, or run with tracking=none"
            ))
        began = time.perf_counter()
        try:
            self._finish_parent(summary, io, self._info, staged)
        finally:
            self._finish_s += time.perf_counter() - began

    def _attach(self) -> MlflowIO | None:
        """Reopen, in this process, the parent run the tracker's process wrote to."""
        state = self._state
        if state.parent_id is None or state.experiment_id is None:
            return None
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=self.location.tracking_uri)
        self._attached = MlflowIO(client, state.experiment_id, state.parent_id,
                                  dict(state.trial_runs))
        return self._attached

    def _finish_parent(self, summary: SweepSummary, io: MlflowIO, info: SweepInfo,
                       staged: Path | None = None) -> None:
        out_dir = Path(info.run_dir) / "reports" / str(io.parent_id)
        try:
            if staged is not None:
                _move_into(staged, out_dir)
                moved = getattr(self.report, "moved", None)  # mmopt.report.Report
                if moved is not None:
                    self.report = moved(staged, out_dir)
            elif self._report_writer is not None:
                self.report = self._report_writer(summary, out_dir, info.objective_names)
            if summary.report is not None:  # the study's summary.json, beside the report
                out_dir.mkdir(parents=True, exist_ok=True)
                (out_dir / SUMMARY_FILE).write_text(summary.report.to_json(), encoding="utf-8")
            if out_dir.is_dir():
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


def _move_into(staged: Path, out_dir: Path) -> None:
    """Move every file of ``staged`` into ``out_dir`` (same relative paths; a file of an
    earlier report of the same parent run is replaced, as writing in place would), then
    remove ``staged``."""
    for path in sorted(staged.rglob("*")):
        if path.is_file():
            target = out_dir / path.relative_to(staged)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    shutil.rmtree(staged, ignore_errors=True)


def _warn(message: str) -> None:
    warnings.warn(f"mmopt tracking: {mask_secrets(message)}", TrackingWarning, stacklevel=3)
