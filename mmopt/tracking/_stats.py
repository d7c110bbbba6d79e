"""What tracking costs: the counters the tracker reports and the overhead benchmark prints."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrackingStats"]

@dataclass(frozen=True, slots=True)
class TrackingStats:
    """What tracking cost so far (seconds of MLflow calls where they run: the tracker's own
    process by default, see ``_child``; the driver with ``background=False``)."""

    trials_logged: int
    trials_skipped: int  # already in the store (resume) or failed to log
    log_seconds: float  # create_run + log_batch + set_terminated for the child runs (wall)
    log_cpu_seconds: float  # the same, CPU time of the logging thread (where it runs)
    start_seconds: float  # MLflow import, store creation/migration, the parent run
    finish_seconds: float  # report, artifacts, best trial on the parent
    submit_seconds: float  # time the driver spent handing batches over (its blocking cost)

    @property
    def ms_per_trial(self) -> float:
        """Mean MLflow time per logged child run, in milliseconds (NaN before any)."""
        if self.trials_logged == 0:
            return float("nan")
        return 1e3 * self.log_seconds / self.trials_logged

    @property
    def cpu_ms_per_trial(self) -> float:
        """Mean CPU time of the logging thread per child run, in milliseconds (NaN before any)."""
        if self.trials_logged == 0:
            return float("nan")
        return 1e3 * self.log_cpu_seconds / self.trials_logged
