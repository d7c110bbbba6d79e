"""Resuming or extending a study continues its sampler instead of replaying it: no parameter
set twice; with ``study=random`` exactly the trials of one uninterrupted run (the same seed)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from test_driver_logic import NO_KPI, fake_evaluate

from mmopt.cli._hydra import compose
from mmopt.config import from_hydra
from mmopt.search import run_sweep
from mmopt.search.indexed_random import uniform_value
from mmopt.search.inspect import load_study
from mmopt.search.samplers import continuation_seed
from mmopt.tracking import NullTracker

Params = tuple[tuple[str, object], ...]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in backtest of test_driver_logic (exact and fast)."""
    monkeypatch.setattr("mmopt.search._loop.evaluate", fake_evaluate)
    monkeypatch.setattr("mmopt.search.driver.warm_worker", lambda *a: 0.0)


def _sweep(sweep_args: list[str], url: str, sampler: str, n_trials: int) -> None:
    run = from_hydra(compose([*sweep_args, f"study.storage={url}", f"study.sampler.name={sampler}",
                              "study.pruner.name=none", *NO_KPI, f"study.n_trials={n_trials}"]))
    run_sweep(run, progress=False, tracker=NullTracker())


def _params(url: str) -> list[Params]:
    trials = load_study("tiny", url).get_trials(deepcopy=False)
    return [tuple(sorted(t.params.items())) for t in trials
            if not t.user_attrs.get("mmopt.requeue")]


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_study_extended_several_times_never_replays(
    fake: None, sweep_args: list[str], tmp_path: Path, sampler: str
) -> None:
    resumed = f"sqlite:///{tmp_path}/resumed.db"
    for n_trials in (4, 8, 12, 16):  # three restarts of the same study
        _sweep(sweep_args, resumed, sampler, n_trials)
    once = f"sqlite:///{tmp_path}/once.db"
    _sweep(sweep_args, once, sampler, 16)
    got, uninterrupted = _params(resumed), _params(once)
    assert len(got) == 16
    # the float parameters make any repeat a replay: one run draws none
    assert len(set(uninterrupted)) == 16
    assert len(set(got)) == 16
    if sampler == "random":  # keyed by draw index: the very trials of the uninterrupted run
        assert got == uninterrupted


def test_continuation_seeds_differ_per_restart_and_keep_a_fresh_study_s() -> None:
    assert continuation_seed(42, 0) == 42 and continuation_seed(None, 8) is None
    seeds = {continuation_seed(42, n) for n in range(1, 200)}
    assert len(seeds) == 199 and 42 not in seeds
    assert continuation_seed(42, 8) == continuation_seed(42, 8)


@settings(max_examples=200, deadline=None)
@given(u=st.floats(0.0, 1.0, exclude_max=True), low=st.integers(1, 50),
       width=st.integers(0, 1000), step=st.integers(1, 7), log=st.booleans())
def test_uniform_values_lie_in_their_distribution(u: float, low: int, width: int, step: int,
                                                  log: bool) -> None:
    high = low + width
    dists: list[optuna.distributions.BaseDistribution] = [
        FloatDistribution(float(low), float(high), log=log),
        FloatDistribution(0.0, float(width * step), step=float(step)),
        IntDistribution(low, high, log=True) if log else IntDistribution(low, low + width * step,
                                                                          step=step),
        CategoricalDistribution(["a", 1, 2.5, None]),
    ]
    for dist in dists:
        value = uniform_value(dist, u)
        internal = dist.to_internal_repr(value)
        assert dist._contains(internal), (dist, value)  # an Optuna test oracle, not mmopt code
