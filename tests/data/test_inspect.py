"""Inspection: exact counts on hand-made data, the real shards, and `mmopt data inspect`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from datalayer_helpers import T0, hand_events, hand_root

from mmopt.cli import main
from mmopt.data import (
    EVENT_DTYPE,
    KIND_ASK_LEVEL,
    KIND_BID_LEVEL,
    KIND_TRADE,
    inspect_root,
    quote_stats,
)

REAL_SHARDS = [
    ("binance-coinm.BTCUSD_PERP", "2024-08-08"),
    ("binance-coinm.BTCUSD_PERP", "2024-08-09"),
    ("binance-coinm.ETHUSD_PERP", "2024-08-08"),
    ("binance-coinm.ETHUSD_PERP", "2024-08-09"),
    ("binance-spot.BTCUSDT", "2024-08-08"),
    ("binance-spot.BTCUSDT", "2024-08-09"),
    ("binance-spot.ETHUSDT", "2024-08-08"),
    ("binance-spot.ETHUSDT", "2024-08-09"),
    ("binance-usdm.BTCUSDT", "2024-08-08"),
    ("binance-usdm.ETHUSDT", "2024-08-08"),
]


def test_quote_stats_on_hand_made_events() -> None:
    q = quote_stats(hand_events())
    # 6 top updates: 2 bid, 3 ask rows and the rank-1 depth row 3
    assert (q.top_updates, q.crossed, q.trades_with_quote, q.trades_inside) == (6, 1, 3, 2)
    assert q.inside_share == pytest.approx(2 / 3)


def test_depth_rows_of_rank_one_set_the_quote() -> None:
    ev = np.zeros(4, dtype=EVENT_DTYPE)
    ev["ts_ns"] = T0 + np.arange(4)
    ev["kind"] = [KIND_BID_LEVEL, KIND_ASK_LEVEL, KIND_BID_LEVEL, KIND_TRADE]
    ev["level"] = [1, 1, 2, 0]
    ev["price"] = [10.0, 10.5, 10.6, 10.5]  # the rank-2 row at 10.6 is not the best bid
    q = quote_stats(ev)
    assert (q.top_updates, q.crossed, q.trades_with_quote, q.trades_inside) == (2, 0, 1, 1)


def test_trades_before_any_quote_and_empty_sides_do_not_count() -> None:
    ev = hand_events()[[2, 0, 1, 5]]  # trade first, then bid, ask, trade
    ev["price"][2] = np.nan  # the ask side is empty
    q = quote_stats(ev)
    assert (q.trades_with_quote, q.trades_inside, q.crossed) == (0, 0, 0)
    assert math.isnan(q.inside_share)


def test_inspect_root_summarises_each_shard(tmp_path: Path) -> None:
    root = hand_root(tmp_path, securities=("AAA", "BBB"), dates=("2024-08-08", "2024-08-09"))
    report = inspect_root(root, securities=["BBB"], start="2024-08-09")
    (s,) = report.shards
    assert (s.security, s.date, s.events) == ("BBB", "2024-08-09", 9)
    assert (s.bid, s.ask, s.trade, s.bid_level, s.ask_level, s.snapshot_rows) == (2, 3, 3, 1, 0, 1)
    assert (s.start_ns, s.end_ns, s.span_s) == (T0 + 1000, T0 + 5000, 4e-6)
    assert (s.tick_size, s.tick_inferred, s.quotes.crossed) == (0.01, False, 1)
    assert report.events == 9 and report.total("trade") == 3
    full = inspect_root(root)
    assert len(full.shards) == 4 and full.quotes.trades_inside == 8


def test_inspect_real_data(binance_root: Path) -> None:
    report = inspect_root(binance_root)
    assert [(s.security, s.date) for s in report.shards] == REAL_SHARDS
    assert report.events == 2_971_188  # the README's ~4.0 M counts raw feed messages
    assert report.total("trade") == 78_638
    spot = report.shards[4]
    assert (spot.bid, spot.ask, spot.trade, spot.bid_level, spot.ask_level) == (
        14_062,
        14_158,
        9_757,
        58_032,
        68_041,
    )
    for s in report.shards:
        assert not s.tick_inferred and s.quotes.crossed > 0  # crossed books are real
        assert 0.5 <= s.quotes.inside_share <= 0.85  # README: 50-80 % inside the prior quote
        assert 250 < s.span_s < 400


def test_cli_prints_all_real_shards(binance_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "inspect", str(binance_root)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for sec, date in REAL_SHARDS:
        assert any(sec in line and date in line for line in lines), (sec, date)
    total = next(line for line in lines if "total: 10 shards" in line)
    assert "2,971,188" in total and "78,638" in total and "6 sec, 2 days" in total
    assert "10 shards, 2,971,188 events; catalog fingerprint" in out
    assert "binance-spot.BTCUSDT" in out and "50.6% of 9,757" in out


def test_cli_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = hand_root(tmp_path, ("AAA", "BBB", "CCC"), dates=("2024-08-08", "2024-08-09"))
    argv = ["data", "inspect", root.as_uri(), "-s", "AAA", "--security", "CCC"]
    argv += ["--end", "2024-08-08"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "AAA" in out and "CCC" in out and "BBB" not in out and "2024-08-09" not in out
    assert "total: 2 shards" in out and "66.7% of 6" in out


def test_cli_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "inspect", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'nope'}: data root does not exist")
    root = hand_root(tmp_path / "root")
    assert main(["data", "inspect", str(root), "--start", "yesterday"]) == 2
    assert "start date 'yesterday' is not a date: write it as YYYY-MM-DD" in capsys.readouterr().err


def test_cli_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "inspect", "--help"]) == 0
    out = capsys.readouterr().out
    for text in ("ROOT", "--security", "--start", "--end", "--content-hash", "crossed", "s3://"):
        assert text in out, text
