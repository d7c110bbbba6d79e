"""The parent's best_trial always names a logged child run, even when the best trial's run was
never logged (a driver killed before handing it over)."""

from __future__ import annotations

from pathlib import Path

from tracking_builders import copy_store, sweep_info, trial

from mmopt.config import TrackingConfig
from mmopt.tracking import MlflowTracker, SweepSummary


def test_best_trial_without_a_child_run_is_logged_before_it_is_tagged(
    mlflow_template: Path, tmp_path: Path
) -> None:
    copy_store(mlflow_template, tmp_path)
    tracker = MlflowTracker(TrackingConfig(name="mlflow", experiment="best"), tmp_path,
                            background=False)
    tracker.start(sweep_info(tmp_path))
    tracker.log_trials([trial(0), trial(1)])
    best = trial(2, net_pnl=50.0)  # never handed to log_trials
    tracker.finish(SweepSummary("finished", 3, 0, 0, 1.0, (best,), None, ()))
    io = tracker._io
    assert io is not None
    parent = io.client.get_run(str(tracker.parent_run_id))
    children = io.client.search_runs(
        [str(tracker.experiment_id)],
        filter_string=f"tags.`mlflow.parentRunId` = '{tracker.parent_run_id}'")
    by_number = {r.data.tags["trial_number"]: r for r in children}
    assert sorted(by_number) == ["0", "1", "2"]
    assert parent.data.tags["best_trial"] == "2"
    assert parent.data.tags["best_run_id"] == by_number["2"].info.run_id
