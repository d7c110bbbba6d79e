"""`mmopt strategies`: every registered strategy with its parameters, defaults and ranges."""

from __future__ import annotations

import pytest

from mmopt.cli import main
from mmopt.cli.strategies import param_rows
from mmopt.strategies import get_strategy, list_strategies


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def test_lists_every_registered_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for name in list_strategies():
        assert name in out
        for row in param_rows(get_strategy(name)):
            assert row.name in out
    assert f"{len(list_strategies())} strategies" in out


def test_rows_carry_default_allowed_range_and_search_space() -> None:
    rows = {r.name: r for r in param_rows(get_strategy("avellaneda_stoikov"))}
    assert (rows["gamma"].default, rows["gamma"].allowed, rows["gamma"].search) == (
        "0.1", "(0, 100]", "float 0.01 .. 1 (log)")
    assert rows["horizon_s"].type == "float | None"
    assert rows["use_microprice"].default == "true" and rows["eta_ofi"].search == ""
    grid = {r.name: r for r in param_rows(get_strategy("layered_grid"))}
    assert grid["min_time_in_book_ms"].search == "int 300 .. 800 step 50"
    stops = {r.name: r for r in param_rows(get_strategy("skewed_with_stops"))}
    assert stops["use_reservation"].search == "one of false, true"


def test_one_strategy_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies", "layered_grid"]) == 0
    out = capsys.readouterr().out
    assert "imbalance_cutoff" in out and "avellaneda_stoikov" not in out
    assert "1 strategy;" in out


def test_unknown_name_is_an_error_listing_the_known_ones(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies", "nope"]) == 2
    err = capsys.readouterr().err
    assert "error: strategy='nope' is unknown" in err and "layered_grid" in err


@pytest.mark.parametrize("name", list_strategies())
def test_every_parameter_shows_its_allowed_range(name: str) -> None:
    for row in param_rows(get_strategy(name)):
        assert row.allowed not in ("", "-"), f"{name}.{row.name} has no range (use param_field)"


@pytest.mark.parametrize(("name", "key", "value", "expected"), [
    ("price_follow", "refill_interval_s", -1.0,
     "strategy.params.refill_interval_s (price_follow): expected a number in [0, inf), got -1.0"),
    ("price_follow", "stop_loss_pct", 0.0,
     "strategy.params.stop_loss_pct (price_follow): expected a number in (0, inf), got 0.0"),
    ("price_follow", "min_notional_before_quote", float("nan"),
     "strategy.params.min_notional_before_quote (price_follow): expected a number in [0, inf)"),
    ("fixed_interval", "quote_size", 0,
     "strategy.params.quote_size (fixed_interval): expected a whole number >= 1, got 0"),
    ("fixed_interval", "max_position", 2.5,
     "strategy.params.max_position (fixed_interval): expected a whole number >= 1, got 2.5"),
])
def test_touch_strategies_name_the_key_and_the_range(name: str, key: str, value: object,
                                                      expected: str) -> None:
    from mmopt.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        get_strategy(name).make_params({key: value})
    assert expected in str(info.value)
