"""jobs/submit_sweep.py keeps a storage password off every command line: `ray job submit`'s
argv, the job's entrypoint and what it prints; the password reaches the job through a private
(0600) runtime env file removed after submitting, or through the cluster's own environment."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SECRET = "S3cretPW"
URL = f"postgresql://alice:{SECRET}@db:5432/optuna"


def _submit_module() -> ModuleType:
    path = REPO / "jobs" / "submit_sweep.py"
    spec = importlib.util.spec_from_file_location("submit_sweep_t", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_ray(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `ray` on PATH that records its argv and the runtime env file it was given."""
    record = tmp_path / "record.json"
    script = tmp_path / "bin" / "ray"
    script.parent.mkdir()
    script.write_text(f"""#!{sys.executable}
import json, os, stat, sys
argv = sys.argv[1:]
env_file = argv[argv.index("--runtime-env") + 1]
mode = stat.S_IMODE(os.stat(env_file).st_mode)
json.dump({{"argv": argv, "env_file": env_file, "mode": mode,
           "env": open(env_file).read()}}, open({str(record)!r}, "w"))
""")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    for env in ("RAY_ADDRESS", "MMOPT_STUDY_STORAGE", "MMOPT_TRACKING_URI", "MMOPT_DATA_ROOT"):
        monkeypatch.delenv(env, raising=False)
    return record


def test_the_password_is_shipped_in_a_private_runtime_env_not_on_a_command_line(
    fake_ray: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    submit = _submit_module()
    assert submit.main(["--storage", URL, "--", "study.n_trials=3"]) == 0
    seen = json.loads(fake_ray.read_text())
    assert SECRET not in " ".join(seen["argv"])
    entrypoint = seen["argv"][seen["argv"].index("--") + 1:]
    assert "study.storage=${oc.env:MMOPT_STUDY_STORAGE}" in entrypoint
    assert seen["mode"] & (stat.S_IRWXG | stat.S_IRWXO) == 0  # private to the user
    env = yaml.safe_load(seen["env"])
    assert env["env_vars"]["MMOPT_STUDY_STORAGE"] == URL
    assert env["env_vars"]["NUMBA_CACHE_DIR"]  # the rest of jobs/runtime_env.yaml is kept
    assert env["excludes"] and env["working_dir"] == "."
    assert not Path(seen["env_file"]).exists()  # removed once submitted
    out = capsys.readouterr().out
    assert SECRET not in out and "ray job submit" in out


def test_with_secrets_on_the_cluster_nothing_is_shipped(
    fake_ray: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    submit = _submit_module()
    assert submit.main(["--secrets", "cluster", "--storage", URL]) == 0
    seen = json.loads(fake_ray.read_text())
    assert seen["env_file"] == str(REPO / "jobs" / "runtime_env.yaml")
    assert SECRET not in seen["env"] and SECRET not in " ".join(seen["argv"])
    assert "tracking.tracking_uri=${oc.env:MMOPT_TRACKING_URI}" in seen["argv"]
    assert submit.main(["--dry-run", "--storage", URL]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "MMOPT_STUDY_STORAGE=postgresql://alice:***@db" in out


def test_a_url_without_a_password_stays_on_the_command_line(fake_ray: Path) -> None:
    submit = _submit_module()
    url = "postgresql://alice@db:5432/optuna"  # the password from PGPASSWORD / ~/.pgpass
    assert submit.main(["--storage", url]) == 0
    seen = json.loads(fake_ray.read_text())
    assert f"study.storage={url}" in seen["argv"]
    assert seen["env_file"] == str(REPO / "jobs" / "runtime_env.yaml")
