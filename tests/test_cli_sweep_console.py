"""`mmopt sweep` on the console: --cfg (Hydra's flag), -m (one study per combination) and the
progress summary lines when stderr is not a terminal. Tiny synthetic data, executor=local,
Optuna and MLflow in SQLite files under tmp_path."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml

from mmopt.cli import main
from mmopt.search.inspect import load_study
from mmopt.search.progress import Progress

EVENTS = 6000


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console_data")


def _args(root: Path, run_dir: Path) -> list[str]:
    return [
        "experiment=smoke", f"run_dir={run_dir}", f"data.root={root}",
        f"data.generate.events_per_day={EVENTS}", "study=random", "study.name=tiny",
        "study.n_trials=2", f"study.storage=sqlite:///{run_dir}/optuna.db",
        "executor.trials_per_task=2", "tracking=mlflow", "tracking.experiment=console",
    ]


def test_cfg_job_prints_the_composed_config_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "never"
    assert main(["sweep", "--cfg", "job", f"run_dir={run_dir}", "strategy=layered_grid"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["strategy"]["name"] == "layered_grid"
    assert printed["study"]["name"] == "${strategy.name}-${data.name}"  # as Hydra: unresolved
    assert "hydra" not in printed
    assert not run_dir.exists()

    assert main(["sweep", "--cfg", "job", "--resolve", "-p", "study", "strategy=layered_grid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# @package study\n")
    assert yaml.safe_load(out)["name"] == "layered_grid-synthetic"

    assert main(["sweep", "--cfg", "hydra"]) == 0
    assert set(yaml.safe_load(capsys.readouterr().out)) == {"hydra"}
    assert main(["sweep", "--cfg", "all"]) == 0
    assert {"hydra", "strategy", "study"} <= set(yaml.safe_load(capsys.readouterr().out))


def test_cfg_and_sweep_syntax_errors_are_clear(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--cfg", "everything"]) == 2
    assert "expected one of job, hydra, all" in capsys.readouterr().err
    assert main(["sweep", "strategy=price_follow,layered_grid"]) == 2
    assert "needs -m / --multirun" in capsys.readouterr().err
    assert main(["sweep", "-m", "strategy=price_follow,no_such_strategy", "--cfg", "job"]) == 2
    assert "no_such_strategy" in capsys.readouterr().err


def test_multirun_runs_one_resumable_study_per_combination(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow import MlflowClient

    sweep = ["sweep", "--no-progress", "-m", *_args(data_root, tmp_path),
             "strategy=price_follow,fixed_interval"]
    assert main(sweep) == 0
    out = capsys.readouterr().out
    assert "multirun 1/2: strategy=price_follow -> study tiny-price_follow" in out
    assert "multirun 2/2: strategy=fixed_interval -> study tiny-fixed_interval" in out
    assert "study tiny-price_follow (finished)" in out
    assert "study tiny-fixed_interval (finished)" in out
    storage = f"sqlite:///{tmp_path}/optuna.db"
    for name in ("tiny-price_follow", "tiny-fixed_interval"):
        assert len(load_study(name, storage).get_trials(deepcopy=False)) == 2

    assert main([*sweep, "study.n_trials=3"]) == 0  # the same command resumes each study
    capsys.readouterr()
    searched = []
    for name in ("tiny-price_follow", "tiny-fixed_interval"):
        trials = load_study(name, storage).get_trials(deepcopy=False)
        assert len(trials) == 3
        searched.append(set(trials[0].params))
    assert searched[0] != searched[1]  # each study searched its own strategy's space
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.get_experiment_by_name("console")
    parents = client.search_runs([experiment.experiment_id],
                                 filter_string="tags.`mmopt.role` = 'sweep'")
    assert sorted(p.data.tags["mmopt.study_name"] for p in parents) == [
        "tiny-fixed_interval", "tiny-price_follow"]  # one parent each, reopened on resume
    for parent in parents:
        children = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
        assert len(children) == 3


def test_progress_off_a_terminal_is_a_summary_line_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr("mmopt.search.progress.time.monotonic", lambda: clock[0])
    stream = io.StringIO()
    bar = Progress(10, 2, enabled=True, study_name="s", stream=stream, every_s=5.0)
    for _ in range(6):  # six trials within 3 s: no line yet
        clock[0] += 0.5
        bar.trial_done("COMPLETE")
    assert stream.getvalue() == ""
    clock[0] += 2.5
    bar.tick()  # 5.5 s: one line
    clock[0] += 1.0
    bar.trial_done("PRUNED")
    bar.best(1.5, 3)
    bar.close()  # and a last one at the end
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("s: 8/10 trials (complete=6 pruned=0 failed=0 best=-)")
    assert re.search(r"s: 9/10 trials \(complete=6 pruned=1 failed=0 best=1.5 \(#3\)\), "
                     r"1.1 trial/s, 6 s elapsed, ETA 1 s", lines[1])  # 7 trials in 6.5 s


def test_progress_of_several_studies_names_no_single_best() -> None:
    stream = io.StringIO()
    bar = Progress(4, 0, enabled=True, study_name="wf (2 folds)", stream=stream, every_s=0.0,
                   show_best=False)
    bar.trial_done("COMPLETE")
    bar.close()
    assert "best=" not in stream.getvalue()
    assert "wf (2 folds): 1/4 trials (complete=1 pruned=0 failed=0)" in stream.getvalue()


def test_sweep_progress_in_a_log_is_summary_lines(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a for a in _args(data_root, tmp_path) if not a.startswith("tracking")]
    assert main(["sweep", "--progress-every", "0", *args, "tracking=none"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("tiny: ")]
    assert len(lines) >= 2 and lines[-1].startswith("tiny: 2/2 trials")  # one per trial here
    assert "\r" not in err  # no bar redraws in a log
    assert main(["sweep", "--progress-every", "-1", *args]) == 2


def test_cfg_multirun_prints_each_combination(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "-m", "--cfg", "job", "--resolve", "-p", "study.name",
                 "strategy=avellaneda_stoikov,layered_grid", "data=binance,synthetic"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^# (strategy=\S+ data=\S+)$", out, re.M) == [
        "strategy=avellaneda_stoikov data=binance", "strategy=avellaneda_stoikov data=synthetic",
        "strategy=layered_grid data=binance", "strategy=layered_grid data=synthetic"]
    assert re.findall(r"^name: (\S+)$", out, re.M) == [
        "avellaneda_stoikov-binance", "avellaneda_stoikov-synthetic", "layered_grid-binance",
        "layered_grid-synthetic"]
