"""Bad inputs are rejected with messages that name the field / row and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import INST, stream

from mmopt.data._schema import EVENT_DTYPE
from mmopt.engine import EngineConfig, prepare_market, run_backtest
from mmopt.errors import ConfigError, DataError
from mmopt.strategies import get_strategy


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("step_ms", 0, "step_ms"),
        ("entry_latency_ns", -1, "entry_latency_ns"),
        ("entry_latency_ns", 1.5, "entry_latency_ns"),
        ("queue_model", "fifo", "queue_model"),
        ("fill_model", "magic", "fill_model"),
        ("queue_power", 0.0, "queue_power"),
        ("maker_fee_bps", float("nan"), "maker_fee_bps"),
        ("open_auction_end", "25:00", "open_auction_end"),
        ("flatten_at", "9h30", "flatten_at"),
        ("equity_interval_ms", -5, "equity_interval_ms"),
        ("max_orders", 1, "max_orders"),
        ("seed", -3, "seed"),
    ],
)
def test_bad_config_names_the_field(field: str, value: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        EngineConfig(**{field: value})  # type: ignore[arg-type]


def test_auction_windows_must_be_ordered() -> None:
    with pytest.raises(ConfigError, match="close_auction_start"):
        EngineConfig(open_auction_end="10:00", close_auction_start="09:00")


def test_describe_names_the_models() -> None:
    assert EngineConfig().describe() == (
        "risk_averse/no-partial/queue/latency=constant(entry=0ms,response=0ms)"
    )
    cfg = EngineConfig(queue_model="prob_power", queue_power=3, fill_model="intensity")
    assert cfg.describe().startswith("prob_power(n=3)/no-partial/intensity(")


def test_bad_events_are_rejected_before_running() -> None:
    good = stream([(0, "bid", 100.0, 1.0), (1, "ask", 101.0, 1.0)])
    unsorted = good[::-1].copy()
    with pytest.raises(DataError, match="ts_ns decreases at row 1"):
        prepare_market(unsorted, INST)
    bad_qty = good.copy()
    bad_qty["qty"][1] = -1.0
    with pytest.raises(DataError, match="row 1 has qty"):
        prepare_market(bad_qty, INST)
    no_price = stream([(0, "bid", 100.0, 1.0), (1, "sell", 100.0, 1.0)])
    no_price["price"][1] = np.nan
    with pytest.raises(DataError, match="needs a finite price"):
        prepare_market(no_price, INST)
    with pytest.raises(DataError, match="EVENT_DTYPE"):
        prepare_market(np.zeros(3), INST)
    with pytest.raises(DataError, match="empty"):
        prepare_market(np.zeros(0, dtype=EVENT_DTYPE), INST)


def test_unknown_strategy_and_params_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="price_follow"):
        get_strategy("nope")
    events = stream([(0, "bid", 100.0, 1.0), (1, "ask", 101.0, 1.0)])
    with pytest.raises(ConfigError, match="quote_sise"):
        run_backtest(events, INST, get_strategy("price_follow"), {"quote_sise": 2})
    with pytest.raises(ConfigError, match="max_position"):
        run_backtest(events, INST, get_strategy("price_follow"), {"max_position": 0})
    with pytest.raises(ConfigError, match="Instrument"):
        run_backtest(events, None, get_strategy("price_follow"))
