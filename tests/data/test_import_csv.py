"""CSV / Parquet import through a column map: exact rows, shards, errors, atomic writes."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmopt.cli import main
from mmopt.data._schema import (
    KIND_ASK,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    NO_EXCH_TS,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
)
from mmopt.data.importers import (
    InstrumentOptions,
    convert_tabular,
    import_tabular,
    load_tabular_config,
)
from mmopt.errors import ConfigError, DataError

T0 = 1_723_161_600_000  # 2024-08-09T00:00:00Z in ms
QUOTES = """time,bid,ask,bid_size,ask_size
1723161600000,100.00,100.02,5,7
1723161600100,100.00,100.02,5,7
1723161600250,100.00,100.02,6,7
1723161600250,100.01,100.02,2,7
1723161601000,100.01,100.03,2,4
1723161602000,,100.03,,4
"""
TRADES = """time,price,size,side
1723161600250,100.02,1,buy
1723161601500,100.01,0.5,S
"""
NBBO_COLS = [
    "time=time",
    "bid=bid",
    "ask=ask",
    "bid_size=bid_size",
    "ask_size=ask_size",
    "price=price",
    "size=size",
    "side=side",
]
# (ms after T0, kind, price, qty, side), in the order they must come out
NBBO_EXPECTED = [
    (0, KIND_BID, 100.00, 5.0, SIDE_NONE),
    (0, KIND_ASK, 100.02, 7.0, SIDE_NONE),
    (250, KIND_BID, 100.00, 6.0, SIDE_NONE),
    (250, KIND_BID, 100.01, 2.0, SIDE_NONE),
    (250, KIND_TRADE, 100.02, 1.0, SIDE_BUY),
    (1000, KIND_ASK, 100.03, 4.0, SIDE_NONE),
    (1500, KIND_TRADE, 100.01, 0.5, SIDE_SELL),
    (2000, KIND_BID, math.nan, 0.0, SIDE_NONE),
]

EVENTS = """timestamp,sym,type,price,volume
2024-03-30 23:59:59.500,XYZ,B,10.5,100
2024-03-30 23:59:59.500,XYZ,A,10.6,80
2024-03-31 00:00:00.250,XYZ,t,10.6,20
2024-03-31 00:00:00.250,ABC,B,20.25,3
2024-03-31 09:00:00.000,XYZ,A,10.6,60
"""
EVENT_MAP = """columns:
  time: timestamp
  security: sym
  type: type
  price: price
  size: volume
time_format: "%Y-%m-%d %H:%M:%S.%f"
timezone: Europe/London
type_values:
  bid: [B]
  ask: [A]
  trade: [T]
"""


def _files(tmp_path: Path, **texts: str) -> list[Path]:
    paths = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        paths.append(path)
    return paths


def _rows(events: np.ndarray) -> list[tuple[int, int, float, float, int]]:
    return [
        (
            int(e["ts_ns"]) // 1_000_000 - T0,
            int(e["kind"]),
            float(e["price"]),
            float(e["qty"]),
            int(e["side"]),
        )
        for e in events
    ]


def _same(got: list[tuple], want: list[tuple]) -> bool:
    def norm(rows: list[tuple]) -> list[tuple]:
        return [
            tuple("nan" if isinstance(x, float) and math.isnan(x) else x for x in r) for r in rows
        ]

    return norm(got) == norm(want)


def test_nbbo_quotes_and_trades_files(tmp_path: Path) -> None:
    paths = _files(tmp_path, quotes=QUOTES, trades=TRADES)
    config = load_tabular_config(None, NBBO_COLS, time_format="ms", security="SYN.X")
    (shard,) = convert_tabular(paths, config)
    assert (shard.security, shard.date) == ("SYN.X", "2024-08-09")
    assert _same(_rows(shard.events), NBBO_EXPECTED)
    assert (shard.events["exch_ts_ns"] == NO_EXCH_TS).all()
    # auto-detected epoch unit gives the same rows
    auto = load_tabular_config(None, NBBO_COLS, security="SYN.X")
    assert convert_tabular(paths, auto)[0].events.tobytes() == shard.events.tobytes()


def test_event_rows_with_yaml_map_timezone_and_dst(tmp_path: Path) -> None:
    (path,) = _files(tmp_path, events=EVENTS)
    map_file = tmp_path / "map.yaml"
    map_file.write_text(EVENT_MAP)
    shards = convert_tabular([path], load_tabular_config(map_file))
    assert [(s.security, s.date, len(s.events)) for s in shards] == [
        ("ABC", "2024-03-31", 1),
        ("XYZ", "2024-03-30", 2),
        ("XYZ", "2024-03-31", 2),
    ]
    xyz = shards[2].events
    # 2024-03-31 00:00:00.25 London is still GMT; 09:00 is BST (UTC+1) -> 08:00 UTC
    assert xyz["ts_ns"].tolist() == [1_711_843_200_250_000_000, 1_711_872_000_000_000_000]
    assert xyz["kind"].tolist() == [KIND_TRADE, KIND_ASK]
    assert xyz["side"].tolist() == [SIDE_NONE, SIDE_NONE]
    assert shards[1].events["ts_ns"].tolist() == [1_711_843_199_500_000_000] * 2
    assert shards[1].events["kind"].tolist() == [KIND_BID, KIND_ASK]


def test_event_rows_with_levels_sides_and_time_of_day(tmp_path: Path) -> None:
    text = "t,kind,px,qty,lvl,aggr\n09:30:00.5,bid_level,9.99,10,1,\n09:30:01.0,trade,10.0,2,,B\n"
    (path,) = _files(tmp_path, ev=text)
    cols = ["time=t", "type=kind", "price=px", "size=qty", "level=lvl", "side=aggr"]
    config = load_tabular_config(
        None,
        cols,
        time_format="%H:%M:%S.%f",
        security="S",
        date="2024-07-01",
        timezone="America/New_York",
    )
    (shard,) = convert_tabular([path], config)
    ev = shard.events
    assert ev["kind"].tolist() == [KIND_BID_LEVEL, KIND_TRADE]
    assert ev["level"].tolist() == [1, 0]
    assert ev["side"].tolist() == [SIDE_NONE, SIDE_BUY]
    assert ev["ts_ns"].tolist() == [1_719_840_600_500_000_000, 1_719_840_601_000_000_000]


def test_parquet_trades_with_ns_epoch(tmp_path: Path) -> None:
    path = tmp_path / "trades.parquet"
    pq.write_table(
        pa.table(
            {
                "ts": [T0 * 10**6 + 7, T0 * 10**6 + 9],
                "px": [1.5, 1.25],
                "q": [3, 4],
                "sym": ["A", "A"],
            }
        ),
        path,
    )
    config = load_tabular_config(
        None, ["time=ts", "price=px", "size=q", "security=sym"], time_format="ns"
    )
    (shard,) = convert_tabular([path], config)
    assert shard.events["ts_ns"].tolist() == [T0 * 10**6 + 7, T0 * 10**6 + 9]
    assert shard.events["price"].tolist() == [1.5, 1.25]


def test_epoch_seconds_text_is_parsed_exactly(tmp_path: Path) -> None:
    (path,) = _files(tmp_path, t="time,price,size\n1723161600.123456789,1,1\n")
    config = load_tabular_config(
        None, ["time=time", "price=price", "size=size"], time_format="s", security="A"
    )
    (shard,) = convert_tabular([path], config)
    assert shard.events["ts_ns"].tolist() == [1_723_161_600_123_456_789]


def test_import_writes_instruments_and_reimport_is_byte_identical(tmp_path: Path) -> None:
    paths = _files(tmp_path, quotes=QUOTES, trades=TRADES)
    config = load_tabular_config(None, NBBO_COLS, security="SYN.X")
    report = import_tabular(
        paths, tmp_path / "a", config, InstrumentOptions(maker_fee_bps=-1.0, taker_fee_bps=3.0)
    )
    (shard,) = report.shards
    assert shard.n_events == 8 and not shard.unchanged
    lines = (tmp_path / "a" / "instruments.csv").read_text().splitlines()
    assert lines[1] == "SYN.X,0.01,0.5,linear,1.0,,-1.0,3.0"
    assert import_tabular(paths, tmp_path / "a", config).shards[0].unchanged
    # same files, listed in another order, into another root: the same bytes
    other = import_tabular(paths[::-1], tmp_path / "b", config).shards[0].path
    assert other.read_bytes() == shard.path.read_bytes()
    table = pq.read_table(shard.path)
    assert table.column("kind").to_pylist() == [
        "bid",
        "ask",
        "bid",
        "bid",
        "trade",
        "ask",
        "trade",
        "bid",
    ]
    assert table.column("side").to_pylist()[4] == "buy"


def _fail_midway(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Every Parquet write fails after its file was opened (a half-written shard file)."""

    def broken_write(self: pq.ParquetWriter, table: pa.Table, **_: object) -> None:
        raise exc

    def broken_write_table(table: pa.Table, where: str | os.PathLike[str], **_: object) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise exc

    monkeypatch.setattr(pq.ParquetWriter, "write_table", broken_write)
    monkeypatch.setattr(pq, "write_table", broken_write_table)


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    paths = _files(tmp_path, quotes=QUOTES, trades=TRADES)
    config = load_tabular_config(None, NBBO_COLS, security="SYN.X")
    root = tmp_path / "root"
    _fail_midway(monkeypatch, exc)
    with pytest.raises(type(exc)):
        import_tabular(paths, root, config)
    assert sorted(p.name for p in root.iterdir()) == []
    monkeypatch.undo()
    import_tabular(paths, root, config)
    assert sorted(p.name for p in root.iterdir()) == ["instruments.csv", "security=SYN.X"]


def _error(tmp_path: Path, cols: list[str], text: str = QUOTES, **opts: object) -> str:
    (path,) = _files(tmp_path, data=text)
    with pytest.raises((DataError, ConfigError)) as info:
        convert_tabular([path], load_tabular_config(None, cols, **opts))
    return str(info.value)


QUOTE_COLS = NBBO_COLS[:5]


def test_error_mapped_column_not_in_file(tmp_path: Path) -> None:
    msg = _error(
        tmp_path,
        ["time=time", "bid=bidpx", "ask=ask", "bid_size=bid_size", "ask_size=ask_size"],
        security="A",
    )
    assert "bid='bidpx': no input file has a column 'bidpx'" in msg
    assert "columns: ask, ask_size, bid, bid_size, time" in msg


def test_error_missing_required_mappings(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"quotes need .* no 'ask' column is mapped; add "
        r"`ask: <column>` .* or --col ask=<column>",
    ):
        load_tabular_config(None, ["time=time", "bid=bid"], security="A")
    with pytest.raises(ConfigError, match=r"every row needs a time but no 'time' column"):
        load_tabular_config(None, ["price=p", "size=s"], security="A")
    with pytest.raises(ConfigError, match=r"no security; pass --security NAME"):
        load_tabular_config(None, ["time=t", "price=p", "size=s"])
    with pytest.raises(ConfigError, match=r"--col 'time': write KEY=COLUMN"):
        load_tabular_config(None, ["time"], security="A")
    with pytest.raises(ConfigError, match=r"--col: unknown column key 'volume'; the keys are"):
        load_tabular_config(None, ["time=t", "volume=v"], security="A")


def test_error_bad_options(tmp_path: Path) -> None:
    cols = ["time=t", "price=p", "size=s"]
    with pytest.raises(ConfigError, match=r"timezone 'Moon/Base': unknown time zone"):
        load_tabular_config(None, cols, security="A", timezone="Moon/Base")
    with pytest.raises(ConfigError, match=r"time_format 'minutes' is not one of"):
        load_tabular_config(None, cols, security="A", time_format="minutes")
    with pytest.raises(ConfigError, match=r"date '2024-13-01' is not a date; use YYYY-MM-DD"):
        load_tabular_config(None, cols, security="A", date="2024-13-01")
    bad_map = tmp_path / "m.yaml"
    bad_map.write_text("columns: {time: t, price: p, size: s}\ntimezome: UTC\n")
    with pytest.raises(ConfigError, match=r"m\.yaml: unknown key 'timezome'; the keys are"):
        load_tabular_config(bad_map, security="A")
    bad_map.write_text("columns: {time: t, price: p, size: s}\ntype_values: {quote: [Q]}\n")
    with pytest.raises(ConfigError, match=r"type_values key 'quote' is not a kind"):
        load_tabular_config(bad_map, security="A")


def test_error_bad_values_name_line_and_column(tmp_path: Path) -> None:
    bad_time = QUOTES.replace("1723161601000", "17231616O1000")
    assert (
        "data.csv: line 6, column time: '17231616O1000' is not a non-negative epoch time "
        "in ms; pass the right --time-format"
        in _error(tmp_path, QUOTE_COLS, bad_time, security="A", time_format="ms")
    )
    bad_size = QUOTES.replace("100.01,100.03,2,4", "100.01,100.03,2,-4")
    assert "line 6, column ask_size: -4.0 is not a size >= 0" in _error(
        tmp_path, QUOTE_COLS, bad_size, security="A"
    )
    bad_num = QUOTES.replace("100.01,100.03,2,4", "100.01,x,2,4")
    assert "line 6, column ask: 'x' is not a number" in _error(
        tmp_path, QUOTE_COLS, bad_num, security="A"
    )


def test_error_unknown_type_and_side(tmp_path: Path) -> None:
    cols = ["time=t", "type=k", "price=p", "size=s", "side=a"]
    msg = _error(tmp_path, cols, "t,k,p,s,a\n1,bid,1,1,\n2,quote,1,1,\n", security="A")
    assert "line 3, column k: 'quote' is not a known type" in msg
    assert "add it under type_values: in the map file" in msg
    msg = _error(tmp_path, cols, "t,k,p,s,a\n1,trade,1,1,up\n", security="A")
    assert "line 2, column a: 'up' is not a known side" in msg


def test_error_time_of_day_without_date_and_dst_gap(tmp_path: Path) -> None:
    cols = ["time=t", "price=p", "size=s"]
    msg = _error(tmp_path, cols, "t,p,s\n09:30:00,1,1\n", security="A", time_format="%H:%M:%S")
    assert "has no date; pass --date YYYY-MM-DD or map a date column" in msg
    msg = _error(
        tmp_path,
        cols,
        "t,p,s\n2024-03-31 00:30:00,1,1\n2024-03-31 01:30:00,1,1\n",
        security="A",
        time_format="%Y-%m-%d %H:%M:%S",
        timezone="Europe/London",
    )
    assert "line 3: local time 2024-03-31 01:30:00 does not exist or is ambiguous" in msg


def test_error_file_without_any_mapped_layout(tmp_path: Path) -> None:
    paths = _files(tmp_path, quotes=QUOTES, other="time,foo\n1,2\n")
    config = load_tabular_config(None, QUOTE_COLS, security="A")
    with pytest.raises(DataError, match=r"other\.csv: none of the mapped columns"):
        convert_tabular(paths, config)


def test_cli_csv_import_and_help(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _files(tmp_path, quotes=QUOTES, trades=TRADES)
    out = tmp_path / "root"
    args = [
        "data",
        "import",
        "--format",
        "csv",
        *map(str, paths),
        "--out",
        str(out),
        "--security",
        "SYN.X",
        "--time-format",
        "ms",
    ]
    for item in NBBO_COLS:
        args += ["--col", item]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "SYN.X 2024-08-09: 8 events, written ->" in captured.out
    assert "inferred tick size 0.01 (--tick-size) and lot size 0.5" in captured.err
    assert main(args) == 0
    assert "8 events, unchanged" in capsys.readouterr().out
    assert main([*args, "--top-of-book"]) == 2
    assert "--top-of-book applies to --format lobster only" in capsys.readouterr().err
    assert main(["data", "import", "--help"]) == 0
    text = capsys.readouterr().out
    for option in (
        "--format",
        "--out",
        "--overwrite",
        "--timezone",
        "--security-prefix",
        "--cross-trades",
        "--top-of-book",
        "--map",
        "--col",
        "--time-format",
        "--security",
        "--date",
        "--delimiter",
        "--tick-size",
        "--lot-size",
        "--contract-type",
        "--contract-size",
        "--quote-currency",
        "--maker-fee-bps",
        "--taker-fee-bps",
    ):
        assert option in text, option


def test_imported_shard_loads_through_the_loader(tmp_path: Path) -> None:
    from mmopt.data.loader import load_events

    paths = _files(tmp_path, quotes=QUOTES, trades=TRADES)
    config = load_tabular_config(None, NBBO_COLS, security="SYN.X")
    import_tabular(paths, tmp_path / "root", config)
    shard = load_events(tmp_path / "root", "SYN.X", "2024-08-09")
    assert _same(_rows(shard.events), NBBO_EXPECTED)
    assert shard.instrument.tick_size == 0.01


def test_small_chunks_and_spilled_runs_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streaming in tiny chunks with spills and a many-run merge writes the same shards."""
    from mmopt.data.importers import _runs, _tabular_read

    rng = np.random.default_rng(3)
    n = 3000
    ts = T0 + np.sort(rng.integers(0, 5000, n))  # ms, many equal times
    order = rng.permutation(n)  # rows out of time order: runs must be merged stably
    kinds = np.array(["bid", "ask", "trade", "bid_level", "ask_level"])[rng.integers(0, 5, n)]
    lines = ["t,sym,k,p,q"] + [
        f"{ts[i]},{'AB'[i % 2]},{kinds[i]},{100 + (i % 7) * 0.01:.2f},{1 + i % 5}" for i in order
    ]
    path = tmp_path / "ev.csv"
    path.write_text("\n".join(lines) + "\n")
    cols = ["time=t", "security=sym", "type=k", "price=p", "size=q"]
    config = load_tabular_config(None, cols, time_format="ms")
    whole = import_tabular([path], tmp_path / "whole", config)
    monkeypatch.setattr(_tabular_read, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(_runs, "BUDGET_ROWS", 97)
    monkeypatch.setattr(_runs, "MERGE_ROWS", 13)
    monkeypatch.setattr(_runs, "BLOCK_ROWS", 29)
    small = import_tabular([path], tmp_path / "small", config)
    assert [s.n_events for s in small.shards] == [s.n_events for s in whole.shards]
    for a, b in zip(whole.shards, small.shards, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()
    (shard,) = [s for s in convert_tabular([path], config) if s.security == "A"]
    ev = shard.events
    assert (np.diff(ev["ts_ns"]) >= 0).all()
    # ties keep the input (file line) order: rebuild it from the file
    want = [i for _, _, i in sorted((int(ts[i]), p, i) for p, i in enumerate(order) if i % 2 == 0)]
    assert ev["ts_ns"].tolist() == [int(ts[i]) * 1_000_000 for i in want]
    assert ev["qty"].tolist() == [float(1 + i % 5) for i in want]
    assert ev["price"].tolist() == [round(100 + (i % 7) * 0.01, 2) for i in want]
    assert [s.name for s in (tmp_path / "small").iterdir()] != []
    assert not list((tmp_path / "small").glob(".mmopt-*"))


def test_null_exchange_times_are_written_as_missing(tmp_path: Path) -> None:
    some = "t,et,p,s\n1723161600000,1723161599990,1,1\n1723161600001,,1,2\n"
    none = "t,et,p,s\n1723161600002,,1,1\n1723161600003,,1,2\n"
    paths = _files(tmp_path, some=some, none=none)
    config = load_tabular_config(
        None, ["time=t", "exch_time=et", "price=p", "size=s"], security="A", time_format="ms"
    )
    report = import_tabular(paths, tmp_path / "root", config)
    table = pq.read_table(report.shards[0].path)
    assert table.column("exch_ts_ns").to_pylist() == [
        1_723_161_599_990_000_000,
        None,
        None,
        None,
    ]
    pq_path = tmp_path / "all_null.parquet"
    pq.write_table(
        pa.table(
            {
                "t": [T0, T0 + 1],
                "et": pa.array([None, None], pa.int64()),
                "p": [1.0, 1.0],
                "s": [1.0, 2.0],
            }
        ),
        pq_path,
    )
    (shard,) = convert_tabular([pq_path], config)
    assert (shard.events["exch_ts_ns"] == NO_EXCH_TS).all()


def test_cli_out_must_be_a_writable_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = _files(tmp_path, trades=TRADES)
    base = ["data", "import", "--format", "csv", str(path), "--security", "A"]
    base += ["--col", "time=time", "--col", "price=price", "--col", "size=size"]
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main([*base, "--out", str(a_file)]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert main([*base, "--out", str(a_file / "sub" / "root")]) == 2
    err = capsys.readouterr().err
    assert f"{a_file} is a file, not a directory" in err and "Traceback" not in err
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main([*base, "--out", str(locked / "root")]) == 2
        assert "cannot write into" in capsys.readouterr().err


def test_progress_lines_on_a_non_terminal(tmp_path: Path) -> None:
    import io

    from mmopt.cli._import_progress import LineProgress

    paths = _files(tmp_path, quotes=QUOTES, trades=TRADES)
    config = load_tabular_config(None, NBBO_COLS, security="SYN.X")
    stream = io.StringIO()
    progress = LineProgress(stream, every_s=0.0)
    import_tabular(paths, tmp_path / "root", config, progress=progress)
    progress.finish()
    text = stream.getvalue()
    assert "import: reading and checking rows: 8 rows (" in text
    assert "import: sorting and writing shards: 8 of 8 rows (" in text and "rows/s" in text
