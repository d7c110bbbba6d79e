"""``jobs/submit_sweep.py --gcs-address``: the job's driver joins the head's GCS named
explicitly (``executor.address=HOST:PORT``), never whichever Ray ``auto`` finds on the head;
a dashboard URL given by mistake is refused before anything is submitted."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _submit_module() -> ModuleType:
    path = REPO / "jobs" / "submit_sweep.py"
    spec = importlib.util.spec_from_file_location("submit_sweep_gcs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_gcs_address_becomes_the_executor_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMOPT_RAY_GCS_ADDRESS", raising=False)
    submit = _submit_module()
    args = submit.parse_args(["--gcs-address", "10.0.0.5:6379", "--", "study.n_trials=3"])
    assert "executor.address=10.0.0.5:6379" in submit.build_command(args)
    monkeypatch.setenv("MMOPT_RAY_GCS_ADDRESS", "10.0.0.6:6380")
    assert "executor.address=10.0.0.6:6380" in submit.build_command(submit.parse_args([]))
    monkeypatch.delenv("MMOPT_RAY_GCS_ADDRESS")
    assert "executor.address=auto" in submit.build_command(submit.parse_args([]))


@pytest.mark.parametrize("bad", ["http://10.0.0.5:8265", "10.0.0.5", "10.0.0.5:port"])
def test_a_dashboard_url_or_a_bare_host_is_refused(
    bad: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MMOPT_RAY_GCS_ADDRESS", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        _submit_module().parse_args(["--gcs-address", bad])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"--gcs-address {bad!r}: expected HOST:PORT of the Ray head's GCS" in err
