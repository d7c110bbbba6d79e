"""End-to-end sweeps through the CLI on tiny synthetic data: study contents, best, show, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from mmopt.cli import main
from mmopt.search.inspect import load_study


def _study(tmp_path: Path, name: str = "tiny") -> optuna.Study:
    return load_study(name, f"sqlite:///{tmp_path}/optuna.db")


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]


def test_local_sweep_fills_the_study_and_best_show_read_it(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--no-progress", *sweep_args]) == 0
    study = _study(tmp_path)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 6
    assert all(t.state.is_finished() for t in trials)
    assert [t.number for t in trials] == list(range(6))
    for t in trials:
        if t.state == optuna.trial.TrialState.FAIL:
            assert t.user_attrs["error"]  # the worker's message is kept on the trial
        else:
            assert "metrics" in t.user_attrs["mmopt"]
    out = capsys.readouterr().out
    assert "study tiny (finished)" in out
    assert main(["show", "tiny", "--storage", f"sqlite:///{tmp_path}/optuna.db", "--all"]) == 0
    assert "tiny:" in capsys.readouterr().out
    code = main(["best", "tiny", "--storage", f"sqlite:///{tmp_path}/optuna.db"])
    if any(t.state == optuna.trial.TrialState.COMPLETE and
           all(c <= 0 for c in t.constraints.values()) for t in trials):
        assert code == 0 and "params:" in capsys.readouterr().out
    else:
        assert code == 2 and "no complete feasible trial" in capsys.readouterr().err


def test_rerun_resumes_and_counts_the_total(sweep_args: list[str], tmp_path: Path) -> None:
    assert main(["sweep", "--no-progress", *sweep_args, "study.n_trials=4"]) == 0
    first = {t.number: t.params for t in _finished(_study(tmp_path))}
    assert len(first) == 4
    assert main(["sweep", "--no-progress", *sweep_args, "study.n_trials=6"]) == 0
    trials = _finished(_study(tmp_path))
    assert len(trials) == 6
    assert {t.number: t.params for t in trials if t.number < 4} == first
    # the same config again: nothing left to do
    assert main(["sweep", "--no-progress", *sweep_args, "study.n_trials=6"]) == 0
    assert len(_study(tmp_path).trials) == 6


def test_reusing_a_study_name_with_another_config_is_an_error(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--no-progress", *sweep_args, "study.n_trials=2"]) == 0
    code = main(["sweep", "--no-progress", *sweep_args, "objective.lambda=3.0"])
    assert code == 2
    assert "another config (changed: objective.lambda)" in capsys.readouterr().err
    assert len(_study(tmp_path).trials) == 2


def test_sigkill_mid_sweep_then_resume_keeps_finished_trials(
    sweep_args: list[str], tmp_path: Path
) -> None:
    # A long budget so that the kill surely lands mid-sweep; the resume then asks for a
    # total just above what was finished (n_trials counts the total), to stay short.
    args = [a for a in sweep_args if not a.startswith("study.n_trials")]
    cmd = [sys.executable, "-c", "from mmopt.cli import main; raise SystemExit(main())",
           "sweep", "--no-progress", *args, "study.n_trials=500"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env={**os.environ})
    db = tmp_path / "optuna.db"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if db.exists() and _count_finished(db) >= 3:
            break
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    before = {t.number: (t.state, t.params) for t in _finished(_study(tmp_path))}
    assert len(before) >= 3
    total = len(before) + 4
    assert main(["sweep", "--no-progress", *args, f"study.n_trials={total}"]) == 0
    trials = _study(tmp_path).get_trials(deepcopy=False)
    assert all(t.state.is_finished() for t in trials)
    for number, (state, params) in before.items():
        assert trials[number].state == state and trials[number].params == params
    counted = [t for t in trials if not t.user_attrs.get("mmopt.requeue")]
    assert len(counted) == total
    requeued = [t for t in trials if t.user_attrs.get("mmopt.requeue")]
    # the trials in flight at the kill are failed and their parameters re-run once
    retried = {t.user_attrs["mmopt.retry_of"] for t in trials if "mmopt.retry_of" in t.user_attrs}
    assert retried == {t.number for t in requeued}
    by_number = {t.number: t.params for t in trials}
    for t in trials:
        if "mmopt.retry_of" in t.user_attrs:
            assert t.params == by_number[t.user_attrs["mmopt.retry_of"]]


def _count_finished(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=1) as con:
            row = con.execute("select count(*) from trials where state != 'RUNNING'").fetchone()
        return int(row[0])
    except sqlite3.Error:
        return 0


def test_show_fits_80_columns_and_best_round_trips_to_the_config(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shlex

    import yaml

    from mmopt.cli._hydra import compose
    from mmopt.config import from_hydra

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["sweep", "--no-progress", *sweep_args]) == 0
    capsys.readouterr()
    url = f"sqlite:///{tmp_path}/optuna.db"
    assert main(["show", "tiny", "--storage", url, "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "state" in line).split()
    assert header == ["#", "state", "feasible", "value", "net_pnl", "cvar95", "fill_ratio",
                      "spread_cap"]
    assert any("refill_interval_s=" in line for line in lines)  # parameters, one line each
    assert main(["show", "tiny", "--storage", url, "--columns", "sharpe,cancel_ratio"]) == 0
    assert "cancel_r" in capsys.readouterr().out
    assert main(["show", "tiny", "--storage", url, "--columns", "nope"]) == 2
    assert "unknown metric(s) nope" in capsys.readouterr().err
    assert main(["best", "tiny", "--storage", url, "--infeasible"]) == 0
    out = capsys.readouterr().out
    best = yaml.safe_load(out)
    assert best["name"] == "price_follow" and "refill_interval_s" in best["params"]
    command = next(line for line in out.splitlines() if line.startswith("# re-run it: "))
    argv = shlex.split(command.removeprefix("# re-run it: "))
    assert argv[:3] == ["mmopt", "backtest", "strategy=price_follow"]
    run = from_hydra(compose(argv[2:]))
    assert run.strategy.params_dict() == best["params"]
