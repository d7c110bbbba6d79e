"""The contract every tracker keeps (docs/tracking.md), run over ``TRACKER_BUILDERS``.

A new tracker adds one ``TrackerCase`` below and passes the same tests: it is a
``mmopt.tracking.Tracker``; it accepts the driver's calls in order (empty batches, every trial
state, non-finite metrics, a finish with or without a best trial, a finish after an interrupted
sweep) without raising; ``ui_command`` is a string or None; and where it promises idempotence
(``dedups_trials``) a trial logged twice is one run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from tracking_builders import copy_store, curves, sweep_info, toy_study, trial

from mmopt.config import TrackingConfig
from mmopt.report import write_report
from mmopt.tracking import NullTracker, SweepSummary, Tracker, TrialRecord, make_tracker
from mmopt.tracking.mlflow import MlflowTracker


@dataclass(frozen=True)
class TrackerCase:
    """How to build one tracker on an empty store, and what it promises beyond the protocol."""

    build: Callable[[Path, Path], Tracker]  # (run_dir, migrated empty MLflow db) -> tracker
    dedups_trials: bool  # a trial number logged twice gives one run
    logged: Callable[[Tracker], list[int]]  # trial numbers it holds, as it reports them


def _null(run_dir: Path, template: Path) -> Tracker:
    return make_tracker(TrackingConfig(name="none"), run_dir)


def _mlflow(background: bool) -> Callable[[Path, Path], Tracker]:
    def build(run_dir: Path, template: Path) -> Tracker:
        copy_store(template, run_dir)
        return MlflowTracker(TrackingConfig(name="mlflow", experiment="contract"), run_dir,
                             background=background, report_writer=write_report)

    return build


def _null_logged(tracker: Tracker) -> list[int]:
    assert isinstance(tracker, NullTracker)
    return sorted(r.number for r in tracker.records)


def _mlflow_logged(tracker: Tracker) -> list[int]:
    from mlflow import MlflowClient

    assert isinstance(tracker, MlflowTracker)
    client = MlflowClient(tracking_uri=tracker.location.tracking_uri)
    runs = client.search_runs([str(tracker.experiment_id)],
                              f"tags.`mlflow.parentRunId` = '{tracker.parent_run_id}'")
    return sorted(int(r.data.tags["trial_number"]) for r in runs)


TRACKER_BUILDERS: dict[str, TrackerCase] = {
    "none": TrackerCase(_null, dedups_trials=False, logged=_null_logged),
    "mlflow-inline": TrackerCase(_mlflow(False), dedups_trials=True, logged=_mlflow_logged),
    "mlflow-background": TrackerCase(_mlflow(True), dedups_trials=True, logged=_mlflow_logged),
}


@pytest.fixture(params=sorted(TRACKER_BUILDERS))
def case(request: pytest.FixtureRequest) -> TrackerCase:
    return TRACKER_BUILDERS[request.param]


def _records() -> list[TrialRecord]:
    nan_metrics = replace(trial(3), metrics=(("net_pnl", math.nan), ("sharpe", math.inf)))
    return [trial(0), trial(1, "PRUNED"), trial(2, "FAIL"), nan_metrics]


def test_is_a_tracker_and_takes_a_whole_sweep(case: TrackerCase, tmp_path: Path,
                                              mlflow_template: Path) -> None:
    tracker = case.build(tmp_path, mlflow_template)
    assert isinstance(tracker, Tracker)
    tracker.start(sweep_info(tmp_path))
    tracker.log_trials([])
    tracker.log_trials(_records())
    tracker.log_trials([trial(4, net_pnl=5.0)])
    command = tracker.ui_command()
    assert command is None or (isinstance(command, str) and command)
    tracker.finish(SweepSummary("finished", 3, 1, 1, 2.0, (trial(4, net_pnl=5.0),), None,
                                curves(), toy_study(4)))
    assert case.logged(tracker) == [0, 1, 2, 3, 4]


def test_finish_after_an_interrupted_sweep(case: TrackerCase, tmp_path: Path,
                                           mlflow_template: Path) -> None:
    tracker = case.build(tmp_path, mlflow_template)
    tracker.start(sweep_info(tmp_path, storage_url=None))
    tracker.finish(SweepSummary("interrupted", 0, 0, 0, 0.1, (), None, ()))
    assert case.logged(tracker) == []


def test_a_trial_logged_twice(case: TrackerCase, tmp_path: Path, mlflow_template: Path) -> None:
    tracker = case.build(tmp_path, mlflow_template)
    tracker.start(sweep_info(tmp_path))
    tracker.log_trials([trial(0), trial(1)])
    tracker.log_trials([trial(1), trial(2)])
    tracker.finish(SweepSummary("finished", 3, 0, 0, 1.0, (trial(2),), None, ()))
    expected = [0, 1, 2] if case.dedups_trials else [0, 1, 1, 2]
    assert case.logged(tracker) == expected
