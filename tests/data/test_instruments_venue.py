"""instruments.csv fee and session columns, their errors, and the missing-row check."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmopt.data import Instrument, parse_instruments_csv
from mmopt.data.instruments import check_instrument_rows
from mmopt.data.writer import write_instruments_csv
from mmopt.errors import DataError

HEADER = (
    "security,tick_size,lot_size,maker_fee_per_unit,taker_fee_per_unit,fee_per_trade,"
    "sell_fee_bps,time_zone,session_open,session_close\n"
)


def test_fee_and_session_columns() -> None:
    got = parse_instruments_csv(
        HEADER + "AAPL,0.01,1,-0.002,0.003,0.01,0.278,America/New_York,09:30,16:00\n"
        "BTC,0.1,0.001,,,,,,,\n", "i.csv")
    assert got["AAPL"] == Instrument(
        "AAPL", 0.01, 1.0, maker_fee_per_unit=-0.002, taker_fee_per_unit=0.003,
        fee_per_trade=0.01, sell_fee_bps=0.278, time_zone="America/New_York",
        session_open="09:30", session_close="16:00")
    assert got["BTC"] == Instrument("BTC", 0.1, 0.001)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X,0.01,1,abc,,,,,,", r"i\.csv: line 2: column 'maker_fee_per_unit' = 'abc' is not a "
                               r"number \(security 'X'\)"),
        ("X,0.01,1,,,,,Mars/Base,,", r"i\.csv: line 2 \(X\): column 'time_zone' = 'Mars/Base' "
                                     r"is not a known time zone"),
        ("X,0.01,1,,,,,UTC,9h30,", r"i\.csv: line 2 \(X\): column 'session_open' = '9h30' is "
                                   r"not a time of day"),
    ],
)
def test_bad_columns_name_file_line_and_fix(row: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_instruments_csv(HEADER + row + "\n", "i.csv")


def test_a_security_without_a_row_is_an_error_unless_config_sets_fees(tmp_path: Path) -> None:
    write_instruments_csv(tmp_path, [Instrument("AAA", 0.01, 1.0, maker_fee_bps=10.0)])
    check_instrument_rows(str(tmp_path), ["AAA"], fees_in_config=False)
    with pytest.raises(DataError, match=r"instruments\.csv: no row for 'BBB'.*engine\.maker_fee"):
        check_instrument_rows(str(tmp_path), ["AAA", "BBB"], fees_in_config=False)
    check_instrument_rows(str(tmp_path), ["AAA", "BBB"], fees_in_config=True)
    check_instrument_rows(str(tmp_path / "none"), ["BBB"], fees_in_config=False)  # no file


def test_writer_keeps_the_new_columns(tmp_path: Path) -> None:
    ins = Instrument("AAPL", 0.01, 1.0, taker_fee_per_unit=0.003, time_zone="America/New_York",
                     session_open="09:30")
    path = write_instruments_csv(tmp_path, [ins])
    assert parse_instruments_csv(path.read_text(), str(path))["AAPL"] == ins
