"""instruments.csv parsing and the inference of tick and lot size, with its one warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from datalayer_helpers import hand_root

from mmopt.data import (
    InferredInstrumentWarning,
    Instrument,
    load_events,
    load_shards,
    open_catalog,
    parse_instruments_csv,
    read_instruments,
)
from mmopt.data.instruments import infer_grid
from mmopt.errors import DataError

HEADER = (
    "security,tick_size,lot_size,contract_type,contract_size,quote_currency,"
    "maker_fee_bps,taker_fee_bps\n"
)


def test_parse_all_columns_and_defaults() -> None:
    text = HEADER + "X,0.1,1,inverse,100,USD,-0.5,5\n"
    text += "Y,0.01,0.001,,,,,\n"
    got = parse_instruments_csv(text, "f.csv")
    assert got["X"] == Instrument("X", 0.1, 1.0, "inverse", 100.0, "USD", -0.5, 5.0)
    assert got["Y"] == Instrument("Y", 0.01, 0.001)
    only_required = parse_instruments_csv("security,tick_size,lot_size,extra\nZ,0.5,2,x\n", "f")
    assert only_required["Z"] == Instrument("Z", 0.5, 2.0)


def test_real_instruments(binance_root: Path) -> None:
    table = read_instruments(str(binance_root))
    assert table is not None and len(table) == 6
    assert table["binance-coinm.BTCUSD_PERP"] == Instrument(
        "binance-coinm.BTCUSD_PERP", 0.1, 1.0, "inverse", 100.0, "USD", 2.0, 5.0
    )
    assert table["binance-spot.BTCUSDT"].lot_size == 0.00001


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("security,tick_size\nX,0.1\n", r"f.csv: missing column lot_size in the header"),
        ("tick,lot\n", r"f.csv: missing columns security, tick_size, lot_size"),
        (HEADER + "X,0.1,1\nY,abc,1\n", r"f.csv: line 3: column 'tick_size' = 'abc' is not a num"),
        (HEADER + "X,0.1,,\n", r"f.csv: line 2: column 'lot_size' = '' is not a number"),
        (HEADER + "X,0.1,1,,,,nan,\n", r"line 2: column 'maker_fee_bps' = 'nan' must be a finite"),
        (HEADER + "X,0.1,1,perpetual\n", r"line 2: X: contract_type must be 'linear' or 'inv"),
        (HEADER + "X,0,1\n", r"f.csv: line 2: X: tick_size must be > 0, got 0.0; fix the row"),
        (HEADER + "X,0.1,1,linear,-1\n", r"line 2: X: contract_size must be > 0"),
        (HEADER + ",0.1,1\n", r"f.csv: line 2: column 'security' is empty"),
        (HEADER + "X,0.1,1\nX,0.2,1\n", r"f.csv: line 3: security 'X' appears twice"),
    ],
)
def test_csv_errors_name_file_line_and_column(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_instruments_csv(text, "f.csv")


def test_bad_file_in_a_root_is_named_by_path(tmp_path: Path) -> None:
    root = hand_root(tmp_path)
    (root / "instruments.csv").write_text(HEADER + "AAA,0.01,lots\n")
    with pytest.raises(DataError, match=rf"{root}/instruments.csv: line 2: column 'lot_size'"):
        load_events(root, "AAA", "2024-08-09")


@pytest.mark.parametrize(
    ("values", "step"),
    [
        ([100.05, 100.10, 99.95], 0.05),
        ([1.25, 1.5, 2.0], 0.25),
        ([61804.7, 61804.8, 61800.0], 0.1),
        ([3.0, 5.0, 7.0], 1.0),
        ([2000.0, 3000.0], 1000.0),
        ([0.00001, 0.00123], 0.00001),
        ([np.nan, 0.0, 10.5, 11.0], 0.5),  # NaN and zero are ignored
        ([], 1.0),
    ],
)
def test_infer_grid(values: list[float], step: float) -> None:
    assert infer_grid(np.array(values, dtype=np.float64)) == pytest.approx(step, rel=1e-12)


def test_missing_file_infers_and_warns_once_per_root(tmp_path: Path) -> None:
    root = hand_root(tmp_path, securities=("AAA", "BBB"), instruments=False)
    with pytest.warns(InferredInstrumentWarning) as record:
        shards = load_shards(open_catalog(root))
        load_shards(open_catalog(root))
    assert len(record) == 1
    msg = str(record[0].message)
    assert f"{root}/instruments.csv not found" in msg and "write that file" in msg
    assert [s.instrument for s in shards] == [
        Instrument(sec, tick_size=0.01, lot_size=0.25, inferred=True) for sec in ("AAA", "BBB")
    ]


def test_security_missing_from_the_file_warns_once_naming_it(tmp_path: Path) -> None:
    root = hand_root(tmp_path, securities=("AAA", "BBB"))
    text = (root / "instruments.csv").read_text()
    (root / "instruments.csv").write_text("\n".join(text.splitlines()[:2]) + "\n")  # AAA only
    with pytest.warns(InferredInstrumentWarning, match=r"has no row for 'BBB'.*add a row"):
        shards = load_shards(open_catalog(root))
    assert not shards[0].instrument.inferred and shards[1].instrument.inferred
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_shards(open_catalog(root))  # no second warning for the same root and security
