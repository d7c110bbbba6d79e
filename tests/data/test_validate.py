"""Every validation failure is a DataError naming the file, the row (and value) or column, and
the fix. Crossed books and trades outside the quote are not failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datalayer_helpers import hand_events, hand_root, hand_table, replace_column

from mmopt.data import EVENT_DTYPE, load_shard, open_catalog, validate_events, write_shard
from mmopt.errors import DataError

SEC, DATE = "AAA", "2024-08-09"


def _shard_file(root: Path) -> Path:
    return root / f"security={SEC}" / f"date={DATE}" / "part-0.parquet"


def _load_table(tmp_path: Path, table: pa.Table, instruments: bool = True) -> str:
    """Write ``table`` as the only shard of a fresh root and load it; return the error text."""
    root = hand_root(tmp_path / "root", instruments=instruments)
    write_shard(root, SEC, DATE, table, overwrite=True)
    with pytest.raises(DataError) as err:
        load_shard(open_catalog(root).get(SEC, DATE))
    msg = str(err.value)
    assert msg.startswith(str(_shard_file(root))), msg  # names the file first
    assert "fix" in msg or "add" in msg or "re-write" in msg, msg
    return msg


def _with(name: str, values: list[object], type_: pa.DataType) -> pa.Table:
    return replace_column(hand_table(), name, pa.array(values, type_))


def _column(name: str, row: int, value: object, type_: pa.DataType) -> pa.Table:
    values = hand_table().column(name).to_pylist()
    values[row] = value
    return _with(name, values, type_)


def test_missing_column(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, hand_table().drop_columns(["qty"]))
    assert "missing column 'qty'" in msg and "write_shard" in msg


def test_mistyped_column(tmp_path: Path) -> None:
    table = replace_column(hand_table(), "price", hand_table().column("price").cast(pa.string()))
    msg = _load_table(tmp_path, table)
    assert "column 'price' has type string, expected float64 price" in msg
    assert "fix: cast the column" in msg


def test_unknown_kind(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("kind", 4, "quote", pa.string()))
    assert "row 4: column 'kind' = 'quote' is not a known value" in msg
    assert "kind must be one of bid, ask, trade, bid_level, ask_level" in msg


def test_null_kind(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("kind", 2, None, pa.string()))
    assert "row 2: column 'kind' = None is null" in msg


def test_unknown_side(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("side", 5, "short", pa.string()))
    assert "row 5: column 'side' = 'short' is not a known value" in msg
    assert "side must be one of buy, sell" in msg


def test_negative_timestamp(tmp_path: Path) -> None:
    ts = (hand_events()["ts_ns"] - hand_events()["ts_ns"][3]).tolist()  # rows 0..2 negative
    msg = _load_table(tmp_path, _with("ts_ns", ts, pa.int64()))
    assert "row 0: column 'ts_ns' = -1000 is negative (2 more rows like it)" in msg
    assert "ns since 1970-01-01 UTC" in msg


def test_null_timestamp(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("ts_ns", 6, None, pa.int64()))
    assert "row 6: column 'ts_ns' = None is null" in msg


def test_decreasing_timestamps(tmp_path: Path) -> None:
    ts = hand_events()["ts_ns"]
    msg = _load_table(tmp_path, _column("ts_ns", 5, int(ts[5]) - 10_000, pa.int64()))
    assert f"row 5: column 'ts_ns' = {int(ts[5]) - 10_000} is smaller than the previous" in msg
    assert f"row's {int(ts[4])} (timestamps decrease)" in msg
    assert "fix: sort the rows stably by ts_ns" in msg


def test_negative_exchange_time(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("exch_ts_ns", 3, -5, pa.int64()))
    assert "row 3: column 'exch_ts_ns' = -5 is negative" in msg and "write null" in msg


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_size(tmp_path: Path, bad: float) -> None:
    msg = _load_table(tmp_path, _column("qty", 7, bad, pa.float64()))
    assert f"row 7: column 'qty' = {bad!r} is not a finite number" in msg
    assert "sizes must be finite numbers >= 0" in msg


def test_null_size_is_nan(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("qty", 1, None, pa.float64()))
    assert "row 1: column 'qty' = nan is not a finite number" in msg


def test_negative_size(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("qty", 2, -1.0, pa.float64()))
    assert "row 2: column 'qty' = -1.0 is negative" in msg and "sizes must be >= 0" in msg


@pytest.mark.parametrize(
    ("row", "price"),
    [(3, 0.0), (2, -100.01), (8, float("nan")), (0, float("inf"))],
    ids=["zero-level", "negative-trade", "nan-trade", "inf-bid"],
)
def test_non_positive_price(tmp_path: Path, row: int, price: float) -> None:
    msg = _load_table(tmp_path, _column("price", row, price, pa.float64()))
    assert f"row {row}: column 'price' = {price!r} is not a positive price" in msg
    assert "NaN only on bid/ask rows" in msg


def test_nan_price_on_a_bid_or_ask_row_is_an_empty_side(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root")
    table = _column("price", 4, float("nan"), pa.float64())
    write_shard(root, SEC, DATE, table, overwrite=True)
    events = load_shard(open_catalog(root).get(SEC, DATE)).events
    assert np.isnan(events["price"][4]) and not np.isnan(events["price"][3])


def test_price_off_the_tick_grid(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("price", 6, 100.015, pa.float64()))
    assert "row 6: column 'price' = 100.015 is off the tick grid (tick size 0.01)" in msg
    assert "correct tick_size in ROOT/instruments.csv" in msg


def test_rounding_noise_is_on_the_grid(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root")
    noisy = 0.1 + 0.2 + 99.7  # 100.00000000000001 in floating point
    write_shard(root, SEC, DATE, _column("price", 0, noisy, pa.float64()), overwrite=True)
    assert load_shard(open_catalog(root).get(SEC, DATE)).events["price"][0] == noisy


def test_tick_grid_is_not_checked_when_the_tick_is_inferred(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root", instruments=False)
    write_shard(root, SEC, DATE, _column("price", 6, 100.015, pa.float64()), overwrite=True)
    with pytest.warns(UserWarning, match="inferred"):
        data = load_shard(open_catalog(root).get(SEC, DATE))
    assert data.instrument.inferred and data.instrument.tick_size == 0.005


def test_negative_level(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, _column("level", 3, -2, pa.int32()))
    assert "row 3: column 'level' = -2 is negative" in msg and "ranks start at 1" in msg


def test_empty_shard(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, hand_table().slice(0, 0))
    assert "the file has no rows (empty shard)" in msg


def test_truncated_file(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root")
    path = _shard_file(root)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="unreadable or truncated Parquet file") as err:
        load_shard(open_catalog(root).get(SEC, DATE))
    assert str(err.value).startswith(str(path)) and "re-write or re-download" in str(err.value)


def test_file_that_is_not_parquet(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root")
    _shard_file(root).write_text("ts_ns,kind\n1,bid\n")
    with pytest.raises(DataError, match=r"part-0.parquet: unreadable or truncated Parquet"):
        load_shard(open_catalog(root).get(SEC, DATE))


def test_each_file_of_a_shard_is_named_in_its_errors(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root")
    bad = _column("qty", 2, -1.0, pa.float64())
    second = _shard_file(root).with_name("part-1.parquet")
    pq.write_table(bad, second)
    with pytest.raises(DataError, match=rf"^{second}: row 2: column 'qty' = -1.0"):
        load_shard(open_catalog(root).get(SEC, DATE))


def test_crossed_books_and_trades_outside_the_quote_are_accepted() -> None:
    validate_events(hand_events(), "hand", tick_size=0.01)  # row 6 crosses, row 5 is outside


def test_validate_events_checks_codes_of_in_memory_arrays() -> None:
    ev = hand_events()
    ev["kind"][1] = 9
    with pytest.raises(DataError, match=r"^gen: row 1: column 'kind' = 9 is not a known kind"):
        validate_events(ev, "gen")
    ev = hand_events()
    ev["side"][2] = 3
    with pytest.raises(DataError, match=r"row 2: column 'side' = 3 is not a side code.*1 \(buy\)"):
        validate_events(ev, "gen")
    with pytest.raises(DataError, match="expected EVENT_DTYPE"):
        validate_events(np.zeros(3, dtype=[("ts_ns", "i8")]), "gen")
    with pytest.raises(DataError, match="empty shard"):
        validate_events(np.zeros(0, dtype=EVENT_DTYPE), "gen")


def test_several_missing_columns(tmp_path: Path) -> None:
    msg = _load_table(tmp_path, hand_table().drop_columns(["side", "is_snapshot"]))
    assert "missing columns 'side', 'is_snapshot'" in msg


def test_a_trade_between_ticks_is_accepted(tmp_path: Path) -> None:
    """Midpoint (hidden) executions print between ticks: only quotes must sit on the grid."""
    root = hand_root(tmp_path / "root")
    write_shard(root, SEC, DATE, _column("price", 2, 100.005, pa.float64()), overwrite=True)
    events = load_shard(open_catalog(root).get(SEC, DATE)).events
    assert events["price"][2] == 100.005
