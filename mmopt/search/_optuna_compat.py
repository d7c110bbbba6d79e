"""Every private Optuna name mmopt uses, in one place (tests: tests/search/test_optuna_compat.py).

Optuna has no public way to do these two things, and the sweep needs both:

* ``tell_without_copy``: ``Study.tell`` returns a deep copy of the told trial (about 1.4 ms per
  trial with mmopt's summary attribute); the driver rebuilds its record from the stored trial
  instead. Uses ``optuna.study._tell._tell_with_warning``.
* ``set_constraints``: the driver computes each trial's constraint values itself (KPI targets)
  and stores them where Optuna's samplers and ``Study.best_trial`` read them
  (``FrozenTrial.constraints``). Uses ``Study._storage``, ``Trial._trial_id`` and
  ``optuna.study._constrained_optimization._CONSTRAINTS_KEY``.

``pyproject.toml`` pins ``optuna`` to the major version these were tested with.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.study._constrained_optimization import _CONSTRAINTS_KEY
from optuna.study._tell import _tell_with_warning
from optuna.trial import TrialState

__all__ = ["set_constraints", "tell_without_copy"]


def tell_without_copy(study: optuna.Study, trial: optuna.Trial, values: Sequence[float] | None,
                      state: TrialState) -> None:
    """``study.tell(trial, values, state=state)`` without the deep copy of the told trial."""
    _tell_with_warning(study, trial, None if values is None else list(values), state=state,
                       skip_if_finished=False)


def set_constraints(study: optuna.Study, trial: optuna.Trial,
                    constraints: Sequence[float]) -> None:
    """Store ``constraints`` (<= 0 = satisfied) on a running trial."""
    study._storage.set_trial_system_attr(trial._trial_id, _CONSTRAINTS_KEY,
                                         [float(c) for c in constraints])
