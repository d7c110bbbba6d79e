"""The tracker against a real ``mlflow server`` on 127.0.0.1 (the cluster path, over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import mlflow_server as start_mlflow_server
from tracking_builders import copy_store, curves, sweep_info, toy_study, trial

from mmopt.config import TrackingConfig
from mmopt.report import write_report
from mmopt.tracking import SweepSummary
from mmopt.tracking.mlflow import MlflowTracker

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

@pytest.fixture
def mlflow_server(mlflow_template: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``mlflow server`` on 127.0.0.1 (tests/servers.py) over a copy of the template store."""
    store = tmp_path / "server"
    copy_store(mlflow_template, store)
    artifacts = store / "artifacts"
    with start_mlflow_server(f"sqlite:///{store}/mlflow.db", artifacts,
                             tmp_path / "server.log") as url:
        yield url, artifacts


def test_fake_sweep_over_http(
    mlflow_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    url, artifacts = mlflow_server
    tracker = MlflowTracker(TrackingConfig(name="mlflow", tracking_uri=url, experiment="http"),
                            tmp_path / "runs", report_writer=write_report)  # fmt: skip
    assert tracker.ui_command() is None  # a server is opened in the browser, not with mlflow ui
    tracker.start(sweep_info(tmp_path / "runs"))
    tracker.log_trials([trial(0), trial(1, "PRUNED"), trial(2, net_pnl=99.0)])
    summary = SweepSummary("finished", 2, 1, 0, 2.0, (trial(2, net_pnl=99.0),), None, curves(),
                           toy_study(4))  # fmt: skip
    tracker.finish(summary)

    client = MlflowClient(tracking_uri=url)
    experiment_id = str(tracker.experiment_id)
    parent = client.get_run(str(tracker.parent_run_id))
    children = client.search_runs(
        [experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    assert sorted(r.data.tags["trial_number"] for r in children) == ["0", "1", "2"]
    assert {r.info.status for r in children} == {"FINISHED", "KILLED"}
    assert parent.data.tags["best_trial"] == "2" and parent.data.metrics["net_pnl"] == 99.0
    names = {Path(a.path).name for a in client.list_artifacts(parent.info.run_id, "report")}
    assert {"best_trial_securities.csv", "best_equity.png", "optuna_history.png"} <= names
    # artifacts went through the server into its --artifacts-destination
    assert any(p.name == "best_equity.png" for p in artifacts.rglob("*"))
