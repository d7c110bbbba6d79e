"""The cluster path's files parse and say what jobs/README.md says (Docker is not run here)."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path
from types import ModuleType

import yaml

from mmopt.cli._hydra import compose
from mmopt.config import from_hydra

REPO = Path(__file__).resolve().parents[2]


def _submit_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submit_sweep", REPO / "jobs" / "submit_sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_submit_command_and_its_overrides_compose(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for env in ("RAY_ADDRESS", "MMOPT_STUDY_STORAGE", "MMOPT_TRACKING_URI", "MMOPT_DATA_ROOT"):
        monkeypatch.delenv(env, raising=False)
    submit = _submit_module()
    args = submit.parse_args(["--no-wait", "--data-root", "/data/binance", "study.n_trials=300"])
    command = submit.build_command(args)
    assert shlex.join(command) == (
        f"ray job submit --address http://127.0.0.1:8265 --runtime-env "
        f"{REPO}/jobs/runtime_env.yaml --working-dir {REPO} --no-wait -- mmopt sweep "
        "executor=ray executor.address=auto "
        "'study.storage=${oc.env:MMOPT_STUDY_STORAGE}' "
        "tracking=mlflow tracking.tracking_uri=http://mlflow:5000 data.root=/data/binance "
        "study.n_trials=300"
    )  # the password is not on the command line: the job gets it in its environment
    assert submit.secret_env(args) == {
        "MMOPT_STUDY_STORAGE": "postgresql+psycopg2://mmopt:mmopt@postgres:5432/optuna"}
    monkeypatch.setenv("MMOPT_STUDY_STORAGE",
                       "postgresql+psycopg2://mmopt:mmopt@postgres:5432/optuna")
    run = from_hydra(compose(command[command.index("sweep") + 1 :]))
    assert run.executor.name == "ray" and run.executor.address == "auto"
    assert run.study.storage == "postgresql+psycopg2://mmopt:mmopt@postgres:5432/optuna"
    assert run.tracking.tracking_uri == "http://mlflow:5000"
    assert run.data.root == "/data/binance" and run.study.n_trials == 300


def test_runtime_env_ships_the_source_not_the_venv() -> None:
    env = yaml.safe_load((REPO / "jobs" / "runtime_env.yaml").read_text())
    assert env["working_dir"] == "."
    assert {"/.venv", "/.git", "/runs", "/data"} <= set(env["excludes"])  # top level only
    # anchored at the top (.gitignore syntax): a bare "data" also dropped the package
    # mmopt/data from every job (found by tests/docker)
    assert "data" not in env["excludes"]
    assert env["env_vars"]["NUMBA_CACHE_DIR"]
    assert "pip" not in env and "conda" not in env  # the image has the pinned dependencies


def test_compose_has_ray_head_two_workers_mlflow_and_postgres() -> None:
    spec = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    services = spec["services"]
    assert set(services) == {"ray-head", "ray-worker-1", "ray-worker-2", "mlflow", "postgres"}
    # the commands are docker/mmopt-service.sh's (run for real by tests/docker)
    assert services["ray-head"]["command"] == "mmopt-service ray-head"
    for worker in ("ray-worker-1", "ray-worker-2"):
        assert services[worker]["command"] == "mmopt-service ray-worker"
        assert services[worker]["environment"]["RAY_HEAD_ADDRESS"] == "ray-head:6379"
        assert services[worker]["shm_size"]
    store = services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"]
    assert "postgresql+psycopg2://" in store and "@postgres:5432/mlflow" in store
    script = (REPO / "docker" / "mmopt-service.sh").read_text()
    assert "--head" in script and "--serve-artifacts" in script and "mlflow:*" in script
    init = (REPO / "docker" / "postgres-init.sql").read_text()
    assert "CREATE DATABASE mlflow" in init


def test_dockerfile_installs_with_the_constraints() -> None:
    text = (REPO / "docker" / "Dockerfile").read_text()
    assert "pip install -c constraints.txt -r requirements.txt" in text
    assert "COPY mmopt ./mmopt" in text
