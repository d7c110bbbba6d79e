"""The MLflow tracker end to end on a temporary SQLite store, with a fake sweep of 7 trials."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from tracking_builders import (
    T0,
    copy_store,
    curves,
    sweep_info,
    toy_study,
    trial,
)

from mmopt.config import TrackingConfig
from mmopt.errors import MmoptError
from mmopt.report import write_report
from mmopt.tracking import (
    NullTracker,
    SweepSummary,
    TrackingWarning,
    make_tracker,
)
from mmopt.tracking._mlflow_io import MlflowIO
from mmopt.tracking.mlflow import MlflowTracker


@dataclass
class FakeSweep:
    tracker: MlflowTracker
    client: Any
    run_dir: Path
    parent: Any
    children: dict[int, Any]  # trial number -> run


def _children(client: Any, experiment_id: str, parent_id: str) -> dict[int, Any]:
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    return {int(r.data.tags["trial_number"]): r for r in runs}


RECORDS = (
    trial(0),
    trial(1, extra_metrics=[("sharpe", float("nan")), ("sortino", float("inf"))]),
    trial(2, net_pnl=50.0),
    trial(3, "PRUNED"),
    trial(4, "FAIL", error="ValueError: shard SYN1/2026-01-02 broke"),
)
BEST = RECORDS[2]
HOLDOUT = trial(2, net_pnl=7.0)


@pytest.fixture(scope="module")
def fake_sweep(mlflow_template: Path, tmp_path_factory: pytest.TempPathFactory) -> FakeSweep:
    from mlflow import MlflowClient

    run_dir = tmp_path_factory.mktemp("sweep")
    copy_store(mlflow_template, run_dir)
    config = TrackingConfig(name="mlflow", experiment="mmopt-test")
    tracker = make_tracker(config, run_dir, report_writer=write_report)
    assert isinstance(tracker, MlflowTracker)
    tracker.start(sweep_info(run_dir, storage_url="postgresql://alice:s3cret@db:5432/optuna"))
    tracker.log_trials(RECORDS[:3])
    tracker.log_trials(RECORDS[3:])
    summary = SweepSummary(
        status="finished",
        n_complete=3,
        n_pruned=1,
        n_failed=1,
        elapsed_s=12.5,
        best=(BEST,),
        holdout=HOLDOUT,
        best_curves=curves(),
        study=toy_study(6),
    )
    tracker.finish(summary)
    client = MlflowClient(tracking_uri=tracker.location.tracking_uri)
    experiment = client.get_experiment_by_name("mmopt-test")
    parents = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`mmopt.role` = 'sweep'"
    )
    assert len(parents) == 1
    parent = parents[0]
    return FakeSweep(
        tracker,
        client,
        run_dir,
        parent,
        _children(client, experiment.experiment_id, parent.info.run_id),
    )


def test_one_parent_and_one_child_per_trial(fake_sweep: FakeSweep) -> None:
    experiment_id = fake_sweep.parent.info.experiment_id
    every_run = fake_sweep.client.search_runs([experiment_id])
    assert len(every_run) == 1 + len(RECORDS)
    assert sorted(fake_sweep.children) == [r.number for r in RECORDS]
    for run in fake_sweep.children.values():
        assert run.data.tags["mlflow.parentRunId"] == fake_sweep.parent.info.run_id
    stats = fake_sweep.tracker.stats()
    assert (stats.trials_logged, stats.trials_skipped) == (len(RECORDS), 0)


def test_child_states_times_and_error(fake_sweep: FakeSweep) -> None:
    expected = {0: "FINISHED", 1: "FINISHED", 2: "FINISHED", 3: "KILLED", 4: "FAILED"}
    for number, run in fake_sweep.children.items():
        record = RECORDS[number]
        assert run.info.status == expected[number]
        assert run.data.tags["trial_state"] == record.state
        assert run.info.run_name == f"trial-{number}"
        assert run.info.start_time == round((T0 + number) * 1000)
        assert run.info.end_time == round((T0 + number) * 1000) + 1500
    assert fake_sweep.children[4].data.tags["error"] == "ValueError: shard SYN1/2026-01-02 broke"
    assert "error" not in fake_sweep.children[0].data.tags


def test_child_params_and_metrics(fake_sweep: FakeSweep) -> None:
    run = fake_sweep.children[2]
    # sampled params win over the strategy defaults; the fixed ones are logged too
    assert run.data.params == {"gamma": "0.30000000000000004", "k": "3", "horizon_s": "60.0"}
    assert run.data.tags["searched_params"] == "gamma,k"
    metrics = run.data.metrics
    # only what a reader compares across trials: no per-security metric on the run
    assert set(metrics) == {"net_pnl", "fills", "objective.score", "kpi_failures",
                            "trial_duration_s", "shards_evaluated", "intermediate_objective",
                            "oos.objective.score", "oos.net_pnl", "oos.fills"}
    # the best trial's hold-out re-run, beside its in-sample values
    assert (metrics["oos.objective.score"], metrics["oos.net_pnl"]) == (7.0, 7.0)
    assert "oos.net_pnl" not in fake_sweep.children[0].data.metrics
    assert metrics["net_pnl"] == 50.0
    assert metrics["fills"] == 3.0
    assert metrics["objective.score"] == 50.0
    assert metrics["kpi_failures"] == 0.0
    assert metrics["trial_duration_s"] == 1.5
    assert metrics["shards_evaluated"] == 4.0
    assert metrics["intermediate_objective"] == 25.0
    history = fake_sweep.client.get_metric_history(run.info.run_id, "intermediate_objective")
    assert [(m.step, m.value) for m in history] == [(2, 25.0)]


def test_nonfinite_metrics_are_skipped_and_named(fake_sweep: FakeSweep) -> None:
    run = fake_sweep.children[1]
    assert "sharpe" not in run.data.metrics and "sortino" not in run.data.metrics
    assert run.data.tags["nonfinite_metrics"] == "sharpe,sortino"
    assert run.data.metrics["net_pnl"] == 10.0


def test_pruned_and_failed_children(fake_sweep: FakeSweep) -> None:
    pruned = fake_sweep.children[3].data
    assert "objective.score" not in pruned.metrics  # no value told for a pruned trial
    assert pruned.metrics["intermediate_objective"] == 15.0
    failed = fake_sweep.children[4].data
    assert set(failed.metrics) == {"kpi_failures", "trial_duration_s", "shards_evaluated"}
    names = {a.path for a in fake_sweep.client.list_artifacts(fake_sweep.children[4].info.run_id)}
    assert "securities.csv" not in names  # no metrics at all: no table


def _securities_table(client: Any, run_id: str, tmp: Path) -> list[dict[str, str]]:
    import csv

    path = client.download_artifacts(run_id, "securities.csv", str(tmp))
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_per_security_detail_is_a_table_artifact(fake_sweep: FakeSweep, tmp_path: Path) -> None:
    run = fake_sweep.children[2]
    table = _securities_table(fake_sweep.client, run.info.run_id, tmp_path)
    assert [row["security"] for row in table] == ["ALL", "SYN0", "SYN1"]
    assert [float(row["net_pnl"]) for row in table] == [50.0, 25.0, 26.0]
    assert float(table[2]["fills"]) == 2.0


def test_experiment_opens_on_the_model_training_view(fake_sweep: FakeSweep) -> None:
    experiment = fake_sweep.client.get_experiment(fake_sweep.parent.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_experiment_made_elsewhere_is_tagged_too(mlflow_template: Path, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    copy_store(mlflow_template, tmp_path)
    tracker = MlflowTracker(TrackingConfig(name="mlflow", experiment="older"), tmp_path,
                            background=False)
    client = MlflowClient(tracking_uri=tracker.location.tracking_uri)
    experiment_id = client.create_experiment("older")  # e.g. by an older mmopt: no kind tag
    tracker.start(sweep_info(tmp_path))
    assert client.get_experiment(experiment_id).tags["mlflow.experimentKind"] == (
        "custom_model_development")


def test_parent_params_are_the_few_that_tell_sweeps_apart(fake_sweep: FakeSweep) -> None:
    params = fake_sweep.parent.data.params
    assert len(params) <= 30
    assert not any(k.startswith("engine.") and k != "engine.step_ms" for k in params)


def test_parent_config_identity_and_masked_storage(fake_sweep: FakeSweep) -> None:
    data = fake_sweep.parent.data
    info = sweep_info(fake_sweep.run_dir)
    for key, value in {
        "mmopt.study_name": "toy",
        "mmopt.config_id": info.config_id,
        "mmopt.data_fingerprint": "fp-0123456789ab",
        "mmopt.code_version": "0.1.0+gdeadbee",
        "mmopt.storage_url": "postgresql://alice:***@db:5432/optuna",
    }.items():
        assert data.tags[key] == value
    assert data.params["study_name"] == "toy"
    assert data.params["config_id"] == info.config_id
    assert data.params["storage_url"] == "postgresql://alice:***@db:5432/optuna"
    assert data.params["strategy.name"] == info.run.strategy.name
    assert data.params["study.n_trials"] == str(info.run.study.n_trials)
    assert not any("s3cret" in v for v in data.params.values())
    assert fake_sweep.parent.info.run_name == "sweep-toy"
    assert fake_sweep.parent.info.status == "FINISHED"


def test_parent_has_best_trial_and_its_metrics(fake_sweep: FakeSweep) -> None:
    data = fake_sweep.parent.data
    assert data.tags["best_trial"] == "2"
    assert data.tags["best_value"] == "50.0"
    assert data.tags["best_run_id"] == fake_sweep.children[2].info.run_id
    assert data.tags["best.param.gamma"] == "0.30000000000000004"
    assert data.tags["sweep_status"] == "finished"
    assert data.metrics["net_pnl"] == 50.0
    assert not any(k.startswith("sec.") for k in data.metrics)
    assert data.metrics["objective.score"] == 50.0
    assert data.metrics["holdout.net_pnl"] == 7.0
    assert data.metrics["sweep.n_complete"] == 3.0
    assert data.metrics["sweep.n_pruned"] == 1.0


def test_artifacts_are_in_the_artifact_dir(fake_sweep: FakeSweep) -> None:
    run_id = fake_sweep.parent.info.run_id
    root = {a.path for a in fake_sweep.client.list_artifacts(run_id)}
    assert root == {"config.yaml", "report"}
    report = {Path(a.path).name for a in fake_sweep.client.list_artifacts(run_id, "report")}
    assert report >= {
        "best_trial_securities.csv",
        "best_trial_securities.md",
        "best_trial_securities.html",
        "best_params.yaml",
        "best_equity.png",
        "best_inventory.png",
        "optuna_history.png",
        "optuna_importances.png",
        "optuna_parallel_coordinates.png",
        "index.md",
    }
    on_disk = fake_sweep.run_dir / "mlartifacts"
    assert fake_sweep.parent.info.artifact_uri.startswith(on_disk.as_uri())
    files = {p.name for p in on_disk.rglob("*") if p.is_file()}
    assert report <= files and "config.yaml" in files
    png = next(on_disk.rglob("best_equity.png")).read_bytes()
    assert png.startswith(b"\x89PNG")
    config_text = next(on_disk.rglob("config.yaml")).read_text()
    assert "s3cret" not in config_text and "alice:***@db" in config_text
    # the report is drawn while the tracker's process drains, then moved under the parent's id
    reports = fake_sweep.run_dir / "reports"
    assert [p.name for p in reports.iterdir()] == [run_id]
    assert {p.name for p in (reports / run_id).iterdir()} >= report


def test_ui_command_opens_this_store(fake_sweep: FakeSweep) -> None:
    db = fake_sweep.run_dir / "mlflow.db"
    art = fake_sweep.run_dir / "mlartifacts"
    assert fake_sweep.tracker.ui_command() == (
        f"mlflow ui --backend-store-uri sqlite:///{db} --default-artifact-root {art}"
    )
    # the URI that command opens finds the sweep (what the UI's runs table queries)
    from mlflow import MlflowClient

    uri = fake_sweep.tracker.ui_command().split()[3]  # type: ignore[union-attr]
    runs = MlflowClient(tracking_uri=uri).search_runs(
        [fake_sweep.parent.info.experiment_id], order_by=["metrics.net_pnl DESC"], max_results=2
    )
    # the best child and the parent (which carries the best trial's metrics) rank first
    expected = {fake_sweep.parent.info.run_id, fake_sweep.children[2].info.run_id}
    assert {r.info.run_id for r in runs} == expected


@pytest.mark.parametrize("first_finished", [False, True], ids=["killed", "finished"])
def test_resume_reuses_the_parent_and_skips_logged_trials(
    mlflow_template: Path, tmp_path: Path, first_finished: bool
) -> None:
    copy_store(mlflow_template, tmp_path)
    config = TrackingConfig(name="mlflow", experiment="resume")
    first = MlflowTracker(config, tmp_path, background=False)
    first.start(sweep_info(tmp_path))
    first.log_trials([trial(0), trial(1)])
    parent_id = first.parent_run_id
    if first_finished:  # a finished sweep continued with a larger study.n_trials
        first.finish(SweepSummary("finished", 2, 0, 0, 1.0, (trial(1),), None, ()))
    # else the driver was killed here: no finish(); the parent stays RUNNING

    second = MlflowTracker(config, tmp_path, background=False)
    second.start(sweep_info(tmp_path, resumed=True, n_existing=2))
    assert second.parent_run_id == parent_id
    second.log_trials([trial(1), trial(2), trial(3, "PRUNED")])  # 1 is already there
    second.finish(SweepSummary("finished", 3, 1, 0, 1.0, (trial(2),), None, ()))
    stats = second.stats()
    assert (stats.trials_logged, stats.trials_skipped) == (2, 1)

    client = first._io.client  # type: ignore[union-attr]
    experiment_id = str(second.experiment_id)
    assert len(client.search_runs([experiment_id], "tags.`mmopt.role` = 'sweep'")) == 1
    assert sorted(_children(client, experiment_id, str(parent_id))) == [0, 1, 2, 3]
    parent = client.get_run(str(parent_id))
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["best_trial"] == "2"
    names = {a.path for a in client.list_artifacts(str(parent_id))}
    assert {"config.yaml", "config_resumed_after_2_trials.yaml"} <= names


def test_not_resumed_starts_a_new_parent(mlflow_template: Path, tmp_path: Path) -> None:
    copy_store(mlflow_template, tmp_path)
    config = TrackingConfig(name="mlflow", experiment="fresh")
    ids = []
    for _ in range(2):
        tracker = MlflowTracker(config, tmp_path, background=False)
        tracker.start(sweep_info(tmp_path, storage_url=None))
        tracker.finish(SweepSummary("interrupted", 0, 0, 0, 0.1, (), None, ()))
        ids.append(tracker.parent_run_id)
    assert ids[0] != ids[1]
    client = tracker._io.client  # type: ignore[union-attr]
    parent = client.get_run(str(ids[1]))
    assert parent.info.status == "KILLED"
    assert parent.data.tags["best_trial"] == "none"
    assert parent.data.tags["mmopt.storage_url"] == "in-memory"


def test_many_securities_split_into_several_log_batch_calls(
    mlflow_template: Path, tmp_path: Path
) -> None:
    copy_store(mlflow_template, tmp_path)
    securities = [f"S{i:03d}" for i in range(700)]  # 1400 per-security metrics > 1000 per call
    long_value = "x" * 7000  # over MLflow's 6000-character param limit
    record = replace(trial(0, securities=securities), strategy_params=(("note", long_value),))
    tracker = MlflowTracker(
        TrackingConfig(name="mlflow", experiment="wide"), tmp_path, background=False
    )
    tracker.start(sweep_info(tmp_path))
    tracker.log_trials([record])
    client = tracker._io.client  # type: ignore[union-attr]
    run = client.get_run(tracker._io.trial_runs["0"])  # type: ignore[union-attr]
    assert not any(k.startswith("sec.") for k in run.data.metrics)
    table = _securities_table(client, run.info.run_id, tmp_path)
    assert len(table) == 1 + 700  # ALL, then one row per security
    assert table[-1]["security"] == "S699" and float(table[-1]["fills"]) == 700.0
    assert len(run.data.params["note"]) == 6000
    assert run.data.params["note"].endswith("...[truncated]")
    assert run.info.status == "FINISHED"


def test_background_process_forwards_warnings_and_exits(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the store's directory should be")
    config = TrackingConfig(name="mlflow", tracking_uri=f"sqlite:///{blocker}/mlflow.db")
    tracker = MlflowTracker(config, tmp_path)  # MLflow runs in the tracker's own process
    tracker.start(sweep_info(tmp_path))
    tracker.log_trials([trial(0)])
    with pytest.warns(TrackingWarning, match="unusable, nothing will be logged"):
        assert tracker.flush(timeout=120)
    assert tracker.stats().trials_skipped == 1
    process = tracker._process
    assert process is not None
    with pytest.raises(MmoptError, match="tracking=none"):
        tracker.finish(SweepSummary("finished", 1, 0, 0, 1.0, (), None, ()))
    assert process._proc.poll() == 0  # drained and gone


def test_broken_store_warns_and_finish_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the store's directory should be")
    config = TrackingConfig(name="mlflow", tracking_uri=f"sqlite:///{blocker}/mlflow.db")
    tracker = MlflowTracker(config, tmp_path, background=False)
    with pytest.warns(TrackingWarning, match="unusable, nothing will be logged"):
        tracker.start(sweep_info(tmp_path))
    tracker.log_trials([trial(0)])  # silently dropped: tracking never stops a sweep
    assert tracker.stats().trials_skipped == 1
    with pytest.raises(MmoptError, match="tracking=none"):
        tracker.finish(SweepSummary("finished", 1, 0, 0, 1.0, (), None, ()))


def test_none_tracker_is_free() -> None:
    assert isinstance(make_tracker(TrackingConfig(name="none"), "unused"), NullTracker)
    code = (
        "import sys, mmopt.tracking as t; from mmopt.config import TrackingConfig;"
        "t.make_tracker(TrackingConfig(name='none'), 'x');"
        "t.make_tracker(TrackingConfig(name='mlflow'), 'x').ui_command();"
        "print(sorted(m for m in ('mlflow', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_measured_cost_is_reported(fake_sweep: FakeSweep) -> None:
    stats = fake_sweep.tracker.stats()
    assert stats.log_seconds > 0 and math.isfinite(stats.ms_per_trial)
    assert stats.submit_seconds < stats.log_seconds  # the driver only hands batches over
    assert float(fake_sweep.parent.data.tags["mlflow_ms_per_trial"]) > 0


def test_resume_fails_a_half_written_child(mlflow_template: Path, tmp_path: Path) -> None:
    copy_store(mlflow_template, tmp_path)
    config = TrackingConfig(name="mlflow", experiment="half")
    first = MlflowTracker(config, tmp_path, background=False)
    first.start(sweep_info(tmp_path))
    client = first._io.client  # type: ignore[union-attr]
    parent_id = str(first.parent_run_id)
    # killed between create_run and set_terminated: a RUNNING child
    half = client.create_run(
        str(first.experiment_id), tags={"mlflow.parentRunId": parent_id, "trial_number": "0"}
    ).info.run_id

    second = MlflowTracker(config, tmp_path, background=False)
    second.start(sweep_info(tmp_path, resumed=True, n_existing=1))
    assert second.parent_run_id == parent_id
    run = client.get_run(half)
    assert run.info.status == "FAILED" and run.data.tags["mmopt.incomplete"] == "true"


def test_failing_child_runs_warn_then_stop_being_tried(
    mlflow_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_store(mlflow_template, tmp_path)
    tracker = MlflowTracker(TrackingConfig(name="mlflow", experiment="flaky"), tmp_path,
                            background=False)  # fmt: skip
    tracker.start(sweep_info(tmp_path))
    io = tracker._io
    assert io is not None
    real = MlflowIO.log_trial
    calls: list[int] = []

    def flaky(self: MlflowIO, record: Any, names: Any) -> str:
        calls.append(record.number)
        if record.number == 0 or record.number >= 2:
            raise ConnectionError("server gone")
        return real(self, record, names)

    monkeypatch.setattr(MlflowIO, "log_trial", flaky)
    with pytest.warns(TrackingWarning) as caught:
        tracker.log_trials([trial(n) for n in range(10)])
    assert calls == [0, 1, 2, 3, 4, 5, 6]  # 1 worked (reset), then 5 failures in a row: stop
    assert "giving up on child runs" in str(caught[-1].message)
    stats = tracker.stats()
    assert (stats.trials_logged, stats.trials_skipped) == (1, 9)
