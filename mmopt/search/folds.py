"""Walk-forward folds: which dates each fold trains on and tests on.

Folds count *trading dates present in the data* (the union of every selected security's
dates, hold-out dates excluded), not calendar days: a weekend or a holiday is no date, and a
security without a shard on some date simply has no shard there in that fold. Fold ``k``
(from 0) tests on ``test_days`` dates starting ``train_days + k * step_days`` dates in; it
trains on the ``train_days`` dates just before them (rolling) or on every date before them
(``anchored``). Hand-written ``validation.folds`` are taken as they are (checked by the config).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mmopt.config import ValidationConfig
from mmopt.errors import ConfigError

__all__ = ["Fold", "fold_study_name", "plan_folds"]


@dataclass(frozen=True, slots=True)
class Fold:
    """One fold: its number, its in-sample (train) and out-of-sample (test) dates, in order."""

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]

    def describe(self) -> str:
        return f"fold {self.index}: train {_span(self.train)}, test {_span(self.test)}"


def _span(days: Sequence[str]) -> str:
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} dates)"


def fold_study_name(study: str, index: int) -> str:
    """The Optuna study of fold ``index``: ``<study>-fold<index>``."""
    return f"{study}-fold{index}"


def plan_folds(validation: ValidationConfig, dates: Sequence[str]) -> tuple[Fold, ...]:
    """The folds over ``dates`` (the swept dates of the data); ConfigError if none fits."""
    days = tuple(sorted(set(dates)))
    if validation.folds is not None:
        return _given_folds(validation, days)
    need = validation.train_days + validation.test_days
    if len(days) < need:
        raise ConfigError(
            f"validation: one walk-forward fold needs {need} dates (train_days "
            f"{validation.train_days} + test_days {validation.test_days}) but the data has "
            f"{len(days)} ({', '.join(days) or 'none'}, hold-out dates excluded) (fix: lower "
            "validation.train_days / validation.test_days, select more dates, or for synthetic "
            "data raise data.generate.n_days with a new data.root, e.g. experiment=walk_forward)"
        )
    folds: list[Fold] = []
    start = validation.train_days
    while start + validation.test_days <= len(days):
        first = 0 if validation.anchored else start - validation.train_days
        folds.append(Fold(len(folds), days[first:start],
                          days[start:start + validation.test_days]))
        start += validation.step
    return tuple(folds)


def _given_folds(validation: ValidationConfig, days: tuple[str, ...]) -> tuple[Fold, ...]:
    assert validation.folds is not None
    available = set(days)
    folds = []
    for i, given in enumerate(validation.folds):
        missing = [d for d in (*given.train, *given.test) if d not in available]
        if missing:
            raise ConfigError(
                f"validation.folds[{i}]: no shard of the selected data on "
                f"{', '.join(missing)}; dates with shards: {', '.join(days)} (fix: use those "
                "dates or change data.securities / data.root)"
            )
        folds.append(Fold(i, given.train, given.test))
    return tuple(folds)
