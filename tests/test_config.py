"""The Hydra configs in conf/ and their conversion to the frozen, validated RunConfig."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import DictConfig, ListConfig

from mmopt.cli._hydra import compose, list_group_options
from mmopt.config import (
    ID_EXCLUDES,
    RunConfig,
    canonical_json,
    conf_dir,
    config_id,
    ensure_generated,
    from_hydra,
    metric_names,
    open_shards,
    to_dict,
)
from mmopt.config._expr import parse_linear
from mmopt.errors import ConfigError, MmoptError
from mmopt.metrics import KpiTargets

REPO = Path(__file__).resolve().parents[1]
GROUPS = ("data", "strategy", "search", "engine", "sessions", "objective", "objective/kpi",
          "study", "executor", "tracking", "validation", "selection", "experiment")
# Options that only make sense with another choice: what a user would add on the command line.
COMPANIONS = {
    ("data", "parquet"): ["data.root=my-shards"],
    ("sessions", "parquet"): ["data.root=my-shards"],
    ("objective", "pareto"): ["study=pareto"],
}


# The KPI profiles of conf/objective/kpi/ (requote is the default of every objective).
KPI_PROFILES = {
    "requote": KpiTargets(0.10, 0.40, 0.005, None, 300.0),
    "seed": KpiTargets(),
    "none": KpiTargets(None, None, None, None, None),
}


def load(*overrides: str) -> RunConfig:
    return from_hydra(compose(list(overrides)))


def group_options() -> list[tuple[str, str]]:
    return [(g, o) for g in GROUPS for o in list_group_options(g)]


def overrides_for(group: str, option: str) -> list[str]:
    # search follows strategy and sessions follow data (defaults: search: ${strategy},
    # sessions: ${data}); pick them through the group they follow
    follows = {"search": "strategy", "sessions": "data"}
    if group == "sessions" and option not in list_group_options("data"):
        follows = {}  # a venue profile of its own (sessions=us_equities)
    head = f"{follows.get(group, group)}={option}"
    return [head, *COMPANIONS.get((group, option), [])]


# --- every YAML file composes and converts -----------------------------------------------------


def test_every_yaml_file_is_a_tested_group_option() -> None:
    files = {p.relative_to(conf_dir()).as_posix() for p in conf_dir().rglob("*.yaml")}
    covered = {"config.yaml"} | {f"{g}/{o}.yaml" for g, o in group_options()}
    assert files == covered
    assert len(list_group_options("strategy")) == 5
    assert set(list_group_options("search")) == set(list_group_options("strategy"))
    assert set(list_group_options("sessions")) == {*list_group_options("data"), "us_equities"}


@pytest.mark.parametrize(("group", "option"), group_options(), ids=lambda v: str(v))
def test_group_option_composes_and_converts(group: str, option: str) -> None:
    run = load(*overrides_for(group, option))
    assert isinstance(run, RunConfig)
    if group in ("strategy", "search"):
        assert run.strategy.name == option and run.search.strategy == option
        assert set(run.search.names) <= set(run.strategy.params_dict())
    elif group in ("data", "objective", "executor", "tracking", "validation", "selection"):
        assert getattr(run, group).name == option
    elif group == "sessions":
        expected = {"synthetic": "09:01:00", "us_equities": "09:35:00"}.get(option)
        assert run.engine.get("open_auction_end") == expected
        if option == "us_equities":
            assert run.engine.get("session_tz") == "America/New_York"
    elif group == "objective/kpi":
        assert run.objective.kpi == KPI_PROFILES[option]
    assert from_hydra(to_dict(run)) == run  # the plain form round-trips
    _assert_no_omegaconf(run)


def test_default_config_is_the_embedded_sweep() -> None:
    run = load()
    assert run.data.name == "synthetic" and run.data.generate is not None
    assert (run.data.generate.n_securities, run.data.generate.n_days) == (4, 2)
    assert run.strategy.name == "avellaneda_stoikov"
    assert run.study.sampler.name == "tpe" and run.study.sampler.seed is not None
    assert run.study.storage == "sqlite:///runs/optuna.db"
    assert run.executor.name == "ray" and run.executor.address is None
    assert run.tracking.name == "mlflow" and run.tracking.tracking_uri == "sqlite:///runs/mlflow.db"
    assert run.objective.directions == ("maximize",)
    assert run.objective.kpi == KPI_PROFILES["requote"] and run.objective.use_constraints


def test_kpi_profile_and_single_targets_override_from_the_command_line() -> None:
    assert load("objective/kpi=seed").objective.kpi == KpiTargets()
    assert load("objective=sharpe", "objective/kpi=none").objective.kpi == KPI_PROFILES["none"]
    kpi = load("objective.kpi.cancel_ratio_max=0.9").objective.kpi
    assert kpi == KpiTargets(0.10, 0.40, 0.005, 0.9, 300.0)


def test_layered_grid_space_has_the_seed_bounds() -> None:
    space = {p.name: p for p in load("strategy=layered_grid").search.params}
    bounds = {n: (p.low, p.high) for n, p in space.items()}
    assert bounds == {
        "k_vola_spread": (0.6, 1.4), "skew_coeff": (0.1, 0.6), "levels_per_side": (2, 4),
        "level_spacing_coeff": (0.2, 0.6), "min_time_in_book_ms": (300, 800),
        "replace_threshold_bps": (0.0, 6.0), "imbalance_cutoff": (0.55, 0.75),
    }
    assert space["levels_per_side"].type == "int"


def test_experiment_pins_groups_and_cli_still_overrides_it() -> None:
    run = load("experiment=binance_grid_pareto", "study.n_trials=7")
    assert (run.data.name, run.strategy.name, run.search.strategy) == (
        "binance", "layered_grid", "layered_grid")
    assert run.objective.is_multi and run.study.sampler.name == "nsga2"
    assert run.study.n_trials == 7 and run.study.name == "binance-grid-pareto-v1"


def test_top_level_conf_is_the_packaged_conf() -> None:
    assert (REPO / "conf").resolve() == conf_dir()


def test_conf_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MMOPT_CONF_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=r"no config\.yaml in .*MMOPT_CONF_DIR"):
        conf_dir()


def _assert_no_omegaconf(value: object) -> None:
    assert not isinstance(value, DictConfig | ListConfig)
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _assert_no_omegaconf(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for v in value:
            _assert_no_omegaconf(v)


def test_run_config_is_frozen() -> None:
    run = load()
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.study.n_trials = 3  # type: ignore[misc]


# --- overrides in Hydra's command-line grammar -------------------------------------------------


def test_cli_grammar_overrides() -> None:
    run = load(
        "data=binance",
        "data.securities=[binance-spot.BTCUSDT,binance-coinm.BTCUSD_PERP]",
        "data.dates=[2024-08-08]",
        "strategy=price_follow",
        "strategy.params.refill_interval_s=5",
        "objective.lambda=2",
        "objective.kpi.fill_ratio_min=null",
        "study.sampler.seed=null",
        "study.name='my study'",
        "executor.address=ray://head:10001",
        "engine.step_ms=10",
    )
    assert run.data.securities == ("binance-spot.BTCUSDT", "binance-coinm.BTCUSD_PERP")
    assert run.data.dates == ("2024-08-08",)
    assert run.strategy.params_dict()["refill_interval_s"] == 5
    assert run.objective.objectives[0].linear.terms == (("net_pnl", 1.0), ("cvar95", -2.0))
    assert run.objective.kpi.fill_ratio_min is None
    assert run.objective.kpi.cancel_ratio_max is None  # off in the default (requote) KPI profile
    assert run.study.sampler.seed is None and run.study.name == "my study"
    assert run.executor.address == "ray://head:10001"
    assert run.engine.get("step_ms") == 10


def test_interpolated_names_follow_overrides(tmp_path: Path) -> None:
    run = load("strategy=fixed_interval", "data=binance", f"run_dir={tmp_path}")
    assert run.study.name == "fixed_interval-binance"
    assert run.study.storage == f"sqlite:///{tmp_path}/optuna.db"
    assert run.tracking.experiment == "mmopt-fixed_interval"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["strategy=nope"],
         r"override 'strategy=nope': .*Could not find 'strategy/nope'.*price_follow"),
        (["data.dates=[2024-08-08"], r"override 'data.dates=\[2024-08-08': .*fix: write overrides"),
        (["study.n_trial=5"], r"override 'study.n_trial=5': Could not override 'study.n_trial'\. "
                              r"\(fix: no such key here"),
        (["study.n_trials=3", "engine.stepms=1"], r"override 'engine.stepms=1'"),
        (["search.params.quote_size={type:categorical,choices:[1,2]}"],
         r"to replace the entry, write ~search.params.quote_size '\+search.params.quote_size="),
    ],
)
def test_hydra_errors_name_the_override(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compose(overrides)


# --- bad values fail before any work, naming the key -------------------------------------------

BAD = [
    (["search.params.gamma.low=2.0", "search.params.gamma.high=1.0"],
     "search.params.gamma: low (2.0) > high (1.0)"),
    (["search.params.gamma.low=0"], "search.params.gamma: log scale needs low > 0, got low (0.0)"),
    (["search.params.k.low=-1"], "search.params.k: log scale needs low > 0"),
    (["+search.params.bogus={type:float,low:0,high:1}"],
     "search.params.bogus: unknown parameter of strategy 'avellaneda_stoikov'"),
    (["strategy=layered_grid", "+search.params.gamma={type:float,low:0.1,high:1}"],
     "search.params.gamma: unknown parameter of strategy 'layered_grid'"),
    (["+strategy.params.bogus=1"],
     "strategy.params.bogus: unknown parameter of strategy 'avellaneda_stoikov'"),
    (["strategy=price_follow", "search=layered_grid"],
     "search.strategy: this space is for 'layered_grid' but strategy.name is 'price_follow'"),
    (["objective.objectives=[{expr:'net_pnl - lambda * pnl_bogus',direction:maximize}]"],
     "objective.objectives[0].expr: unknown metric 'pnl_bogus'"),
    (["objective=pareto", "study=pareto", "objective.objectives.1.expr=drawdown"],
     "objective.objectives[1].expr: unknown metric 'drawdown'"),
    (["objective.objectives=[{expr:'net_pnl / cvar95',direction:maximize}]"],
     "objective.objectives[0].expr: unsupported '/'"),
    (["objective.objectives=[{expr:'net_pnl * cvar95',direction:maximize}]"],
     "objective.objectives[0].expr: net_pnl * cvar95 in 'net_pnl * cvar95' is not linear"),
    (["objective.objectives=[{expr:net_pnl,direction:up}]"],
     "objective.objectives[0].direction: unknown value 'up'"),
    (["objective.objectives=[]"], "objective.objectives: expected a non-empty list"),
    (["objective.kpi.fill_ratio_min=-0.1"], "objective.kpi.fill_ratio_min: must be a finite"),
    (["+objective.kpi.hit_rate_min=0.5"], "objective.kpi.hit_rate_min: unknown key"),
    (["study.n_trials=0"], "study.n_trials: must be >= 1, got 0"),
    (["study.n_trials=-5"], "study.n_trials: must be >= 1, got -5"),
    (["study.n_trials=many"], "study.n_trials: expected a number, got 'many'"),
    (["study.n_trials=2.5"], "study.n_trials: expected an integer, got 2.5"),
    (["study.timeout_s=0"], "study.timeout_s: must be > 0.0, got 0"),
    (["study.sampler.name=bayes"],
     "study.sampler.name: unknown value 'bayes' (fix: use one of tpe"),
    (["study.pruner.name=hyperband"], "study.pruner.name: unknown value 'hyperband'"),
    (["study.pruner.rungs=[0.5,0.25]"], r"study.pruner.rungs[1]: 0.25 is not an increasing share"),
    (["study.pruner.rungs=[]"], "study.pruner.rungs: pruner median needs at least one rung"),
    (["study.storage=mongodb://x"], "study.storage: unsupported storage URL 'mongodb://x'"),
    (["objective=pareto"], "study.pruner.name: Optuna cannot prune a study with 2 objectives"),
    (["objective=pareto", "study=pareto", "study.sampler.name=cmaes"],
     "study.sampler.name: cmaes optimises one objective, not 2"),
    (["study.sampler.name=grid"],
     "study.sampler.name: grid needs a finite space but search.params.gamma is continuous"),
    (["strategy=skewed_with_stops", "study.sampler.name=cmaes"],
     "study.sampler.name: cmaes cannot sample categorical search.params.use_reservation"),
    (["+study.bogus=1"], "study.bogus: unknown key"),
    (["strategy=price_follow", "search.params.stop_loss_pct.low=0"],
     "search.params.stop_loss_pct: low (0.0) is not a legal value: strategy.params.stop_loss_pct"),
    (["strategy=price_follow", "search.params.quote_size={type:float,low:1,high:3}"],
     "search.params.quote_size: strategy 'price_follow' takes a whole number (int)"),
    (["strategy=price_follow", "search.params.max_position.low=0"],
     "search.params.max_position: low (0) is not a legal value"),
    (["+search.params.gamma.lo=1"], "search.params.gamma.lo: unknown key"),
    (["search.params.gamma.type=decimal"], "search.params.gamma.type: unknown value 'decimal'"),
    (["+search.params.gamma.step=0.1"],
     "search.params.gamma: log scale and step cannot be combined"),
    (["+search.params.beta_ofi.step=0.3"],
     "search.params.beta_ofi: high - low (1.0) is not a multiple of step (0.3)"),
    (["search.params.quote_size.low=1.5"], "search.params.quote_size.low: expected an integer"),
    (["~search.params.quote_size",
      "+search.params.quote_size={type:categorical,choices:[1,2],low:1}"],
     "search.params.quote_size.low: a categorical parameter takes only choices"),
    (["~search.params.quote_size", "+search.params.quote_size={type:categorical,choices:[]}"],
     "search.params.quote_size.choices: expected a non-empty list"),
    (["~search.params.quote_size", "+search.params.quote_size={type:categorical,choices:[1,1]}"],
     "search.params.quote_size.choices: duplicate choices"),
    (["+search.params.quote_size.choices=[1,2]"],
     "search.params.quote_size.choices: a int parameter takes low/high, not choices"),
    (["data=parquet"], "data.root: no value given (fix: set data.root=...)"),
    (["data.dates=[2024-13-01]"], "data.dates[0]: not a date: '2024-13-01'"),
    (["data.dates=[]"], "data.dates: empty list"),
    (["data.date_from=2024-02-01", "data.date_to=2024-01-01"],
     "data.date_from: 2024-02-01 is after date_to 2024-01-01"),
    (["data.dates=[2024-01-02]", "data.holdout_dates=[2024-01-02]"],
     "data.holdout_dates: holds every date of data.dates"),
    (["data.generate.n_days=0"], "data.generate.n_days: 0 is outside 1..10000"),
    (["+data.generate.colour=red"], "data.generate.colour: unknown synthetic-data setting"),
    (["+engine.turbo=true"], "engine.turbo: unknown engine setting"),
    (["executor.address=somewhere"], "executor.address: not a Ray address: 'somewhere'"),
    (["executor.num_cpus=0"], "executor.num_cpus: must be >= 1, got 0"),
    (["executor.trials_per_task=0"], "executor.trials_per_task: must be >= 1, got 0"),
    (["tracking.tracking_uri=null"], "tracking.tracking_uri: expected a non-empty string"),
    (["study.name=${nowhere}"], "study.name: "),
    (["run_dir=''"], "run_dir: expected a non-empty string"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_value_fails_naming_the_key(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(*overrides)
    assert str(info.value).startswith(message), str(info.value)


def test_unknown_key_message_lists_the_known_keys() -> None:
    with pytest.raises(ConfigError, match=r"known keys|use one of the keys of study: .*n_trials"):
        load("+study.bogus=1")


def test_plain_mapping_with_unknown_root_key_fails() -> None:
    plain = to_dict(load())
    plain["extra"] = 1
    with pytest.raises(ConfigError, match=r"^extra: unknown key"):
        from_hydra(plain)


# --- config_id -------------------------------------------------------------------------------


def test_config_id_is_stable_and_short() -> None:
    a, b = load(), load()
    assert a.config_id == b.config_id == config_id(a)
    assert re.fullmatch(r"[0-9a-f]{12}", a.config_id)


@pytest.mark.parametrize(
    "change",
    [
        "strategy.params.gamma=0.2",
        "strategy=layered_grid",
        "search.params.gamma.high=0.9",
        "study.sampler.seed=1",
        "study.n_trials=101",
        "objective.lambda=0.6",
        "objective.kpi.fill_ratio_min=0.1",
        "engine.step_ms=10",
        "data.dates=[2024-01-02]",
        "data.generate.seed=8",
    ],
)
def test_config_id_changes_with_what_a_run_computes(change: str) -> None:
    assert load(change).config_id != load().config_id


@pytest.mark.parametrize(
    "change",
    ["executor=local", "tracking=none", "run_dir=elsewhere", "record=elsewhere/rec",
     "study.storage=journal:///elsewhere/j.log", "strategy.params.gamma=0.1",
     "strategy.params.quote_size=1.0"],
)
def test_config_id_ignores_where_and_how_a_run_goes(change: str) -> None:
    assert load(change).config_id == load().config_id


def test_config_id_is_the_same_in_other_processes() -> None:
    import subprocess
    import sys

    code = ("from mmopt.cli._hydra import compose; from mmopt.config import from_hydra; "
            "print(from_hydra(compose(['strategy=layered_grid'])).config_id)")
    ids = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert ids == {load("strategy=layered_grid").config_id}


def test_canonical_json_leaves_out_the_excluded_keys() -> None:
    text = canonical_json(load())
    assert '"executor"' not in text and '"tracking"' not in text and '"storage"' not in text
    assert "study.storage" in ID_EXCLUDES


# --- objectives ------------------------------------------------------------------------------


def test_objectives_evaluate_the_expression() -> None:
    run = load("objective.lambda=0.25")
    metrics = {"net_pnl": 10.0, "cvar95": 4.0}
    assert run.objective.evaluate(metrics) == (9.0,)
    pareto = load("objective=pareto", "study=pareto").objective
    assert pareto.evaluate(metrics) == (10.0, 4.0)
    assert pareto.directions == ("maximize", "minimize")


def test_constraints_use_the_kpi_targets() -> None:
    objective = load("objective/kpi=seed").objective
    ok = {"spread_captured": 0.8, "rms_inventory_ratio": 0.2, "fill_ratio": 0.1,
          "cancel_ratio": 0.5, "ack_latency_p99_ms": 120.0}
    assert all(v <= 0 for v in objective.constraints(ok))
    bad = {**ok, "fill_ratio": 0.01}
    assert max(objective.constraints(bad)) == pytest.approx(0.04)
    assert load("objective.use_constraints=false").objective.constraints(bad) == ()
    requote = load().objective  # cancel ratio off; fill ratio >= 0.005
    assert requote.constraints({**ok, "cancel_ratio": 0.99}) == pytest.approx(
        (-0.7, -0.2, -0.095, -180.0))
    assert max(requote.constraints({**ok, "fill_ratio": 0.001})) == pytest.approx(0.004)


def test_linear_expression_parser() -> None:
    metrics = metric_names()
    expr = parse_linear("k", "-2 * net_pnl + cvar95 * lambda - 3 + .5*net_pnl", {"lambda": 4.0},
                        metrics)
    assert expr.terms == (("net_pnl", -1.5), ("cvar95", 4.0))
    assert expr.constant == -3.0
    with pytest.raises(ConfigError, match=r"^k: 'lambda' names no metric"):
        parse_linear("k", "lambda", {"lambda": 1.0}, metrics)
    with pytest.raises(ConfigError, match=r"^k: incomplete expression"):
        parse_linear("k", "net_pnl -", {}, metrics)


@given(
    st.lists(st.tuples(st.sampled_from(["net_pnl", "cvar95", "sharpe", "fill_ratio"]),
                       st.integers(-5, 5)), min_size=1, max_size=6),
    st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-10, 10), st.floats(0, 1),
)
def test_linear_expression_matches_hand_sum(
    terms: list[tuple[str, int]], pnl: float, cvar: float, sharpe: float, fill: float
) -> None:
    text = " + ".join(f"{w} * {m}" for m, w in terms).replace("+ -", "- ")
    values = {"net_pnl": pnl, "cvar95": cvar, "sharpe": sharpe, "fill_ratio": fill}
    expected = sum(w * values[m] for m, w in terms)
    got = parse_linear("k", text, {}, metric_names()).evaluate(values)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-6)


# --- from DataConfig to shards ---------------------------------------------------------------

TINY_SYNTH = ["data.generate.n_securities=2", "data.generate.n_days=3",
              "data.generate.events_per_day=1000", "data.generate.session_seconds=600"]


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    data = load(f"data.root={root}", *TINY_SYNTH).data
    assert ensure_generated(data) is True
    assert ensure_generated(data) is False  # stamped: reused, not regenerated
    return root


def keys(*overrides: str) -> list[str]:
    return [s.key for s in open_shards(load(*overrides).data)]


def test_open_shards_applies_every_filter(synth_root: Path) -> None:
    base = [f"data.root={synth_root}", *TINY_SYNTH]
    everything = keys(*base)
    assert len(everything) == 6
    days = sorted({k.split("/")[1] for k in everything})
    assert keys(*base, f"data.dates=[{days[1]}]", "data.securities=[SYN01]") == [
        f"SYN01/{days[1]}"]
    assert keys(*base, f"data.date_from={days[1]}") == [k for k in everything if days[0] not in k]
    assert keys(*base, f"data.holdout_dates=[{days[2]}]") == [
        k for k in everything if days[2] not in k]
    held = load(*base, f"data.holdout_dates=[{days[2]}]").data
    assert [s.date for s in open_shards(held, holdout=True)] == [days[2], days[2]]


def test_open_shards_errors(synth_root: Path) -> None:
    base = [f"data.root={synth_root}", *TINY_SYNTH]
    with pytest.raises(MmoptError, match=r"^data\.dates: no shard of .* matches \['2030-01-01'\]"):
        keys(*base, "data.dates=[2030-01-01]")
    with pytest.raises(MmoptError, match="unknown security NOPE"):
        keys(*base, "data.securities=[NOPE]")
    with pytest.raises(ConfigError, match=r"^data\.root: synthetic data is generated on a local"):
        keys("data.root=s3://bucket/x", *TINY_SYNTH)


def test_synthetic_data_is_never_written_into_other_data(tmp_path: Path) -> None:
    (tmp_path / "security=REAL" / "date=2024-01-02").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"^data\.root: .* holds shards that are not this "
                                          r"synthetic dataset \(e\.g\. REAL\); .*data=parquet"):
        keys(f"data.root={tmp_path}", *TINY_SYNTH)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["security=REAL"]
