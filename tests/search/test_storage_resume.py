"""Persistent studies: config checks, the driver lease, trials a dead driver left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from mmopt.cli._hydra import compose
from mmopt.config import RunConfig, from_hydra
from mmopt.errors import ConfigError
from mmopt.search.lease import make_lease
from mmopt.search.mirror import (
    ATTR_REQUEUE,
    ATTR_RETRY_OF,
    IN_FLIGHT_KEY,
    StudyWriter,
    _fits,
    counts_toward_total,
    load_working_study,
    take_over,
)
from mmopt.search.space import distribution, suggest_params
from mmopt.search.storage import open_persistent_study


def _run(tmp_path: Path, *overrides: str) -> RunConfig:
    return from_hydra(compose([
        "experiment=smoke", f"run_dir={tmp_path}", "study.name=s",
        f"study.storage=sqlite:///{tmp_path}/optuna.db", *overrides,
    ]))


def _dists(run: RunConfig) -> dict[str, optuna.distributions.BaseDistribution]:
    return {p.name: distribution(p) for p in run.search.params}


def _add_complete(persistent, run: RunConfig, value: float) -> None:  # type: ignore[no-untyped-def]
    params = {p.name: p.low if p.type != "categorical" else p.choices[0]  # type: ignore[index]
              for p in run.search.params}
    trial = optuna.trial.create_trial(value=value, params=params, distributions=_dists(run))
    persistent.storage.create_new_trial(persistent.study_id, template_trial=trial)


def test_a_changed_config_is_refused_unless_asked(tmp_path: Path) -> None:
    run = _run(tmp_path)
    study = open_persistent_study(run, run.study.storage)  # type: ignore[arg-type]
    _add_complete(study, run, 1.0)
    # budget and scheduling may change: that is a resume
    again = _run(tmp_path, "study.n_trials=50", "executor.trials_per_task=3")
    assert open_persistent_study(again, again.study.storage).resumed  # type: ignore[arg-type]
    changed = _run(tmp_path, "objective.lambda=2.0")
    with pytest.raises(ConfigError, match=r"study.name: study 's' .* another config "
                                          r"\(changed: objective.lambda\)"):
        open_persistent_study(changed, changed.study.storage)  # type: ignore[arg-type]
    allowed = open_persistent_study(changed, changed.study.storage,  # type: ignore[arg-type]
                                    allow_config_change=True)
    assert len(allowed.trials) == 1


def _lease(run: RunConfig, timeout_s: float = 60.0):  # type: ignore[no-untyped-def]
    return make_lease(run.study.storage, "s", timeout_s, "here")  # type: ignore[arg-type]


def test_a_live_driver_keeps_the_study(tmp_path: Path) -> None:
    run = _run(tmp_path)
    persistent = open_persistent_study(run, run.study.storage)  # type: ignore[arg-type]
    lease = _lease(run)
    take_over(persistent, _dists(run), lease)
    assert lease.holder.pid == os.getpid()
    # a second driver (here: same live pid, different lease) is refused
    with pytest.raises(ConfigError, match="being run by another driver"):
        take_over(open_persistent_study(run, run.study.storage), _dists(run), _lease(run))  # type: ignore[arg-type]
    # a released lease (clean exit) lets the next driver start at once
    writer = StudyWriter(persistent, lease, 1.0)
    writer.close()
    take_over(open_persistent_study(run, run.study.storage), _dists(run), _lease(run))  # type: ignore[arg-type]


def test_trials_left_in_flight_by_a_dead_driver_fail_and_are_re_asked(tmp_path: Path) -> None:
    run = _run(tmp_path)
    persistent = open_persistent_study(run, run.study.storage)  # type: ignore[arg-type]
    _add_complete(persistent, run, 1.0)
    _add_complete(persistent, run, 2.0)
    params = {"refill_interval_s": 1.0, "quote_size": 2, "max_position": 4,
              "min_notional_before_quote": 0.0, "stop_loss_pct": 0.5}
    old = _lease(run, timeout_s=1.0)
    old.acquire()  # a driver on another host that stopped renewing its lease long ago
    time.sleep(1.1)
    persistent.storage.set_study_system_attr(persistent.study_id, IN_FLIGHT_KEY,
                                             [[1, params], [2, params], [3, params]])
    trials = take_over(open_persistent_study(run, run.study.storage),  # type: ignore[arg-type]
                       _dists(run), _lease(run, timeout_s=1.0))
    assert not old.renew()  # the old driver, should it wake up, finds the lease gone
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "FAIL", "FAIL"]
    assert [counts_toward_total(t) for t in trials] == [True, True, False, False]
    assert trials[2].params == params and trials[2].user_attrs[ATTR_REQUEUE] is True
    study, n_enqueued = load_working_study(trials, "s", ("maximize",),
                                           optuna.samplers.RandomSampler(seed=0),
                                           optuna.pruners.NopPruner())
    assert n_enqueued == 2
    retry = study.ask()
    assert retry.number == 4 and dict(suggest_params(retry, run.search)) == params
    assert retry.user_attrs[ATTR_RETRY_OF] == 2


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.floats(-5, 60, allow_nan=False), st.integers(-5, 60),
                       st.sampled_from(["a", "b", None, True])),
       step=st.sampled_from([None, 0.5, 2.0]))
def test_a_lost_trial_keeps_exactly_the_values_its_distributions_hold(
    value: object, step: float | None
) -> None:
    """``_fits`` against Optuna's own (private) membership test, used here as an oracle."""
    dists = [FloatDistribution(0.0, 50.0, step=step),
             IntDistribution(1, 41, step=max(1, int(step or 1))),
             CategoricalDistribution(["a", None, 3])]
    for dist in dists:
        try:
            expected = bool(dist._contains(dist.to_internal_repr(value)))
        except (ValueError, TypeError):
            expected = False
        if isinstance(value, bool) and not isinstance(dist, CategoricalDistribution):
            expected = False  # a flag is no number for mmopt
        assert _fits(dist, value) == expected, (dist, value)
