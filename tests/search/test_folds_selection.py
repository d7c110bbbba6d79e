"""Walk-forward fold plans, the validation / selection config errors, robust selection."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.distributions import FloatDistribution

from mmopt.cli._hydra import compose_config
from mmopt.config import FoldDates, ParamSpec, SearchSpace, SelectionConfig, ValidationConfig
from mmopt.errors import ConfigError
from mmopt.search.folds import Fold, fold_study_name, plan_folds
from mmopt.search.selection import choose, smoothed_values

DAYS = ("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08")


# --- fold plans -------------------------------------------------------------------------------


def test_rolling_folds_slide_by_step_days() -> None:
    folds = plan_folds(ValidationConfig("walk_forward", train_days=2, test_days=1,
                                        anchored=False), DAYS)
    assert folds == (
        Fold(0, DAYS[0:2], DAYS[2:3]),
        Fold(1, DAYS[1:3], DAYS[3:4]),
        Fold(2, DAYS[2:4], DAYS[4:5]),
    )


def test_anchored_folds_keep_every_earlier_date() -> None:
    folds = plan_folds(ValidationConfig("walk_forward", train_days=1, test_days=2,
                                        anchored=True), DAYS)
    assert [(f.train, f.test) for f in folds] == [(DAYS[0:1], DAYS[1:3]), (DAYS[0:3], DAYS[3:5])]


def test_step_days_skips_dates_and_folds_never_test_twice() -> None:
    folds = plan_folds(ValidationConfig("walk_forward", train_days=1, test_days=1, step_days=2,
                                        anchored=False), DAYS)
    assert [(f.train, f.test) for f in folds] == [
        (DAYS[0:1], DAYS[1:2]), (DAYS[2:3], DAYS[3:4])]
    tests = [d for f in folds for d in f.test]
    assert len(tests) == len(set(tests))


def test_folds_count_trading_dates_not_calendar_days() -> None:
    # a weekend (01-06, 01-07) is no date: fold 2 tests on Monday 01-08
    folds = plan_folds(ValidationConfig("walk_forward", train_days=3, test_days=1), DAYS)
    assert folds[-1].test == ("2024-01-08",) and folds[-1].train[-1] == "2024-01-05"
    assert fold_study_name("s", 2) == "s-fold2"


def test_fewer_dates_than_one_fold_needs_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"one walk-forward fold needs 3 dates .* data has 2 "
                       r"\(2024-01-02, 2024-01-03"):
        plan_folds(ValidationConfig("walk_forward", train_days=2, test_days=1), DAYS[:2])


def test_hand_written_fold_on_a_date_without_shards_fails() -> None:
    given = (FoldDates(("2024-01-02",), ("2024-01-09",)),)
    with pytest.raises(ConfigError, match=r"validation.folds\[0\]: no shard .* 2024-01-09"):
        plan_folds(ValidationConfig("walk_forward", folds=given), DAYS)


# --- config errors (before any work) ------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "message"), [
    (["validation=walk_forward", "study.n_trials=3"],
     r"validation.top_k: re-runs the 5 best trials .* study.n_trials=3"),
    (["validation=walk_forward", "validation.folds=[{train:[2024-01-02,2024-01-03],"
      "test:[2024-01-03]}]"],
     r"validation.folds\[0\]: train and test dates overlap on 2024-01-03"),
    (["validation=walk_forward", "validation.folds=[{train:[2024-01-03],test:[2024-01-02]}]"],
     r"validation.folds\[0\]: trains on 2024-01-03, on or after its first test date"),
    (["validation=walk_forward", "data.holdout_dates=[2024-01-02]",
      "validation.folds=[{train:[2024-01-02],test:[2024-01-03]}]"],
     r"validation.folds\[0\].train: 2024-01-02 is a hold-out date"),
    (["data.dates=[2024-01-02,2024-01-03]", "data.holdout_dates=[2024-01-03]"],
     r"data.holdout_dates: 2024-01-03 is also in data.dates, a training date"),
    (["validation=walk_forward", "validation.test_days=2", "validation.step_days=1"],
     r"validation.step_days: 1 < test_days \(2\): the test dates of consecutive folds"),
    (["validation=walk_forward", "validation.folds=[{train:[2024-01-02],test:[2024-01-04]},"
      "{train:[2024-01-03],test:[2024-01-04]}]"],
     r"validation.folds\[1\].test: 2024-01-04 is also a test date of fold 0"),
    (["validation=none", "data.holdout_dates=[2024-01-03]"],
     r"validation.name: none re-runs nothing out of sample"),
    (["validation=walk_forward", "objective=pareto", "study=pareto"],
     r"validation.name: walk_forward ranks each fold's trials by one objective"),
    (["selection=robust", "objective=pareto", "study=pareto"],
     r"selection.name: robust smooths one objective"),
    (["selection=robust", "selection.neighbours=1"], r"selection.neighbours: must be >= 2"),
])
def test_bad_validation_fails_naming_the_key(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compose_config(overrides)


def test_validation_and_selection_defaults() -> None:
    run = compose_config([])
    assert run.validation == ValidationConfig("holdout")
    assert run.selection == SelectionConfig("best")
    wf = compose_config(["experiment=walk_forward"])
    assert wf.validation.name == "walk_forward" and wf.validation.top_k <= wf.study.n_trials
    assert wf.data.generate is not None and wf.data.generate.n_days >= 4


def test_validation_and_selection_do_not_change_the_config_id() -> None:
    base = compose_config([])
    assert compose_config(["selection=robust"]).config_id == base.config_id
    assert compose_config(["validation=walk_forward"]).config_id == base.config_id


# --- robust selection ---------------------------------------------------------------------------

SPACE = SearchSpace("x", (ParamSpec("x", "float", 0.0, 1.0),))


def _study(points: list[tuple[float, float]], maximize: bool = True) -> optuna.Study:
    study = optuna.create_study(direction="maximize" if maximize else "minimize")
    for x, value in points:
        study.add_trial(optuna.trial.create_trial(
            params={"x": x}, distributions={"x": FloatDistribution(0.0, 1.0)}, value=value))
    return study


# a lone spike at x=0.1 (value 10) among poor neighbours; a plateau of 6-7 around x=0.8
LANDSCAPE = [(0.05, 0.0), (0.1, 10.0), (0.15, 0.0), (0.75, 6.0), (0.8, 7.0), (0.85, 6.5),
             (0.5, 1.0)]


def test_best_takes_the_spike_robust_takes_the_plateau() -> None:
    study = _study(LANDSCAPE)
    best = choose(study, SelectionConfig("best"), SPACE)
    robust = choose(study, SelectionConfig("robust", neighbours=3), SPACE)
    assert best.trials[0].params["x"] == 0.1 and best.smoothed is None
    assert robust.trials[0].params["x"] == 0.8
    assert robust.smoothed == pytest.approx((6.0 + 7.0 + 6.5) / 3)


def test_robust_minimises_too_and_one_neighbour_is_best() -> None:
    flipped = [(x, -v) for x, v in LANDSCAPE]
    study = _study(flipped, maximize=False)
    assert choose(study, SelectionConfig("robust", neighbours=3), SPACE).trials[0].params[
        "x"] == 0.8
    values = smoothed_values(study.trials, SPACE, 1, maximize=False)
    assert list(values) == [t.values[0] for t in study.trials]


def test_robust_on_an_empty_study_chooses_nothing() -> None:
    choice = choose(_study([]), SelectionConfig("robust"), SPACE)
    assert choice.trials == () and choice.feasible and not math.isnan(0.0)
