"""Strategy parameters typed end to end: the vector decide() reads is generated from the params
dataclass, and each strategy reads it by field name (mmopt.strategies._params)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pytest

from mmopt.errors import ConfigError
from mmopt.strategies import STRATEGIES, param_index, params_vector


@dataclass(frozen=True, slots=True)
class _Params:
    size: int = 2
    stop: float | None = None
    on: bool = True
    spread_bps: float = 1.5


def test_vector_is_every_field_in_declaration_order() -> None:
    vec = params_vector(_Params())
    assert vec.dtype.name == "float64"
    assert vec[0] == 2.0 and math.isnan(vec[1]) and vec[2] == 1.0 and vec[3] == 1.5
    assert [param_index(_Params, f.name) for f in dataclasses.fields(_Params)] == [0, 1, 2, 3]
    assert params_vector(_Params(stop=0.5, on=False))[1:3].tolist() == [0.5, 0.0]


def test_unknown_field_name_is_an_error_naming_the_fields() -> None:
    with pytest.raises(ConfigError, match=r"_Params has no field 'sizes'.*'size'"):
        param_index(_Params, "sizes")


def test_non_numeric_field_is_an_error() -> None:
    @dataclass(frozen=True)
    class Bad:
        mode: str = "fast"

    with pytest.raises(ConfigError, match=r"Bad.mode = 'fast'.*must be a number"):
        params_vector(Bad())


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_reads_the_generated_vector(name: str) -> None:
    strategy = STRATEGIES[name]
    params = strategy.make_params()
    vec = strategy.to_vector(params)
    fields = dataclasses.fields(params)
    assert vec.shape == (len(fields),)
    for k, f in enumerate(fields):
        value = getattr(params, f.name)
        expected = math.nan if value is None else float(value)
        assert (math.isnan(vec[k]) and math.isnan(expected)) or vec[k] == expected, f.name
