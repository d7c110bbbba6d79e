"""Walk-forward end to end on tiny synthetic data: one study per fold on its train dates only,
out-of-sample re-runs that match a direct evaluation, the stitched result, resume, the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from mmopt.cli import main
from mmopt.cli._hydra import compose_config
from mmopt.config import RunConfig, open_shards
from mmopt.errors import ConfigError
from mmopt.executors import ShardCache
from mmopt.search import run_sweep, run_walk_forward
from mmopt.search.folds import plan_folds
from mmopt.search.inspect import load_study
from mmopt.search.objective import WorkSpec, evaluate
from mmopt.search.scoring import score
from mmopt.search.shards import load_shard_set

EVENTS = 6000


@pytest.fixture(scope="module")
def wf_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wf_data")


@pytest.fixture
def wf_args(wf_root: Path, tmp_path: Path) -> list[str]:
    return [
        "experiment=smoke", f"run_dir={tmp_path}", f"data.root={wf_root}",
        "data.generate.n_days=4", f"data.generate.events_per_day={EVENTS}",
        "study=default", "study.name=wf", "study.n_trials=4",
        "study.sampler.n_startup_trials=2", "study.pruner.n_startup_trials=2",
        f"study.storage=sqlite:///{tmp_path}/optuna.db", "executor.trials_per_task=2",
        "objective.use_constraints=false", "validation=walk_forward", "validation.top_k=2",
    ]


def _direct_oos(run: RunConfig, test: tuple[str, ...], params: tuple) -> float:
    """The objective of ``params`` on the test dates, computed without the walk-forward."""
    shard_set = load_shard_set(dataclasses.replace(run.data, dates=test))
    spec = WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)
    metrics = []
    for shard in shard_set.shards:
        (outcome,) = evaluate(spec, shard, (params,)).outcomes
        assert outcome.metrics is not None, outcome.error
        metrics.append(outcome.metrics)
    return score(metrics, run.objective).values[0]


def test_walk_forward_runs_a_study_per_fold_and_stitches_its_test_results(
    wf_args: list[str], tmp_path: Path
) -> None:
    run = compose_config(wf_args)
    days = open_shards(run.data).dates
    assert len(days) == 4
    result = run_walk_forward(run, progress=False)

    assert result.status == "finished"
    folds = result.summary.folds
    assert [(f.train_dates, f.test_dates) for f in folds] == [
        (days[:1], days[1:2]), (days[:2], days[2:3]), (days[:3], days[3:4])]
    assert result.n_run == 3 * 4
    n_securities = 2
    for fold in folds:
        study = load_study(f"wf-fold{fold.index}", run.study.storage)
        trials = study.get_trials(deepcopy=False)
        assert len(trials) == 4 and all(t.state.is_finished() for t in trials)
        for t in trials:  # a fold's study never saw its test dates
            if t.state.name == "COMPLETE":
                assert t.user_attrs["mmopt"]["n_shards"] == n_securities * len(fold.train_dates)
        assert fold.chosen is not None
        assert [t.in_sample_rank for t in fold.rerun] == sorted(t.in_sample_rank
                                                                for t in fold.rerun)
        assert len(fold.rerun) == min(2, fold.n_complete)
        chosen = fold.chosen_trial
        assert chosen is not None and chosen.in_sample_rank == 1  # selection=best
        assert chosen.in_sample_value == study.best_trial.value
        # known truth: the out-of-sample value is the objective of a direct evaluation
        assert chosen.oos_value == _direct_oos(run, fold.test_dates, chosen.params)
    pooled = _pooled(run, folds)
    assert result.summary.stitched_value == pooled
    saved = json.loads((tmp_path / "wf" / "folds.json").read_text())
    assert [r["fold"] for r in saved["folds"]] == [0, 1, 2]
    assert saved["folds"][1]["chosen_trial"] == folds[1].chosen
    assert saved["stitched_out_of_sample"]["value"] == pytest.approx(pooled)
    assert {s["param"] for s in saved["stability"]} == set(run.search.names)
    for s in result.summary.stability:
        assert len(s.values) == 3 and 0.0 <= s.spread <= 1.0
    summary = json.loads((tmp_path / "wf" / "summary.json").read_text())
    assert summary["study"] == "wf" and summary["best_trial"] == folds[-1].chosen
    assert [(r["fold"], r["is_best_trial"], r["oos_objective"]) for r in summary["folds"]] == [
        (f.index, f.chosen, pytest.approx(f.chosen_trial.oos_value)) for f in folds]
    assert [r["oos_winner_rank"] for r in summary["folds"]] == [
        f.oos_winner(True).in_sample_rank for f in folds]
    assert "pbo" in summary and "deflated_sharpe" in summary
    assert summary["stitched_out_of_sample"] == pytest.approx(pooled)


def _pooled(run: RunConfig, folds: tuple) -> float:
    """The stitched value: every fold's chosen trial's test shards pooled, computed here."""
    spec = WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)
    metrics = []
    for fold in folds:
        shard_set = load_shard_set(dataclasses.replace(run.data, dates=fold.test_dates))
        for shard in shard_set.shards:
            (outcome,) = evaluate(spec, shard, (fold.chosen_trial.params,)).outcomes
            metrics.append(outcome.metrics)
    return score(metrics, run.objective).values[0]


def test_same_command_resumes_and_cli_prints_the_fold_table(
    wf_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--no-progress", *wf_args, "study.n_trials=3"]) == 0
    first = capsys.readouterr().out
    assert "walk-forward folds" in first and "stitched out-of-sample" in first
    assert "3 folds, 9 trials run" in first
    assert main(["sweep", "--no-progress", *wf_args, "study.n_trials=3"]) == 0
    again = capsys.readouterr().out
    assert "3 folds, 0 trials run" in again  # every fold's study was complete: resumed
    table = lambda text: text[text.index("walk-forward folds"):text.index("stitched")]  # noqa: E731
    assert table(again) == table(first)
    # `mmopt show` of the walk-forward's name (not a study: its folds are) reads its summary
    storage = ["--storage", next(a.split("=", 1)[1] for a in wf_args
                                 if a.startswith("study.storage="))]
    run_dir = next(a.split("=", 1)[1] for a in wf_args if a.startswith("run_dir="))
    assert main(["show", "wf", *storage, "--json", "--run-dir", run_dir]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads((Path(run_dir) / "wf" / "summary.json").read_text())
    assert [r["fold"] for r in shown["folds"]] == [0, 1, 2]
    assert main(["show", "wf", *storage, "--run-dir", run_dir]) == 0
    text = capsys.readouterr().out
    assert "walk-forward wf: 3 folds" in text and "stitched out-of-sample" in text
    assert main(["show", "wf", *storage, "--run-dir", str(Path(run_dir) / "elsewhere")]) != 0
    assert "is a walk-forward" in capsys.readouterr().err


def test_run_sweep_refuses_walk_forward(wf_args: list[str]) -> None:
    with pytest.raises(ConfigError, match="run_walk_forward"):
        run_sweep(compose_config(wf_args), progress=False)


def test_too_few_dates_fails_before_any_study_is_made(wf_args: list[str], tmp_path: Path) -> None:
    run = compose_config([*wf_args, "validation.train_days=4"])
    with pytest.raises(ConfigError, match="one walk-forward fold needs 5 dates"):
        run_walk_forward(run, progress=False)
    assert not (tmp_path / "optuna.db").exists()


def test_binance_two_dates_make_one_fold_or_a_clear_error(binance_root: Path) -> None:
    run = compose_config(["data=binance", f"data.root={binance_root}",
                          "validation=walk_forward"])
    (fold,) = plan_folds(run.validation, open_shards(run.data).dates)
    assert fold.train == ("2024-08-08",) and fold.test == ("2024-08-09",)
    wide = compose_config(["data=binance", f"data.root={binance_root}",
                           "validation=walk_forward", "validation.train_days=2"])
    with pytest.raises(ConfigError, match=r"needs 3 dates .* has 2 \(2024-08-08, 2024-08-09"):
        plan_folds(wide.validation, open_shards(wide.data).dates)
    assert math.isfinite(1.0)


def test_robust_selection_chooses_the_sweeps_best_and_reports_its_slices(
    sweep_args: list[str], tmp_path: Path
) -> None:
    from mmopt.report import write_report
    from mmopt.search.selection import choose
    from mmopt.tracking import MlflowTracker

    run = compose_config([*sweep_args, "selection=robust", "selection.neighbours=3",
                          "tracking=mlflow", f"tracking.tracking_uri=sqlite:///{tmp_path}/ml.db"])
    tracker = MlflowTracker(run.tracking, run.run_dir, background=False,
                            report_writer=write_report)
    result = run_sweep(run, progress=False, tracker=tracker)
    expected = choose(result.study, run.selection, run.search)
    assert expected.trials and result.best[0].number == expected.trials[0].number
    assert tracker.report is not None and "sensitivity.png" in tracker.report.names()


class _SlowExecutor:
    """Runs each call when its result is read; a call is done only from the second ``wait``
    that asks about it, like a worker that takes a while. Counts the calls submitted before
    the driver first reads a result."""

    name = "slow"
    n_workers = 1

    def __init__(self) -> None:
        self.submitted = 0
        self.before_first_result: int | None = None
        self._asked: set[int] = set()
        self._shards = ShardCache(None)  # shards come as names, read here (docs/scale.md)

    def put(self, value: object) -> object:
        return value

    def submit(self, fn, *args):  # type: ignore[no-untyped-def]
        self.submitted += 1
        return [fn, args]

    def wait(self, pending, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
        fresh = [id(p) for p in pending if id(p) not in self._asked]
        self._asked.update(fresh)
        return not fresh

    def result(self, pending):  # type: ignore[no-untyped-def]
        if self.before_first_result is None:
            self.before_first_result = self.submitted
        fn, args = pending
        return fn(*self._shards.resolve(args))

    def warm(self, fn, *args) -> float:  # type: ignore[no-untyped-def]
        fn(*self._shards.resolve(args))
        return 0.0

    def close(self) -> None:
        pass


def test_every_fold_has_work_in_flight_before_any_result_is_read(wf_args: list[str]) -> None:
    from mmopt.search._loop import PIPELINE_DEPTH
    from mmopt.search.shards import rung_bounds

    run = compose_config([*wf_args, "study.storage=null"])
    slow = _SlowExecutor()
    result = run_walk_forward(run, progress=False, executor=slow)  # type: ignore[arg-type]
    folds = result.summary.folds
    assert len(folds) == 3 and all(f.chosen is not None for f in folds)
    # each fold asked PIPELINE_DEPTH batches and submitted their first rung (one task per
    # shard, trials_per_task=2 trials each) before the driver read the first result
    first_rung = [rung_bounds(2 * len(f.train_dates), run.study.pruner)[0] for f in folds]
    assert slow.before_first_result == PIPELINE_DEPTH * sum(first_rung)
    # and the same trials as with the in-process executor: folds do not disturb each other
    local = run_walk_forward(run, progress=False)
    assert [f.rerun for f in local.summary.folds] == [f.rerun for f in folds]
