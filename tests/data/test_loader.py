"""Loader: Parquet shard -> sorted EVENT_DTYPE array + instrument, exactly as written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datalayer_helpers import T0, hand_events, hand_root, hand_table, replace_column
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmopt.data import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_TRADE,
    SIDE_NONE,
    Instrument,
    ShardData,
    load_events,
    load_shard,
    load_shards,
    open_catalog,
    write_instruments_csv,
    write_shard,
)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and all(
        np.array_equal(a[f], b[f], equal_nan=f == "price") for f in EVENT_DTYPE.names or ()
    )


def test_round_trip_with_write_shard(tmp_path: Path) -> None:
    root = hand_root(tmp_path)
    data = load_shard(open_catalog(root).get("AAA", "2024-08-09"))
    assert isinstance(data, ShardData) and data.security == "AAA" and data.date == "2024-08-09"
    assert _same(data.events, hand_events()) and len(data) == 9
    assert data.instrument == Instrument("AAA", tick_size=0.01, lot_size=0.05)


def test_nulls_become_absent_markers(tmp_path: Path) -> None:
    root = hand_root(tmp_path)
    table = pq.read_table(root / "security=AAA" / "date=2024-08-09" / "part-0.parquet")
    assert table.column("exch_ts_ns").null_count == 1  # written as null ...
    assert table.column("level").null_count == 8 and table.column("side").null_count == 6
    ev = load_events(root, "AAA", "2024-08-09").events
    assert ev["exch_ts_ns"][1] == -1 and ev["level"][0] == 0  # ... read back as markers
    assert ev["side"][ev["kind"] != KIND_TRADE].tolist() == [SIDE_NONE] * 6
    assert ev["kind"].dtype == np.int8 and ev["level"].dtype == np.int32


def test_all_null_and_alternative_column_types_are_accepted(tmp_path: Path) -> None:
    root = hand_root(tmp_path)
    t = hand_table()
    n = t.num_rows
    t = replace_column(t, "ts_ns", t.column("ts_ns").cast(pa.timestamp("ns")))
    t = replace_column(t, "kind", t.column("kind").cast(pa.large_string()))
    t = replace_column(t, "level", pa.nulls(n, pa.null()))
    t = replace_column(t, "exch_ts_ns", pa.nulls(n, pa.null()))
    t = replace_column(t, "is_snapshot", pa.nulls(n, pa.bool_()))
    t = replace_column(t, "qty", pa.array(np.arange(n, dtype=np.int32)))
    write_shard(root, "AAA", "2024-08-09", t, overwrite=True)
    ev = load_events(root, "AAA", "2024-08-09").events
    assert ev["ts_ns"].tolist() == hand_events()["ts_ns"].tolist()
    assert ev["kind"].tolist() == hand_events()["kind"].tolist()
    assert (ev["level"] == 0).all() and (ev["exch_ts_ns"] == -1).all()
    assert not ev["is_snapshot"].any() and ev["qty"].tolist() == list(range(n))


def test_plain_encoded_strings_and_several_row_groups(tmp_path: Path) -> None:
    root = hand_root(tmp_path)
    path = root / "security=AAA" / "date=2024-08-09" / "part-0.parquet"
    pq.write_table(hand_table(), path, use_dictionary=False, row_group_size=2)
    assert pq.ParquetFile(path).metadata.num_row_groups == 5
    assert _same(load_events(root, "AAA", "2024-08-09").events, hand_events())


def test_events_are_read_only(tmp_path: Path) -> None:
    data = load_events(hand_root(tmp_path), "AAA", "2024-08-09")
    with pytest.raises(ValueError, match="read-only"):
        data.events["price"][0] = 1.0


def test_files_of_a_shard_merge_stably_by_time(tmp_path: Path) -> None:
    root = hand_root(tmp_path / "root")
    shard = root / "security=AAA" / "date=2024-08-09"
    later = hand_events()
    later["ts_ns"] = T0 + 3000  # all at the time of rows 5 and 6
    later["kind"] = KIND_ASK
    later["side"] = SIDE_NONE
    later["price"] = 200.0
    write_shard(tmp_path / "tmp", "AAA", "2024-08-09", later)
    shutil.copy(tmp_path / "tmp/security=AAA/date=2024-08-09/part-0.parquet", shard / "part-1.pq")
    (shard / "part-1.pq").rename(shard / "part-1.parquet")
    ev = load_events(root, "AAA", "2024-08-09").events
    assert len(ev) == 18 and (np.diff(ev["ts_ns"]) >= 0).all()
    # rows of part-0 at ts 3000 come first (file order), then part-1's, in their own order
    at = ev[ev["ts_ns"] == T0 + 3000]
    assert at["price"].tolist() == [100.03, 100.02] + [200.0] * 9
    assert at["qty"][2:].tolist() == hand_events()["qty"].tolist()


def test_load_shards_in_catalog_order(tmp_path: Path) -> None:
    root = hand_root(tmp_path, securities=("B", "A"), dates=("2024-08-09", "2024-08-08"))
    keys = [d.ref.key for d in load_shards(open_catalog(root))]
    assert keys == ["A/2024-08-08", "A/2024-08-09", "B/2024-08-08", "B/2024-08-09"]


def test_an_explicit_instrument_wins(tmp_path: Path) -> None:
    root = hand_root(tmp_path)
    ins = Instrument("AAA", tick_size=0.005, lot_size=1.0, contract_type="inverse")
    assert load_shard(open_catalog(root).shards[0], ins).instrument is ins


_valid_rows = st.lists(
    st.tuples(
        st.integers(0, 10**6),  # time step
        st.sampled_from([1, 2, 3, 4, 5]),
        st.integers(1, 10**6),  # price in ticks
        st.integers(0, 10**4),  # qty in lots
        st.sampled_from([-1, 0, 1]),
        st.integers(0, 20),
        st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_valid_rows)
def test_any_valid_array_round_trips(tmp_path_factory: pytest.TempPathFactory, rows: list) -> None:
    ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
    step, kind, ticks, lots, side, level, snap = (np.array(c) for c in zip(*rows, strict=True))
    ev["ts_ns"] = T0 + np.cumsum(step)
    ev["exch_ts_ns"] = np.where(step % 3 == 0, -1, ev["ts_ns"] - 5)
    ev["kind"], ev["side"], ev["is_snapshot"] = kind, side, snap
    # ranks only off depth rows: a ranked depth row must match the book (test_validate covers it)
    ev["level"] = np.where(kind >= 4, 0, level)
    ev["price"] = ticks * 0.25
    ev["qty"] = lots * 0.5
    root = tmp_path_factory.mktemp("rt")
    write_shard(root, "X", "2024-01-02", ev)
    write_instruments_csv(root, [Instrument("X", tick_size=0.25, lot_size=0.5)])
    assert _same(load_events(root, "X", "2024-01-02").events, ev)
