"""Sweeps on markets whose truth is known (see ``known_truth_market``).

* Planted edge: quoting more lots and re-quoting sooner earns more; the sweep must find that
  region, its result must hold on the held-out day, and the statistics must say it holds up.
* Pure noise: every parameter set has an expected PnL of zero; whatever the sweep's best
  earned in sample, the statistics must call it overfit or insignificant.

Six in-sample days of 20 minutes (112 time slices for CSCV) and one held-out day; 20 trials,
in-process, no tracking. The thresholds were checked on sampler/market seeds 1-5 (noise: PBO
0.45-0.78, deflated Sharpe p 0.25-0.81; edge: PBO 0.00-0.07, p < 0.001, best quote_size 5
and refill_interval_s <= 1.9 s); the tests pin seed 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mmopt.cli import main
from mmopt.cli._hydra import compose_config
from mmopt.search import run_sweep
from mmopt.tracking.study_summary import summary_path
from tests.search.known_truth_market import Scenario, write_market

N_DAYS = 6
SECONDS = 1200.0
SEED = 1


def _dates() -> list[str]:
    days = np.busday_offset(np.datetime64("2024-03-04"), np.arange(N_DAYS + 1))
    return [str(d) for d in days]


def _overrides(root: Path, tmp_path: Path, scenario: Scenario) -> list[str]:
    dates = _dates()
    write_market(root, scenario, dates, seconds=SECONDS, seed=SEED)
    return [
        "data=parquet", f"data.root={root}", f"data.holdout_dates=[{dates[-1]}]",
        "strategy=fixed_interval", "executor=local", "executor.trials_per_task=4",
        "tracking=none", "objective.use_constraints=false",
        f"study.name=kt-{scenario}", "study.n_trials=20", f"study.sampler.seed={SEED}",
        f"study.storage=sqlite:///{tmp_path}/optuna.db", f"run_dir={tmp_path}",
    ]


def test_planted_edge_is_found_and_holds_out_of_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _overrides(tmp_path / "edge", tmp_path, "edge")
    assert main(["sweep", "--no-progress", *args]) == 0
    printed = capsys.readouterr().out
    assert "the best trial holds up: PBO" in printed  # the verdict under the best trial

    path = summary_path(tmp_path, "kt-edge")
    summary = json.loads(path.read_text())
    params = summary["params"]
    # the known profitable region: many lots, re-quoted within about two trade gaps
    assert params["quote_size"] >= 4 and params["refill_interval_s"] <= 2.0
    in_sample_per_day = summary["objective_in_sample"] / N_DAYS
    held_out = summary["objective_out_of_sample"]  # one held-out day
    assert in_sample_per_day > 0 and held_out > 0.6 * in_sample_per_day
    assert summary["verdict"] == "holds_up"
    assert summary["pbo"] < 0.2 and summary["deflated_sharpe_p"] < 0.01
    assert summary["psr"] > 0.99
    assert summary["overfitting"]["pbo"]["n_slices"] >= 64
    assert summary["folds"] == []

    # `mmopt show --json` prints the same file; `mmopt show` prints the verdict
    storage = f"sqlite:///{tmp_path}/optuna.db"
    assert main(["show", "kt-edge", "--storage", storage, "--json",
                 "--run-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == path.read_text()
    assert main(["show", "kt-edge", "--storage", storage, "--run-dir", str(tmp_path)]) == 0
    assert "the best trial holds up" in capsys.readouterr().out


def test_pure_noise_is_called_overfit_or_insignificant(tmp_path: Path) -> None:
    run = compose_config(_overrides(tmp_path / "noise", tmp_path, "noise"))
    result = run_sweep(run, progress=False)

    report = result.report
    assert report is not None and result.report_path is not None
    stats = report.overfitting
    assert stats.pbo is not None and stats.deflated is not None
    assert stats.pbo_value >= 0.4  # the in-sample winner is a coin flip out of sample
    assert stats.dsr_p >= 0.1  # its Sharpe is what the best of 20 noise trials gets
    assert stats.verdict in ("likely_overfit", "not_significant")
    assert stats.text.startswith(("the best trial is likely overfit",
                                  "the best trial is not significant"))
    written = json.loads(Path(result.report_path).read_text())
    assert written["pbo"] == pytest.approx(stats.pbo_value)
    assert written["deflated_sharpe"] == pytest.approx(stats.dsr)
