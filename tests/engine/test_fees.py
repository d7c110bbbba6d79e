"""Fees by hand: bps, per unit (maker rebate / taker fee), flat per trade, buy- or sell-only,
combined; linear and inverse contracts; config over instruments.csv."""

from __future__ import annotations

import math

import pytest
from engine_helpers import Script, fill_tuples, run

from mmopt.data._schema import Instrument
from mmopt.engine import EngineConfig, resolve_fees
from mmopt.errors import ConfigError

# our bid 3 @ 100 fills as maker at 3 ms (the trade of 3 clears the 2 ahead), then a taker
# order sells 3 at the bid (100) at 5 ms
ROWS = [(0, "bid", 100.0, 2.0), (0, "ask", 101.0, 5.0), (3, "sell", 100.0, 3.0),
        (20, "bid", 100.0, 2.0)]
SCRIPT = Script(bid=100.0, bid_qty=3.0, taker_side=-1.0, taker_qty=3.0, taker_at=0.005)
NO_FEES = Instrument("X", tick_size=1.0, lot_size=1.0)


def _fees(instrument: Instrument = NO_FEES, **config: object) -> list[float]:
    r = run(ROWS, SCRIPT, instrument, **config)
    assert [(s, p, q, m) for _, s, p, q, m in fill_tuples(r)] == [
        (1, 100.0, 3.0, True), (-1, 100.0, 3.0, False)]
    assert math.isclose(r.fees, sum(r.fills["fee"]), rel_tol=0, abs_tol=1e-12)
    return [float(f) for f in r.fills["fee"]]


def test_basis_points_maker_and_taker() -> None:
    # value 300: maker -1 bp = -0.03 (rebate), taker 5 bp = 0.15
    assert _fees(maker_fee_bps=-1.0, taker_fee_bps=5.0) == pytest.approx([-0.03, 0.15], abs=1e-12)


def test_per_share_rebate_and_fee() -> None:
    # US-equity style: maker rebate 0.002 / share, taker fee 0.003 / share, 3 shares
    assert _fees(maker_fee_per_unit=-0.002, taker_fee_per_unit=0.003) == pytest.approx(
        [-0.006, 0.009], abs=1e-12)


def test_flat_fee_per_trade() -> None:
    assert _fees(fee_per_trade=0.5) == pytest.approx([0.5, 0.5], abs=1e-12)


def test_sell_only_fees() -> None:
    # SEC-style 0.278 bp of the sell value (300) = 0.00834, FINRA-style 0.000166 / share sold
    got = _fees(sell_fee_bps=0.278, sell_fee_per_unit=0.000166)
    assert got == pytest.approx([0.0, 0.00834 + 0.000498], abs=1e-12)
    assert _fees(buy_fee_bps=1.0) == pytest.approx([0.03, 0.0], abs=1e-12)


def test_fees_combine_from_instruments_csv_columns() -> None:
    ins = Instrument("X", tick_size=1.0, lot_size=1.0, maker_fee_bps=0.5, taker_fee_bps=2.0,
                     maker_fee_per_unit=-0.002, taker_fee_per_unit=0.003, fee_per_trade=0.01,
                     sell_fee_bps=0.278)
    maker = 0.5e-4 * 300 - 0.002 * 3 + 0.01  # 0.019
    taker = 2e-4 * 300 + 0.003 * 3 + 0.01 + 0.278e-4 * 300  # 0.08734
    assert _fees(ins) == pytest.approx([maker, taker], abs=1e-12)
    # config wins over the column, field by field
    assert _fees(ins, fee_per_trade=0.0, sell_fee_bps=0.0) == pytest.approx(
        [maker - 0.01, taker - 0.01 - 0.00834], abs=1e-12)


def test_inverse_contract_fees_are_in_coin() -> None:
    inv = Instrument("INV", tick_size=1.0, lot_size=1.0, contract_type="inverse",
                     contract_size=100.0)
    # value of 3 contracts of 100 USD at 100: 3 coin; taker 5 bp = 0.0015 coin;
    # per contract 0.0001 coin maker rebate / 0.0002 taker
    got = _fees(inv, taker_fee_bps=5.0, maker_fee_per_unit=-0.0001, taker_fee_per_unit=0.0002)
    assert got == pytest.approx([-0.0003, 0.0015 + 0.0006], abs=1e-15)


def test_resolve_fees_and_bad_values() -> None:
    cfg = EngineConfig(maker_fee_per_unit=-0.002, taker_fee_per_unit=0.003)
    fees = resolve_fees(cfg, Instrument("X", 1.0, 1.0, maker_fee_bps=1.0))
    assert (fees.maker_fee_bps, fees.maker_fee_per_unit, fees.taker_fee_per_unit) == (
        1.0, -0.002, 0.003)
    assert fees.has_extra and cfg.fees_in_config()
    assert not EngineConfig(maker_fee_bps=1.0).fees_in_config()
    with pytest.raises(ConfigError, match=r"engine\.sell_fee_bps"):
        EngineConfig(sell_fee_bps="abc")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"engine\.fee_per_trade"):
        EngineConfig(fee_per_trade=math.inf)
