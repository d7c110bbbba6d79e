"""LOBSTER import: hand-written message/orderbook files -> exact mmopt rows and shards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from mmopt.cli import main
from mmopt.data._schema import (
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
)
from mmopt.data.importers import (
    InstrumentOptions,
    LobsterOptions,
    convert_lobster,
    find_lobster_pairs,
    import_lobster,
)
from mmopt.errors import ConfigError, DataError

TICKER = "TEST"
LEVELS = 3
DUMMY = 9_999_999_999

# (time, type, order id, size, price x 10^4, direction) and the book after it, written by hand:
# asks / bids as (price x 10^4, size), best first; missing levels get LOBSTER's dummy values.
MESSAGES: list[tuple[str, int, int, int, int, int]] = [
    ("34200.000000001", 1, 11, 100, 1000500, -1),  # 0 new ask 100.05
    ("34200.5", 1, 12, 50, 1000200, -1),  # 1 ask 100.02 300 -> 350
    ("34201.25", 4, 1, 100, 1000200, -1),  # 2 visible execution of a sell: buy trade
    ("34201.25", 4, 2, 250, 1000200, -1),  # 3 100.02 is gone: third ask level empty
    ("34202.123456789", 5, 0, 75, 1000100, 1),  # 4 hidden execution of a buy: sell trade
    ("34203", 1, 13, 200, 1000100, 1),  # 5 new bid 100.01 pushes 99.97 out of view
    ("34203.5", 2, 10, 150, 1000000, 1),  # 6 partial cancel 100.00: 400 -> 250
    ("34204", 3, 13, 200, 1000100, 1),  # 7 delete 100.01: 99.97 is back in view
    ("34205", 7, 0, 0, -1, -1),  # 8 trading halt
    ("34206", 7, 0, 0, 1, -1),  # 9 trading resumes
    ("34207", 1, 14, 100, 1000400, -1),  # 10 new ask 100.04 at rank 2
    ("34208", 6, 0, 500, 1000300, -1),  # 11 cross trade (auction)
    ("34209", 4, 9, 100, 1000000, 1),  # 12 execution of a buy: sell trade
    ("34210.75", 3, 14, 100, 1000400, -1),  # 13 delete 100.04
    ("34211", 3, 11, 100, 1000500, -1),  # 14 delete 100.05: two ask levels empty
]
A0 = [(1000200, 300), (1000300, 200), (1000500, 100)]
B0 = [(1000000, 400), (999900, 100), (999700, 250)]
A1 = [(1000200, 350), (1000300, 200), (1000500, 100)]
A2 = [(1000200, 250), (1000300, 200), (1000500, 100)]
A3 = [(1000300, 200), (1000500, 100)]
B5 = [(1000100, 200), (1000000, 400), (999900, 100)]
B6 = [(1000100, 200), (1000000, 250), (999900, 100)]
B7 = [(1000000, 250), (999900, 100), (999700, 250)]
A10 = [(1000300, 200), (1000400, 100), (1000500, 100)]
B12 = [(1000000, 150), (999900, 100), (999700, 250)]
A13 = [(1000300, 200), (1000500, 100)]
A14 = [(1000300, 200)]
BOOKS = [
    (A0, B0),
    (A1, B0),
    (A2, B0),
    (A3, B0),
    (A3, B0),
    (A3, B5),
    (A3, B6),
    (A3, B7),
    (A3, B7),
    (A3, B7),
    (A10, B7),
    (A10, B7),
    (A10, B12),
    (A13, B12),
    (A14, B12),
]

# The expected rows: (message index, kind, price, qty, level, side, is_snapshot)
BL, AL, T = KIND_BID_LEVEL, KIND_ASK_LEVEL, KIND_TRADE
EXPECTED = [
    (0, BL, 100.00, 400, 1, SIDE_NONE, True),
    (0, BL, 99.99, 100, 2, SIDE_NONE, True),
    (0, BL, 99.97, 250, 3, SIDE_NONE, True),
    (0, AL, 100.02, 300, 1, SIDE_NONE, True),
    (0, AL, 100.03, 200, 2, SIDE_NONE, True),
    (0, AL, 100.05, 100, 3, SIDE_NONE, True),
    (1, AL, 100.02, 350, 1, SIDE_NONE, False),
    (2, T, 100.02, 100, 0, SIDE_BUY, False),
    (2, AL, 100.02, 250, 1, SIDE_NONE, False),
    (3, T, 100.02, 250, 0, SIDE_BUY, False),
    (3, AL, 100.02, 0, 0, SIDE_NONE, False),
    (4, T, 100.01, 75, 0, SIDE_SELL, False),
    (5, BL, 99.97, 0, 0, SIDE_NONE, False),
    (5, BL, 100.01, 200, 1, SIDE_NONE, False),
    (6, BL, 100.00, 250, 2, SIDE_NONE, False),
    (7, BL, 100.01, 0, 0, SIDE_NONE, False),
    (7, BL, 99.97, 250, 3, SIDE_NONE, False),
    (10, AL, 100.04, 100, 2, SIDE_NONE, False),
    (12, T, 100.00, 100, 0, SIDE_SELL, False),
    (12, BL, 100.00, 150, 1, SIDE_NONE, False),
    (13, AL, 100.04, 0, 0, SIDE_NONE, False),
    (14, AL, 100.05, 0, 0, SIDE_NONE, False),
]


def _book_line(asks: list[tuple[int, int]], bids: list[tuple[int, int]]) -> str:
    cells: list[int] = []
    for k in range(LEVELS):
        ask = asks[k] if k < len(asks) else (DUMMY, 0)
        bid = bids[k] if k < len(bids) else (-DUMMY, 0)
        cells += [ask[0], ask[1], bid[0], bid[1]]
    return ",".join(str(c) for c in cells)


def write_lobster(
    folder: Path,
    date: str,
    ticker: str = TICKER,
    messages: list[tuple[str, int, int, int, int, int]] | None = None,
    books: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] | None = None,
) -> tuple[Path, Path]:
    """Write one message/orderbook pair named the LOBSTER way; return their paths."""
    messages = MESSAGES if messages is None else messages
    books = BOOKS if books is None else books
    stem = f"{ticker}_{date}_34200000_57600000"
    msg = folder / f"{stem}_message_{LEVELS}.csv"
    book = folder / f"{stem}_orderbook_{LEVELS}.csv"
    msg.write_text("".join(",".join(str(x) for x in m) + "\n" for m in messages))
    book.write_text("".join(_book_line(a, b) + "\n" for a, b in books))
    return msg, book


def _utc_ns(date: str, utc_offset_hours: int, seconds_after_midnight: str) -> int:
    """Exact UTC ns of a LOBSTER time on ``date`` in a zone ``utc_offset_hours`` from UTC."""
    midnight = int(dt.datetime.fromisoformat(f"{date}T00:00:00+00:00").timestamp())
    local_ns = int(Decimal(seconds_after_midnight) * 10**9)
    return (midnight - utc_offset_hours * 3600) * 10**9 + local_ns


def _convert(folder: Path, **options: object) -> np.ndarray:
    pairs = find_lobster_pairs([folder])
    return convert_lobster(pairs, LobsterOptions(**options)).events  # type: ignore[arg-type]


def test_rows_match_the_hand_computed_book_changes(tmp_path: Path) -> None:
    write_lobster(tmp_path, "2024-03-08")
    ev = _convert(tmp_path)
    assert len(ev) == len(EXPECTED)
    got = [
        (
            int(e["kind"]),
            round(float(e["price"]), 6),
            float(e["qty"]),
            int(e["level"]),
            int(e["side"]),
            bool(e["is_snapshot"]),
        )
        for e in ev
    ]
    want = [(k, p, float(q), lvl, s, snap) for _, k, p, q, lvl, s, snap in EXPECTED]
    assert got == want
    # timestamps: the message's time; EST (UTC-5) on 2024-03-08, 09:30 local = 14:30 UTC
    assert ev["ts_ns"][0] == 1_709_908_200_000_000_001  # 2024-03-08T14:30:00.000000001Z
    assert ev["ts_ns"][11] == 1_709_908_202_123_456_789
    want_ts = [_utc_ns("2024-03-08", -5, MESSAGES[i][0]) for i, *_ in EXPECTED]
    assert ev["ts_ns"].tolist() == want_ts
    assert (ev["exch_ts_ns"] == ev["ts_ns"]).all()
    assert (np.diff(ev["ts_ns"]) >= 0).all()


def test_daylight_saving_time_shifts_the_utc_offset(tmp_path: Path) -> None:
    winter, summer = tmp_path / "winter", tmp_path / "summer"
    winter.mkdir()
    summer.mkdir()
    write_lobster(winter, "2024-03-08")  # Friday before the US switch: UTC-5
    write_lobster(summer, "2024-03-11")  # Monday after: UTC-4
    ev_w, ev_s = _convert(winter), _convert(summer)
    assert ev_w["ts_ns"][0] == _utc_ns("2024-03-08", -5, "34200.000000001")  # 14:30 UTC
    assert ev_s["ts_ns"][0] == _utc_ns("2024-03-11", -4, "34200.000000001")  # 13:30 UTC
    day = 3 * 86_400 * 10**9
    hour = 3_600 * 10**9
    assert (ev_s["ts_ns"] - ev_w["ts_ns"] == day - hour).all()
    ev_utc = _convert(summer, timezone="UTC")
    assert ev_utc["ts_ns"][0] == _utc_ns("2024-03-11", 0, "34200.000000001")


def test_cross_trades_kept_on_request_and_top_of_book_rows(tmp_path: Path) -> None:
    write_lobster(tmp_path, "2024-03-08")
    ev = _convert(tmp_path, cross_trades="keep")
    cross = ev[(ev["kind"] == KIND_TRADE) & (ev["side"] == SIDE_NONE)]
    assert cross["price"].tolist() == [100.03]
    assert cross["qty"].tolist() == [500.0]
    ev = _convert(tmp_path, top_of_book=True)
    bid = ev[ev["kind"] == KIND_BID]
    ask = ev[ev["kind"] == KIND_ASK]
    assert list(zip(bid["price"].round(6).tolist(), bid["qty"].tolist(), strict=True)) == [
        (100.0, 400.0),
        (100.01, 200.0),
        (100.0, 250.0),
        (100.0, 150.0),
    ]
    assert list(zip(ask["price"].round(6).tolist(), ask["qty"].tolist(), strict=True)) == [
        (100.02, 300.0),
        (100.02, 350.0),
        (100.02, 250.0),
        (100.03, 200.0),
    ]
    # the level rows are the same as without top-of-book rows
    levels = ev[np.isin(ev["kind"], (KIND_BID_LEVEL, KIND_ASK_LEVEL, KIND_TRADE))]
    assert len(levels) == len(EXPECTED)


def test_empty_side_in_top_of_book_is_nan(tmp_path: Path) -> None:
    msgs = [("34200", 1, 1, 10, 1000000, 1), ("34201", 3, 1, 10, 1000000, 1)]
    books = [([(1000100, 5)], [(1000000, 10)]), ([(1000100, 5)], [])]
    write_lobster(tmp_path, "2024-03-08", messages=msgs, books=books)
    ev = _convert(tmp_path, top_of_book=True)
    bid = ev[ev["kind"] == KIND_BID]
    assert bid["price"][0] == 100.0
    assert np.isnan(bid["price"][1]) and bid["qty"][1] == 0


def test_import_writes_shard_and_instruments_and_is_idempotent(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_lobster(src, "2024-03-08")
    root_a, root_b = tmp_path / "a", tmp_path / "b"
    report = import_lobster([src], root_a, LobsterOptions(security_prefix="nasdaq."))
    (shard,) = report.shards
    assert shard.security == "nasdaq.TEST" and shard.date == "2024-03-08"
    assert shard.path == root_a / "security=nasdaq.TEST" / "date=2024-03-08" / "part-0.parquet"
    table = pq.read_table(shard.path)
    assert table.num_rows == len(EXPECTED)
    assert table.column("kind").to_pylist()[:7] == ["bid_level"] * 3 + ["ask_level"] * 4
    assert table.column("side").to_pylist()[7] == "buy"
    text = (root_a / "instruments.csv").read_text().splitlines()
    # tick inferred from these few prices; lot size 1 share by default for LOBSTER
    assert text[1] == "nasdaq.TEST,0.01,1.0,linear,1.0,USD,0.0,0.0"
    assert any("inferred tick size 0.01" in n for n in report.notes)
    again = import_lobster([src], root_a, LobsterOptions(security_prefix="nasdaq."))
    assert again.shards[0].unchanged
    import_lobster([src], root_b, LobsterOptions(security_prefix="nasdaq."))
    other = root_b / "security=nasdaq.TEST" / "date=2024-03-08" / "part-0.parquet"
    assert other.read_bytes() == shard.path.read_bytes()


def test_two_files_of_one_day_join_into_one_shard(tmp_path: Path) -> None:
    first, second = MESSAGES[:7], MESSAGES[7:]
    stem = f"{TICKER}_2024-03-08"
    whole = tmp_path / "whole"
    whole.mkdir()
    write_lobster(whole, "2024-03-08")
    split = tmp_path / "split"
    split.mkdir()
    for start, msgs, books in ((34200000, first, BOOKS[:7]), (34203600, second, BOOKS[7:])):
        scratch = tmp_path / str(start)
        scratch.mkdir()
        m, b = write_lobster(scratch, "2024-03-08", messages=msgs, books=books)
        m.rename(split / f"{stem}_{start}_57600000_message_3.csv")
        b.rename(split / f"{stem}_{start}_57600000_orderbook_3.csv")
    assert len(find_lobster_pairs([split])) == 2
    assert np.array_equal(_convert(split), _convert(whole))


def test_tick_size_option_is_checked_against_the_book(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    write_lobster(tmp_path / "in", "2024-03-08")
    with pytest.raises(
        DataError, match=r"quoted price 99\.99 is not a multiple of --tick-size 0\.02"
    ):
        import_lobster(
            [tmp_path / "in"],
            tmp_path / "out",
            instrument=InstrumentOptions(tick_size=0.02, lot_size=1.0),
        )
    assert not (tmp_path / "out" / "security=TEST").exists()


def _bad(tmp_path: Path, messages: list | None = None, books: list | None = None) -> str:
    write_lobster(tmp_path, "2024-03-08", messages=messages, books=books)
    with pytest.raises(DataError) as info:
        _convert(tmp_path)
    return str(info.value)


def test_error_not_a_number(tmp_path: Path) -> None:
    msgs = [("Time", 1, 1, 1, 1, 1), *MESSAGES[1:]]
    msg = _bad(tmp_path, messages=msgs)
    assert "message_3.csv: line 1, column Time: 'Time' is not a number" in msg
    assert "no header line" in msg


def test_error_unknown_type_and_direction(tmp_path: Path) -> None:
    msgs = list(MESSAGES)
    msgs[3] = ("34201.25", 9, 2, 250, 1000200, -1)
    assert "line 4, column Type: 9 is not an event type" in _bad(tmp_path, messages=msgs)
    msgs[3] = ("34201.25", 4, 2, 250, 1000200, 0)
    assert "line 4, column Direction: 0 is not -1 or 1" in _bad(tmp_path, messages=msgs)


def test_error_time_goes_backwards(tmp_path: Path) -> None:
    msgs = list(MESSAGES)
    msgs[5] = ("34100", *MESSAGES[5][1:])
    msg = _bad(tmp_path, messages=msgs)
    assert "line 6, column Time: 34100 is earlier than the line before" in msg


def test_error_line_counts_differ(tmp_path: Path) -> None:
    msg = _bad(tmp_path, books=BOOKS[:-1])
    assert "has 15 lines but" in msg and "has 14" in msg and "re-export the pair" in msg


def test_error_wrong_levels_in_name(tmp_path: Path) -> None:
    m, b = write_lobster(tmp_path, "2024-03-08")
    m.rename(tmp_path / m.name.replace("_3.csv", "_2.csv"))
    b.rename(tmp_path / b.name.replace("_3.csv", "_2.csv"))
    with pytest.raises(DataError, match=r"12 columns, expected 8 .*check the LEVELS number"):
        _convert(tmp_path)


def test_error_negative_size_and_unsorted_levels(tmp_path: Path) -> None:
    books = list(BOOKS)
    books[2] = (A2, [(1000000, -5), *B0[1:]])
    assert "line 3, column Bid Size 1: -5 is a negative size" in _bad(tmp_path, books=books)
    books[2] = ([(1000300, 200), (1000200, 250)], B0)
    msg = _bad(tmp_path, books=books)
    assert "line 3, column Ask Price 2: 1.0002e+06 is not strictly above the level before" in msg


def test_error_missing_partner_and_bad_name(tmp_path: Path) -> None:
    m, b = write_lobster(tmp_path, "2024-03-08")
    b.unlink()
    with pytest.raises(DataError, match=r"its orderbook file .*orderbook_3\.csv is missing"):
        find_lobster_pairs([m])
    odd = tmp_path / "quotes.csv"
    odd.write_text("1,2\n")
    with pytest.raises(DataError, match=r"quotes\.csv: not a LOBSTER file name; rename it"):
        find_lobster_pairs([odd])
    with pytest.raises(DataError, match=r"no such file or directory"):
        find_lobster_pairs([tmp_path / "nope.csv"])


def test_error_empty_file(tmp_path: Path) -> None:
    m, _b = write_lobster(tmp_path, "2024-03-08")
    m.write_text("")
    with pytest.raises(DataError, match=r"message_3\.csv: the message file is empty"):
        _convert(tmp_path)


def test_error_bad_timezone() -> None:
    with pytest.raises(ConfigError, match=r"--timezone 'Mars/Olympus': unknown time zone"):
        LobsterOptions(timezone="Mars/Olympus")


def test_cli_imports_and_refuses_a_different_existing_shard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_lobster(src, "2024-03-08")
    out = tmp_path / "root"
    args = ["data", "import", "--format", "lobster", str(src), "--out", str(out)]
    assert main([*args, "--tick-size", "0.01"]) == 0
    assert "TEST 2024-03-08: 22 events" in capsys.readouterr().out
    assert main([*args, "--cross-trades", "keep"]) == 2
    err = capsys.readouterr().err
    assert "a different shard for security=TEST date=2024-03-08 already exists" in err
    assert main([*args, "--cross-trades", "keep", "--overwrite"]) == 0
    assert pq.read_table(out / "security=TEST" / "date=2024-03-08").num_rows == 23
    assert main([*args, "--timezone", "Nowhere/City"]) == 2
    assert "unknown time zone" in capsys.readouterr().err


def test_imported_shard_loads_through_the_loader(tmp_path: Path) -> None:
    from mmopt.data.loader import load_events

    src = tmp_path / "src"
    src.mkdir()
    write_lobster(src, "2024-03-08")
    options = LobsterOptions(cross_trades="keep", top_of_book=True)
    import_lobster([src], tmp_path / "root", options)
    shard = load_events(tmp_path / "root", "TEST", "2024-03-08")
    assert shard.instrument.tick_size == 0.01 and shard.instrument.lot_size == 1.0
    want = convert_lobster(find_lobster_pairs([src]), options).events
    assert shard.events.tobytes() == want.tobytes()


def test_interrupted_lobster_import_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_lobster(src, "2024-03-08")

    def broken_write(table: object, where: str, **_: object) -> None:
        Path(where).write_bytes(b"PAR1 half")
        raise OSError("no space left on device")

    def broken_stream_write(self: pq.ParquetWriter, table: object, **_: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(pq, "write_table", broken_write)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", broken_stream_write)
    with pytest.raises(OSError, match="no space left"):
        import_lobster([src], tmp_path / "root")
    assert list((tmp_path / "root").iterdir()) == []


@pytest.mark.parametrize("chunk_lines", [1, 2, 4])
def test_chunked_reading_gives_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_lines: int
) -> None:
    from mmopt.data.importers import _lobster_read

    src = tmp_path / "src"
    src.mkdir()
    write_lobster(src, "2024-03-08")
    options = {"cross_trades": "keep", "top_of_book": True}
    whole = _convert(src, **options)
    monkeypatch.setattr(_lobster_read, "CHUNK_LINES", chunk_lines)
    assert _convert(src, **options).tobytes() == whole.tobytes()
    msgs = [*MESSAGES[:5], ("34100", *MESSAGES[5][1:]), *MESSAGES[6:]]
    with pytest.raises(DataError, match=r"line 6, column Time: 34100 is earlier than the line"):
        _convert_files(tmp_path / "bad", msgs)


def _convert_files(folder: Path, messages: list) -> np.ndarray:
    folder.mkdir()
    write_lobster(folder, "2024-03-08", messages=messages)
    return _convert(folder)
