"""A real local Ray runtime: the same sweep gives the same trials as executor=local; every
worker that runs trials was warmed once, and the runtime the sweep started is shut down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest

from mmopt.cli import main
from mmopt.search import TaskOutcome
from mmopt.search.inspect import load_study

pytestmark = pytest.mark.ray


def _trials(url: str) -> list[tuple[int, str, dict[str, object], object]]:
    study = load_study("tiny", url)
    return [(t.number, t.state.name, t.params, t.values)
            for t in study.get_trials(deepcopy=False)]


def _spy_on_executor(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Capture the executor the driver makes and the worker pids of the task results."""
    import mmopt.search.driver as driver

    seen: dict[str, Any] = {"pids": set()}
    make = driver.make_executor

    def spy(config: Any) -> Any:
        executor = make(config)
        result = executor.result

        def recording_result(pending: Any) -> Any:
            value = result(pending)
            if isinstance(value, TaskOutcome):
                seen["pids"].add(value.pid)
            return value

        executor.result = recording_result  # type: ignore[method-assign]
        seen["executor"] = executor
        return executor

    monkeypatch.setattr(driver, "make_executor", spy)
    return seen


def test_ray_sweep_matches_local_trial_for_trial(
    sweep_args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    args = [a for a in sweep_args if not a.startswith("study.storage")]
    local_url = f"sqlite:///{tmp_path}/local.db"
    ray_url = f"sqlite:///{tmp_path}/ray.db"
    assert main(["sweep", "--no-progress", *args, f"study.storage={local_url}"]) == 0
    seen = _spy_on_executor(monkeypatch)
    assert main(["sweep", "--no-progress", *args, f"study.storage={ray_url}",
                 "executor=ray", "executor.num_cpus=2", "executor.trials_per_task=2"]) == 0
    local, ray_trials = _trials(local_url), _trials(ray_url)
    assert len(ray_trials) == 6
    assert all(state in ("COMPLETE", "PRUNED", "FAIL") for _, state, _, _ in ray_trials)
    assert ray_trials == local
    study = load_study("tiny", ray_url)
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        assert t.user_attrs["error"]
    # a local runtime on num_cpus CPUs, one warm-up per worker process, shut down at the end
    executor = seen["executor"]
    assert executor.name == "ray" and len(executor.warmed_pids) == 2
    assert seen["pids"] and seen["pids"] <= executor.warmed_pids
    assert not ray.is_initialized()
