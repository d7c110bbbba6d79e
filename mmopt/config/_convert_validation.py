"""The ``validation`` and ``selection`` groups of ``from_hydra``, with their cross-checks.

Everything that can be known from the config alone fails here, before any work: fold sizes,
top-K against the trial budget, hand-written folds whose train and test dates overlap or that
train or test on a hold-out date, a hold-out date that is also a swept date. What needs the
data (are there enough dates for one fold?) fails in ``mmopt.search.folds.plan_folds``, still
before any trial runs.
"""

from __future__ import annotations

from mmopt.config._reader import Section, check_date, fail
from mmopt.config._types import (
    DataConfig,
    FoldDates,
    ObjectiveConfig,
    SelectionConfig,
    StudyConfig,
    ValidationConfig,
)

__all__ = ["SELECTIONS", "VALIDATIONS", "selection_config", "validation_config"]

VALIDATIONS = ("none", "holdout", "walk_forward")
SELECTIONS = ("best", "robust")


def validation_config(s: Section, data: DataConfig, study: StudyConfig,
                      objective: ObjectiveConfig) -> ValidationConfig:
    name = s.get_str("name", "holdout", choices=VALIDATIONS)
    config = ValidationConfig(
        name=name,  # type: ignore[arg-type]
        train_days=s.get_int("train_days", 1, lo=1),
        test_days=s.get_int("test_days", 1, lo=1),
        step_days=s.get_opt_int("step_days", lo=1),
        anchored=s.get_bool("anchored", True),
        top_k=s.get_int("top_k", 5, lo=1),
        folds=_folds(s),
    )
    s.finish()
    _check_holdout(s, config, data)
    if config.name != "walk_forward":
        return config
    if objective.is_multi:
        raise fail(s.key("name"),
                   f"walk_forward ranks each fold's trials by one objective, but "
                   f"objective={objective.name} has {len(objective.objectives)}",
                   "use a single objective (e.g. objective=net_pnl_cvar) for a walk-forward")
    if config.step < config.test_days:
        raise fail(s.key("step_days"),
                   f"{config.step} < test_days ({config.test_days}): the test dates of "
                   "consecutive folds would overlap and the stitched out-of-sample result "
                   "would count them twice",
                   f"set validation.step_days >= {config.test_days} (null = test_days)")
    if config.top_k > study.n_trials:
        raise fail(s.key("top_k"),
                   f"re-runs the {config.top_k} best trials of each fold out of sample, but "
                   f"each fold's study has only study.n_trials={study.n_trials} trials",
                   f"set validation.top_k <= {study.n_trials} or raise study.n_trials")
    for i, fold in enumerate(config.folds or ()):
        _check_fold(f"{s.key('folds')}[{i}]", fold, data)
    _check_folds_apart(s.key("folds"), config.folds or ())
    return config


def _folds(s: Section) -> tuple[FoldDates, ...] | None:
    raw = s.get_raw("folds", None)
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or not raw:
        raise fail(s.key("folds"), f"expected a non-empty list of folds, got {raw!r}",
                   "e.g. validation.folds=[{train:[2024-01-02],test:[2024-01-03]}], or null "
                   "to split the dates by train_days / test_days / step_days")
    folds = []
    for i, item in enumerate(raw):
        f = Section(f"{s.key('folds')}[{i}]", item)
        train, test = _dates(f, "train"), _dates(f, "test")
        f.finish()
        folds.append(FoldDates(train, test))
    return tuple(folds)


def _dates(s: Section, name: str) -> tuple[str, ...]:
    values = s.get_str_tuple(name)
    if not values:
        raise fail(s.key(name), "expected a non-empty list of YYYY-MM-DD dates")
    days = tuple(check_date(f"{s.key(name)}[{i}]", v) for i, v in enumerate(values))
    if len(set(days)) != len(days):
        raise fail(s.key(name), f"lists a date twice: {list(days)}")
    return tuple(sorted(days))


def _check_holdout(s: Section, config: ValidationConfig, data: DataConfig) -> None:
    held = set(data.holdout_dates)
    if config.name == "none" and held:
        raise fail(s.key("name"),
                   f"none re-runs nothing out of sample, but data.holdout_dates is "
                   f"{sorted(held)}",
                   "use validation=holdout (re-run the chosen trial on them) or "
                   "data.holdout_dates=[]")
    both = sorted(held & set(data.dates or ()))
    if both:
        raise fail("data.holdout_dates",
                   f"{', '.join(both)} is also in data.dates, a training date: a hold-out "
                   "date must never be swept",
                   "remove it from data.dates or from data.holdout_dates")


def _check_fold(key: str, fold: FoldDates, data: DataConfig) -> None:
    both = sorted(set(fold.train) & set(fold.test))
    if both:
        raise fail(key, f"train and test dates overlap on {', '.join(both)}: the fold would "
                   "test on dates it was tuned on", "give each date to train or to test")
    if fold.train[-1] >= fold.test[0]:
        raise fail(key, f"trains on {fold.train[-1]}, on or after its first test date "
                   f"{fold.test[0]}: that is look-ahead",
                   "every train date must come before every test date")
    held = set(data.holdout_dates)
    for part, days in (("train", fold.train), ("test", fold.test)):
        bad = sorted(held & set(days))
        if bad:
            raise fail(f"{key}.{part}",
                       f"{', '.join(bad)} is a hold-out date (data.holdout_dates): hold-out "
                       "dates stay out of every fold", "remove it from the fold or from "
                       "data.holdout_dates")
    wanted = [d for d in (*fold.train, *fold.test) if not data.wants_date(d)]
    if wanted:
        raise fail(key, f"{', '.join(wanted)} is left out by data.dates / date_from / "
                   "date_to", "widen the data filters or change the fold")


def _check_folds_apart(key: str, folds: tuple[FoldDates, ...]) -> None:
    seen: dict[str, int] = {}
    for i, fold in enumerate(folds):
        for day in fold.test:
            if day in seen:
                raise fail(f"{key}[{i}].test",
                           f"{day} is also a test date of fold {seen[day]}: the stitched "
                           "out-of-sample result would count it twice",
                           "give each test date to one fold")
            seen[day] = i
    order = [fold.test[0] for fold in folds]
    if order != sorted(order):
        raise fail(key, "folds are not in date order of their test dates",
                   "list the folds from the earliest test dates to the latest")


def selection_config(s: Section, objective: ObjectiveConfig) -> SelectionConfig:
    name = s.get_str("name", "best", choices=SELECTIONS)
    config = SelectionConfig(
        name=name,  # type: ignore[arg-type]
        neighbours=s.get_int("neighbours", 5, lo=2),
    )
    s.finish()
    if name == "robust" and objective.is_multi:
        raise fail(s.key("name"),
                   f"robust smooths one objective, but objective={objective.name} has "
                   f"{len(objective.objectives)}", "use selection=best (the Pareto front)")
    return config
