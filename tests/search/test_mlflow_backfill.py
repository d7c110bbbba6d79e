"""A driver killed (SIGKILL) before MLflow got its finished trials: the next sweep on the same
study logs them (once, keyed by trial number) before going on, and the parent's best_trial
names a logged child run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from study_files import count_stored

from mmopt.cli import main
from mmopt.search.inspect import load_study


def test_trials_finished_before_a_crash_reach_mlflow_on_resume(
    sweep_args: list[str], tmp_path: Path
) -> None:
    import psutil
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    client.search_experiments()  # the store's tables exist before the two sweeps use it
    args = [a for a in sweep_args if not a.startswith("study.n_trials")]
    # trials reach MLflow in batches: with a large batch, nothing is handed over before the kill
    args += ["tracking=mlflow", "tracking.experiment=backfill", "tracking.log_batch_size=1000"]
    cmd = [sys.executable, "-c", "from mmopt.cli import main; raise SystemExit(main())",
           "sweep", "--no-progress", *args, "study.n_trials=500"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env={**os.environ})
    db = tmp_path / "optuna.db"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and count_stored(db) < 3:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    tracker_process = psutil.Process(proc.pid).children()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    psutil.wait_procs(tracker_process, timeout=60)  # it drains what it was given, then exits
    n_before = count_stored(db)
    assert main(["sweep", "--no-progress", *args, f"study.n_trials={n_before + 2}"]) == 0

    study = load_study("tiny", f"sqlite:///{db}")
    finished = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    experiment = client.get_experiment_by_name("backfill")
    assert experiment is not None
    parents = client.search_runs([experiment.experiment_id], "tags.`mmopt.role` = 'sweep'",
                                 order_by=["attributes.start_time DESC"])
    parent = parents[0]
    children = client.search_runs([experiment.experiment_id],
                                  f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    logged = [int(r.data.tags["trial_number"]) for r in children
              if r.info.status != "RUNNING" and "mmopt.incomplete" not in r.data.tags]
    assert sorted(logged) == sorted(finished)  # every trial, each once
    best = parent.data.tags["best_trial"]
    assert best != "none"
    best_run = next(r for r in children if r.data.tags["trial_number"] == best)
    assert parent.data.tags["best_run_id"] == best_run.info.run_id
