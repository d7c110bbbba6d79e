"""Search space -> Optuna, grids, rung plans and the order shards are evaluated in."""

from __future__ import annotations

import optuna
import pytest

from mmopt.config import ParamSpec, PrunerConfig, SearchSpace
from mmopt.data.catalog import ShardRef
from mmopt.search.samplers import make_pruner, make_sampler
from mmopt.search.shards import order_for_rungs, rung_bounds
from mmopt.search.space import distribution, grid_values, n_grid_points, suggest_params

SPACE = SearchSpace("price_follow", (
    ParamSpec("refill_interval_s", "float", 0.5, 8.0, log=True),
    ParamSpec("quote_size", "int", 1, 5),
    ParamSpec("max_position", "int", 2, 20, step=2),
    ParamSpec("min_notional_before_quote", "float", 0.0, 3000.0, step=1000.0),
    ParamSpec("stop_loss_pct", "categorical", choices=(None, 0.5, 1.0)),
))


def test_suggest_uses_each_type_and_range() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(30):
        trial = study.ask()
        values = dict(suggest_params(trial, SPACE))
        assert list(values) == list(SPACE.names)
        assert 0.5 <= values["refill_interval_s"] <= 8.0
        assert isinstance(values["quote_size"], int) and 1 <= values["quote_size"] <= 5
        assert values["max_position"] in range(2, 21, 2)
        assert values["min_notional_before_quote"] in (0.0, 1000.0, 2000.0, 3000.0)
        assert values["stop_loss_pct"] in (None, 0.5, 1.0)
        assert trial.distributions == {p.name: distribution(p) for p in SPACE.params}
        study.tell(trial, 0.0)


def test_grid_values_enumerate_the_finite_space() -> None:
    finite = SearchSpace("price_follow", SPACE.params[1:])
    grid = grid_values(finite)
    assert grid["quote_size"] == [1, 2, 3, 4, 5]
    assert grid["max_position"] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert grid["min_notional_before_quote"] == [0.0, 1000.0, 2000.0, 3000.0]
    assert n_grid_points(finite) == 5 * 10 * 4 * 3


@pytest.mark.parametrize(
    ("n", "rungs", "name", "expected"),
    [
        (8, (0.25, 0.5), "median", (2, 4, 8)),
        (8, (0.25, 0.5), "none", (8,)),
        (3, (0.25, 0.5), "median", (1, 2, 3)),
        (2, (0.25, 0.5), "successive_halving", (1, 2)),
        (1, (0.25, 0.5), "median", (1,)),
        (10, (0.1, 0.3), "wilcoxon", (1, 3, 10)),
    ],
)
def test_rung_bounds(n: int, rungs: tuple[float, ...], name: str,
                     expected: tuple[int, ...]) -> None:
    pruner = PrunerConfig(name=name, rungs=rungs)  # type: ignore[arg-type]
    assert rung_bounds(n, pruner) == expected


def _ref(security: str, date: str) -> ShardRef:
    return ShardRef(security=security, date=date, files=(), fingerprint="", root="/x")


def test_rungs_cover_every_security_first() -> None:
    refs = [_ref(s, d) for d in ("2024-01-03", "2024-01-02") for s in ("B", "A", "C")]
    ordered = [(r.security, r.date) for r in order_for_rungs(refs)]
    assert ordered == [("A", "2024-01-02"), ("B", "2024-01-02"), ("C", "2024-01-02"),
                       ("A", "2024-01-03"), ("B", "2024-01-03"), ("C", "2024-01-03")]


def test_samplers_and_pruners_are_built_seeded() -> None:
    from mmopt.config import SamplerConfig

    tpe = make_sampler(SamplerConfig(name="tpe", seed=5), SPACE)
    assert isinstance(tpe, optuna.samplers.TPESampler)
    assert tpe._multivariate and tpe._constant_liar
    from mmopt.search.indexed_random import IndexedRandomSampler

    for name, cls in (("random", IndexedRandomSampler),
                      ("qmc", optuna.samplers.QMCSampler),
                      ("nsga2", optuna.samplers.NSGAIISampler)):
        assert isinstance(make_sampler(SamplerConfig(name=name), SPACE), cls)  # type: ignore[arg-type]
    for name, pcls in (("none", optuna.pruners.NopPruner),
                       ("median", optuna.pruners.MedianPruner),
                       ("successive_halving", optuna.pruners.SuccessiveHalvingPruner),
                       ("wilcoxon", optuna.pruners.WilcoxonPruner)):
        assert isinstance(make_pruner(PrunerConfig(name=name)), pcls)  # type: ignore[arg-type]
