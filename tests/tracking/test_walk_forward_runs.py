"""A walk-forward logs every fold's trials as child runs of its one parent, tagged with the
fold, and each fold's out-of-sample re-runs as runs of their own (tiny synthetic data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmopt.cli._hydra import compose_config
from mmopt.search import run_walk_forward

EVENTS = 6000


@pytest.fixture(scope="module")
def wf_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wf_runs_data")


def _args(root: Path, run_dir: Path) -> list[str]:
    return [
        "experiment=smoke", f"run_dir={run_dir}", f"data.root={root}",
        "data.generate.n_days=4", f"data.generate.events_per_day={EVENTS}",
        "study=default", "study.name=wf", "study.n_trials=3",
        "study.sampler.n_startup_trials=2", "study.pruner.name=none",
        f"study.storage=sqlite:///{run_dir}/optuna.db", "executor.trials_per_task=2",
        "objective.use_constraints=false", "validation=walk_forward", "validation.top_k=2",
        "tracking=mlflow", "tracking.experiment=wf-runs",
    ]


def test_every_fold_trial_and_every_rerun_has_a_child_run(wf_root: Path, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    run = compose_config(_args(wf_root, tmp_path))
    result = run_walk_forward(run, progress=False)
    assert result.status == "finished"
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.get_experiment_by_name("wf-runs")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    (parent,) = client.search_runs([experiment.experiment_id],
                                   filter_string="tags.`mmopt.role` = 'sweep'")
    children = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    in_sample = {(int(r.data.tags["mmopt.fold"]), int(r.data.tags["trial_number"])): r
                 for r in children if r.data.tags["mmopt.sample"] == "in_sample"}
    oos = {(int(r.data.tags["mmopt.fold"]), int(r.data.tags["trial_number"])): r
           for r in children if r.data.tags["mmopt.sample"] == "out_of_sample"}
    folds = result.summary.folds
    assert len(folds) == 3
    assert sorted(in_sample) == [(f.index, n) for f in folds for n in range(3)]
    assert len(children) == len(in_sample) + len(oos)
    name = result.summary.objective_name
    for fold in folds:
        assert {n for f, n in oos if f == fold.index} == {t.number for t in fold.rerun}
        for t in fold.rerun:
            rerun = oos[(fold.index, t.number)]
            assert rerun.info.run_name == f"fold{fold.index}-trial-{t.number}-oos"
            if t.oos_error is None:  # the re-run's run and the in-sample run's oos column
                assert rerun.data.metrics[f"objective.{name}"] == pytest.approx(t.oos_value)
                own = in_sample[(fold.index, t.number)].data.metrics
                assert own[f"oos.objective.{name}"] == pytest.approx(t.oos_value)
    last = folds[-1]
    assert parent.data.tags["best_fold"] == str(last.index)
    assert parent.data.tags["best_run_id"] == in_sample[(last.index, last.chosen)].info.run_id

    again = run_walk_forward(run, progress=False)  # resume: nothing to add, nothing doubled
    assert again.status == "finished"
    after = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert len(after) == len(children)
