"""The tracker that records nothing (``tracking=none``): results stay in the Optuna study."""

from __future__ import annotations

from collections.abc import Sequence

from mmopt.tracking._protocol import SweepInfo, SweepSummary, TrialRecord

__all__ = ["NullTracker"]


class NullTracker:
    """Implements ``Tracker``; counts what it was given (handy in tests)."""

    def __init__(self) -> None:
        self.info: SweepInfo | None = None
        self.records: list[TrialRecord] = []
        self.summary: SweepSummary | None = None
        self.batches = 0

    def start(self, info: SweepInfo) -> None:
        self.info = info

    def log_trials(self, records: Sequence[TrialRecord]) -> None:
        self.batches += 1
        self.records.extend(records)

    def finish(self, summary: SweepSummary) -> None:
        self.summary = summary

    def ui_command(self) -> str | None:
        return None
