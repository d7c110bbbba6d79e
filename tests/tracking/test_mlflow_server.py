"""The tracker against a real ``mlflow server`` on 127.0.0.1 (the cluster path, over HTTP)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tracking_builders import copy_store, curves, sweep_info, toy_study, trial

from mmopt.config import TrackingConfig
from mmopt.report import write_report
from mmopt.tracking import SweepSummary
from mmopt.tracking.mlflow import MlflowTracker

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

STARTUP_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def mlflow_server(mlflow_template: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    store = tmp_path / "server"
    copy_store(mlflow_template, store)
    artifacts = store / "artifacts"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(mlflow_cli), "server", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backend-store-uri", f"sqlite:///{store}/mlflow.db",
            "--serve-artifacts", "--artifacts-destination", str(artifacts),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"mlflow server did not start:\n{(tmp_path / 'server.log').read_text()}"
                )
            time.sleep(0.5)
        yield url, artifacts
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


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
