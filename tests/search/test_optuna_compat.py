"""One test per private Optuna name mmopt uses (mmopt/search/_optuna_compat.py): if an Optuna
release changes one, this file says which."""

from __future__ import annotations

import ast
from pathlib import Path

import optuna
from optuna.trial import TrialState

from mmopt.search._optuna_compat import set_constraints, tell_without_copy

MMOPT = Path(__file__).resolve().parents[2] / "mmopt"


class _Recorder(optuna.samplers.RandomSampler):
    def __init__(self) -> None:
        super().__init__(seed=0)
        self.told: list[tuple[int, TrialState, list[float] | None]] = []

    def after_trial(self, study, trial, state, values):  # type: ignore[no-untyped-def]
        self.told.append((trial.number, state, values))


def test_tell_without_copy_finishes_the_trial_and_tells_the_sampler() -> None:
    sampler = _Recorder()
    study = optuna.create_study(sampler=sampler)
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    tell_without_copy(study, trial, [2.5], TrialState.COMPLETE)
    failed = study.ask()
    tell_without_copy(study, failed, None, TrialState.FAIL)
    stored = study.get_trials(deepcopy=False)
    assert stored[0].state == TrialState.COMPLETE and stored[0].values == [2.5]
    assert stored[1].state == TrialState.FAIL and stored[1].values is None
    assert sampler.told == [(0, TrialState.COMPLETE, [2.5]), (1, TrialState.FAIL, None)]


def test_set_constraints_is_what_best_trial_and_samplers_read() -> None:
    study = optuna.create_study(direction="maximize")
    for value, constraint in ((10.0, 1.0), (5.0, -1.0)):  # the better one is infeasible
        trial = study.ask()
        set_constraints(study, trial, [constraint])
        tell_without_copy(study, trial, [value], TrialState.COMPLETE)
    trials = study.get_trials(deepcopy=False)
    assert [list(t.constraints.values()) for t in trials] == [[1.0], [-1.0]]
    assert study.best_trial.number == 1  # Optuna's own feasibility rule sees the constraints


def test_no_other_module_uses_a_private_name_of_optuna_mlflow_or_ray() -> None:
    """Private names of these libraries live in _optuna_compat.py only."""
    offenders = []
    for path in MMOPT.rglob("*.py"):
        if path.name == "_optuna_compat.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
                    "optuna", "mlflow", "ray"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private or any(p.startswith("_") for p in (node.module or "").split(".")):
                    offenders.append(f"{path.name}: from {node.module} import ...")
            if isinstance(node, ast.Attribute) and node.attr in (
                    "_storage", "_study_id", "_trial_id", "_contains", "_rng"):
                offenders.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert offenders == []
