"""The sweep and ``mmopt show`` count a study's trials alike: a trial lost with a stopped driver
and re-run with the same parameters is "retried", not "failed"."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from test_driver_logic import NO_KPI, fake_evaluate

from mmopt.cli import main
from mmopt.cli._hydra import compose
from mmopt.config import from_hydra
from mmopt.search import run_sweep
from mmopt.search.mirror import IN_FLIGHT_KEY
from mmopt.search.space import distribution
from mmopt.search.storage import open_persistent_study
from mmopt.tracking import NullTracker


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mmopt.search._loop.evaluate", fake_evaluate)
    monkeypatch.setattr("mmopt.search.driver.warm_worker", lambda *a: 0.0)


def test_show_and_the_sweep_agree_on_failed_and_retried(
    fake: None, sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/optuna.db"
    run = from_hydra(compose([*sweep_args, f"study.storage={url}", "study.pruner.name=none",
                              "study.n_trials=6", *NO_KPI]))
    persistent = open_persistent_study(run, url)
    dists = {p.name: distribution(p) for p in run.search.params}
    params = {"refill_interval_s": 1.0, "quote_size": 2, "max_position": 4,
              "min_notional_before_quote": 0.0, "stop_loss_pct": 0.5}
    done = optuna.trial.create_trial(value=1.0, params=params, distributions=dists)
    persistent.storage.create_new_trial(persistent.study_id, template_trial=done)
    # a driver killed with three trials in flight (no lease row: it is gone)
    persistent.storage.set_study_system_attr(persistent.study_id, IN_FLIGHT_KEY,
                                             [[1, params], [2, params], [3, params]])
    result = run_sweep(run, progress=False, tracker=NullTracker())
    assert result.n_retried == 3
    assert result.n_complete + result.n_pruned + result.n_failed == 6
    capsys.readouterr()
    assert main(["show", "tiny", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert (f"{result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed, "
            "3 retried, 0 running") in out
