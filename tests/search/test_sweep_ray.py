"""A real local Ray runtime: the same sweep gives the same trials as executor=local."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from mmopt.cli import main
from mmopt.search.inspect import load_study

pytestmark = pytest.mark.ray


def _trials(url: str) -> list[tuple[int, str, dict[str, object], object]]:
    study = load_study("tiny", url)
    return [(t.number, t.state.name, t.params, t.values)
            for t in study.get_trials(deepcopy=False)]


def test_ray_sweep_matches_local_trial_for_trial(sweep_args: list[str], tmp_path: Path) -> None:
    args = [a for a in sweep_args if not a.startswith("study.storage")]
    local_url = f"sqlite:///{tmp_path}/local.db"
    ray_url = f"sqlite:///{tmp_path}/ray.db"
    assert main(["sweep", "--no-progress", *args, f"study.storage={local_url}"]) == 0
    assert main(["sweep", "--no-progress", *args, f"study.storage={ray_url}",
                 "executor=ray", "executor.num_cpus=2", "executor.trials_per_task=2"]) == 0
    local, ray = _trials(local_url), _trials(ray_url)
    assert len(ray) == 6
    assert all(state in ("COMPLETE", "PRUNED", "FAIL") for _, state, _, _ in ray)
    assert ray == local
    study = load_study("tiny", ray_url)
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        assert t.user_attrs["error"]
