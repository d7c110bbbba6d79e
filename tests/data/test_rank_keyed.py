"""Rank-keyed depth ("level k is now price P size q"): converted on import so that the engine's
price-keyed book equals the ranked book after every row, and rejected at load time unconverted.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmopt.data import (
    EVENT_DTYPE,
    KIND_ASK_LEVEL,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
    write_instruments_csv,
    write_shard,
)
from mmopt.data.catalog import open_catalog
from mmopt.data.importers import convert_tabular, import_tabular, load_tabular_config
from mmopt.data.loader import load_events, load_shard
from mmopt.errors import DataError

T0 = 1_723_161_600_000_000_000
COLS = ["time=t", "type=k", "price=p", "size=q", "level=lvl", "side=a"]
BL, AL = KIND_BID_LEVEL, KIND_ASK_LEVEL

# A hand-made rank-keyed stream, 3 levels a side: (ns after T0, kind, rank, price, size).
# Rows of one time are one update of the ranked book.
RANKED = [
    (0, "bid_level", 1, 100.00, 4),
    (0, "bid_level", 2, 99.99, 1),
    (0, "bid_level", 3, 99.97, 2),
    (0, "ask_level", 1, 100.02, 3),
    (0, "ask_level", 2, 100.03, 2),
    (0, "ask_level", 3, 100.05, 1),
    (10, "bid_level", 1, 100.01, 2),  # a better bid: everything shifts down a rank
    (10, "bid_level", 2, 100.00, 4),
    (10, "bid_level", 3, 99.99, 1),  # 99.97 falls out of view
    (20, "trade", 0, 100.02, 3),
    (20, "ask_level", 1, 100.03, 2),  # the best ask is gone: shift up
    (20, "ask_level", 2, 100.05, 1),
    (20, "ask_level", 3, 0.0, 0),  # rank 3 is empty now
    (30, "bid_level", 2, 100.00, 7),  # a size change at rank 2 only
    (40, "bid_level", 1, 100.00, 7),  # 100.01 left: shift up, 99.98 appears at rank 3
    (40, "bid_level", 2, 99.99, 1),
    (40, "bid_level", 3, 99.98, 5),
    (50, "ask_level", 3, 100.04, 9),  # slots are overwritten within one time: only the
    (50, "ask_level", 2, 100.04, 9),  # book after the last row counts (rank 2 100.04,
    (50, "ask_level", 3, 100.05, 1),  # rank 3 100.05)
]


def _csv(rows: list[tuple[int, str, int, float, float]]) -> str:
    lines = ["t,k,p,q,lvl,a"]
    for dt, kind, rank, price, size in rows:
        side = "buy" if kind == "trade" else ""
        lvl = "" if kind == "trade" else str(rank)
        lines.append(f"{T0 + dt},{kind},{price},{size},{lvl},{side}")
    return "\n".join(lines) + "\n"


def _ranked_books(rows: list[tuple[int, str, int, float, float]]) -> dict[int, tuple]:
    """The ranked book (bids, asks as {price: size}) after each time, by slot semantics."""
    slots: dict[str, dict[int, tuple[float, float]]] = {"bid_level": {}, "ask_level": {}}
    out: dict[int, tuple] = {}
    for dt, kind, rank, price, size in rows:
        if kind in slots:
            if size > 0:
                slots[kind][rank] = (price, size)
            else:
                slots[kind].pop(rank, None)
        out[dt] = tuple({p: q for p, q in slots[k].values()} for k in ("bid_level", "ask_level"))
    return out


def _price_keyed_books(events: np.ndarray) -> dict[int, tuple]:
    """Replay depth rows as the engine does: the size at this price is now q (0 removes)."""
    books: tuple[dict[float, float], dict[float, float]] = ({}, {})
    out: dict[int, tuple] = {}
    for e in events:
        if e["kind"] in (BL, AL):
            side = books[0 if e["kind"] == BL else 1]
            if e["qty"] > 0:
                side[float(e["price"])] = float(e["qty"])
            else:
                side.pop(float(e["price"]), None)
        out[int(e["ts_ns"]) - T0] = (dict(books[0]), dict(books[1]))
    return out


def _convert(tmp_path: Path, rows: list, levels: str = "rank") -> np.ndarray:
    path = tmp_path / "ranked.csv"
    path.write_text(_csv(rows))
    config = load_tabular_config(None, COLS, security="R", time_format="ns", levels=levels)
    (shard,) = convert_tabular([path], config)
    return shard.events


def test_converted_book_equals_the_ranked_book_after_every_update(tmp_path: Path) -> None:
    events = _convert(tmp_path, RANKED)
    assert _price_keyed_books(events) == _ranked_books(RANKED)
    # the rows written: removals (size 0, no rank) first, then updates with their new rank
    at10 = [(int(e["kind"]), float(e["price"]), float(e["qty"]), int(e["level"])) for e in events
            if int(e["ts_ns"]) == T0 + 10]  # fmt: skip
    assert at10 == [(BL, 99.97, 0.0, 0), (BL, 100.01, 2.0, 1)]
    at20 = events[events["ts_ns"] == T0 + 20]
    assert int(at20["kind"][0]) == KIND_TRADE  # the trade keeps its place before the update
    assert [(float(e["price"]), float(e["qty"]), int(e["level"])) for e in at20[1:]] == [
        (100.02, 0.0, 0)
    ]


def test_converted_rows_pass_the_loader_and_unconverted_rows_are_rejected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ranked.csv"
    path.write_text(_csv(RANKED))
    config = load_tabular_config(None, COLS, security="R", time_format="ns", levels="rank")
    import_tabular([path], tmp_path / "ok", config)
    loaded = load_events(tmp_path / "ok", "R", "2024-08-09")
    assert _price_keyed_books(loaded.events) == _ranked_books(RANKED)

    # the same rows written as they are (rank-keyed) into a shard: the loader names file and row
    raw = np.zeros(len(RANKED), dtype=EVENT_DTYPE)
    for i, (dt, kind, rank, price, size) in enumerate(RANKED):
        code = {"bid_level": BL, "ask_level": AL, "trade": KIND_TRADE}[kind]
        raw[i] = (T0 + dt, -1, price if size else 100.0, size, rank, code, 0, False)
    raw["price"][raw["kind"] == KIND_TRADE] = 100.02
    shard_file = write_shard(tmp_path / "raw", "R", "2024-08-09", raw)
    write_instruments_csv(tmp_path / "raw", [Instrument("R", tick_size=0.01, lot_size=1.0)])
    ref = open_catalog(tmp_path / "raw").get("R", "2024-08-09")
    with pytest.raises(DataError) as info:
        load_shard(ref)
    msg = str(info.value)
    assert str(shard_file) in msg
    # rows 6-8 still fit a price-keyed reading; row 10 does not: 100.02 never left the book
    assert "row 10: ask_level row with price 100.03, size 2.0 and level 1" in msg
    assert "has price 100.02 at rank 1" in msg
    assert "--levels rank" in msg


def test_import_without_levels_rank_stops_on_rank_keyed_rows(tmp_path: Path) -> None:
    path = tmp_path / "ranked.csv"
    path.write_text(_csv(RANKED[:12]))  # up to the first emptied rank (a price-keyed row needs
    config = load_tabular_config(None, COLS, security="R", time_format="ns")  # a price)
    with pytest.raises(DataError, match=r"ranked\.csv: R 2024-08-09: row 10 .*--levels rank"):
        import_tabular([path], tmp_path / "out", config)
    assert not (tmp_path / "out" / "security=R").exists()


def test_levels_rank_needs_a_rank_on_every_depth_row(tmp_path: Path) -> None:
    rows = [(0, "bid_level", 1, 100.0, 1), (5, "ask_level", 0, 100.1, 1)]
    with pytest.raises(DataError, match=r"row 1 .* with level 0; with --levels rank every depth"):
        _convert(tmp_path, rows)
    unsorted = [(0, "bid_level", 1, 100.0, 1), (0, "bid_level", 2, 100.5, 1)]
    with pytest.raises(DataError, match=r"not sorted best first"):
        _convert(tmp_path, unsorted)


@st.composite
def _ranked_streams(draw: st.DrawFn) -> list[tuple[int, str, int, float, float]]:
    """Random valid ranked books over time, each written as the slots that changed."""
    depth = draw(st.integers(1, 5))
    steps = draw(st.integers(1, 25))
    prev: dict[str, list[tuple[float, float] | None]] = {
        "bid_level": [None] * depth,
        "ask_level": [None] * depth,
    }
    rows: list[tuple[int, str, int, float, float]] = []
    for step in range(steps):
        for kind, sign in (("bid_level", -1), ("ask_level", 1)):
            n = draw(st.integers(0, depth))
            ticks = sorted(draw(st.sets(st.integers(0, 12), min_size=n, max_size=n)))
            sizes = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
            base = 1000 if sign < 0 else 1013
            new: list[tuple[float, float] | None] = [
                ((base + sign * t) / 100.0, float(q)) for t, q in zip(ticks, sizes, strict=True)
            ]
            new += [None] * (depth - n)
            for k in range(depth):
                if new[k] != prev[kind][k]:
                    slot = new[k]
                    price, size = slot if slot is not None else (1.0, 0.0)
                    rows.append((step * 10, kind, k + 1, price, size))
            prev[kind] = new
    return rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_ranked_streams())
def test_any_ranked_stream_converts_to_the_same_book(
    tmp_path_factory: pytest.TempPathFactory, rows: list
) -> None:
    if not rows:
        return
    tmp = tmp_path_factory.mktemp("ranked")
    events = _convert(tmp, rows)
    got = _price_keyed_books(events)
    want = _ranked_books(rows)
    for dt, book in want.items():
        assert got.get(dt, ({}, {})) == book, dt
    assert not any(math.isnan(p) for p in events["price"])


def test_real_binance_shards_are_price_keyed_and_still_load(binance_root: Path) -> None:
    catalog = open_catalog(binance_root)
    for ref in catalog:
        shard = load_shard(ref)
        depth = np.isin(shard.events["kind"], (BL, AL))
        assert depth.any() and (shard.events["level"][depth] == 0).all()
