"""docker/compose.yaml for real, with podman: the images are built (from a Debian base made with
debootstrap when podman's store lacks it), the stack comes up on 127.0.0.1 (PostgreSQL, an MLflow
server backed by it, a Ray head and two Ray workers), ``jobs/submit_sweep.py`` submits a sweep
to the head's job API, the sweep completes with its study in PostgreSQL and its runs on the
MLflow server, and the stack is torn down (containers and volumes).

Run as root with podman, runc and debootstrap installed (``.ci/run`` installs them)::

    python -m pytest tests/docker -m docker -s     # -s shows the build and run times
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from podman_stack import (
    REPO,
    Stack,
    build_images,
    compose_stack,
    ensure_base_image,
    http_json,
    require_tools,
    run,
    wait_for,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

N_TRIALS = 4
RAY_NODES = 3  # the head and two workers
STARTUP_TIMEOUT_S = 600.0
SWEEP_TIMEOUT_S = 2400.0


def make_data(root: Path) -> Path:
    """Two small synthetic shards, readable by the image's unprivileged user (uid 1000)."""
    run([sys.executable, "-c", "import sys; from mmopt.cli import main; sys.exit(main())",
         "data", "synth", str(root), "--securities", "2", "--days", "1",
         "--events-per-day", "20000", "--seed", "7", "--quiet"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=900)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def alive_ray_nodes(stack: Stack) -> int:
    reply = http_json(f"{stack.dashboard_url}/api/v0/nodes?limit=100")
    assert isinstance(reply, dict)
    nodes = reply["data"]["result"]["result"]
    return sum(1 for node in nodes if node.get("state") == "ALIVE")


def mlflow_healthy(stack: Stack) -> bool:
    import urllib.request

    with urllib.request.urlopen(f"{stack.mlflow_url}/health", timeout=5) as response:
        return bool(response.status == 200)


def submit_sweep(stack: Stack, submission_id: str, study: str) -> subprocess.CompletedProcess[str]:
    """``jobs/submit_sweep.py`` exactly as a user runs it against the stack: the head reads the
    storage and tracking URLs (with the password) from its own environment (compose sets them)."""
    venv_bin = str(Path(sys.executable).parent)  # the `ray` CLI the script calls
    return run(
        [sys.executable, str(REPO / "jobs" / "submit_sweep.py"),
         "--address", stack.dashboard_url, "--secrets", "cluster", "--data-root", "/data",
         "--submission-id", submission_id, "--",
         "data=parquet", "strategy=price_follow", "study=random", f"study.n_trials={N_TRIALS}",
         f"study.name={study}", f"tracking.experiment={study}", "executor.trials_per_task=2"],
        env={**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=SWEEP_TIMEOUT_S, check=False, cwd=REPO,
    )  # fmt: skip


def job_logs(stack: Stack, submission_id: str) -> str:
    try:
        reply = http_json(f"{stack.dashboard_url}/api/jobs/{submission_id}/logs")
    except OSError as error:
        return f"(job logs unavailable: {error})"
    assert isinstance(reply, dict)
    return str(reply.get("logs", ""))[-8000:]


def mlflow_runs(stack: Stack, experiment: str) -> list[dict[str, Any]]:
    found = http_json(f"{stack.mlflow_url}/api/2.0/mlflow/experiments/get-by-name"
                      f"?experiment_name={experiment}")
    assert isinstance(found, dict)
    experiment_id = found["experiment"]["experiment_id"]
    runs: list[dict[str, Any]] = []
    token = None
    while True:
        payload: dict[str, object] = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            payload["page_token"] = token
        page = http_json(f"{stack.mlflow_url}/api/2.0/mlflow/runs/search", payload)
        assert isinstance(page, dict)
        runs += page.get("runs", [])
        token = page.get("next_page_token")
        if not token:
            return runs


def tags(run_info: dict[str, Any]) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run_info["data"].get("tags", [])}


@pytest.mark.timeout(5400)
def test_compose_stack_runs_a_sweep_with_postgres_and_mlflow(tmp_path: Path) -> None:
    require_tools()
    started = time.perf_counter()
    base_s = ensure_base_image()
    build_s = build_images()
    data = make_data(tmp_path / "data")
    up_started = time.perf_counter()
    with compose_stack(data) as stack:
        wait_for("the MLflow server", lambda: mlflow_healthy(stack), STARTUP_TIMEOUT_S, stack)
        wait_for(f"{RAY_NODES} Ray nodes", lambda: alive_ray_nodes(stack) == RAY_NODES,
                 STARTUP_TIMEOUT_S, stack)
        up_s = time.perf_counter() - up_started

        study = f"docker-{secrets.token_hex(3)}"
        submission_id = f"mmopt-{study}"
        sweep_started = time.perf_counter()
        submitted = submit_sweep(stack, submission_id, study)
        sweep_s = time.perf_counter() - sweep_started
        job = http_json(f"{stack.dashboard_url}/api/jobs/{submission_id}")
        assert isinstance(job, dict)
        assert submitted.returncode == 0 and job["status"] == "SUCCEEDED", (
            f"job {job.get('status')}: {job.get('message')}\n--- submit\n"
            f"{submitted.stdout[-4000:]}{submitted.stderr[-4000:]}\n--- job logs\n"
            f"{job_logs(stack, submission_id)}\n{stack.logs()}"
        )
        # the password never reached a command line (the entrypoint names the variables)
        assert stack.db_password not in str(job.get("entrypoint", ""))

        # the study is in the stack's PostgreSQL (published on 127.0.0.1 only)
        import optuna

        loaded = optuna.load_study(study_name=study, storage=stack.postgres_url("optuna"))
        states = [trial.state for trial in loaded.trials]
        assert len(states) == N_TRIALS
        assert all(state == optuna.trial.TrialState.COMPLETE for state in states), states

        # one parent run and one child run per trial on the MLflow server (in its PostgreSQL)
        runs = mlflow_runs(stack, study)
        parents = [r for r in runs if "mlflow.parentRunId" not in tags(r)]
        assert len(parents) == 1, [tags(r) for r in parents]
        parent = parents[0]
        assert parent["info"]["status"] == "FINISHED"
        assert tags(parent).get("mmopt.study_name") == study
        children = [r for r in runs
                    if tags(r).get("mlflow.parentRunId") == parent["info"]["run_id"]]
        assert len(children) == N_TRIALS
        assert stack.db_password not in str(tags(parent))

    assert not stack.containers()  # torn down (compose_stack also checks and cleans up)
    total_s = time.perf_counter() - started
    print(
        f"\ndocker stack: base image {base_s:.0f} s, mmopt image build {build_s['mmopt']:.0f} s, "
        f"postgres image build {build_s['postgres']:.0f} s, stack up {up_s:.0f} s, "
        f"sweep ({N_TRIALS} trials) {sweep_s:.0f} s, total {total_s:.0f} s"
    )
