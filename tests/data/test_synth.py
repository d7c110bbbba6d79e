"""The synthetic market: reproducibility, book invariants, trades, clustering, scenarios, CLI."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmopt.cli import main
from mmopt.data import _synth_params as P
from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    PARQUET_COLUMNS,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
    Instrument,
)
from mmopt.data._synth_book import _clearing_index, _uncross
from mmopt.data.synth import (
    SCENARIOS,
    SynthConfig,
    generate_dataset,
    generate_events,
    generate_shard,
    synth_dates,
    synth_instruments,
)
from mmopt.errors import ConfigError, DataError

SMALL = SynthConfig(n_securities=3, n_days=2, seed=11, events_per_day=15_000,
                    session_seconds=1800.0)
# Scenario signatures need enough events for the book to follow the fair price.
DENSE = SynthConfig(n_securities=2, n_days=1, seed=5, events_per_day=60_000,
                    session_seconds=3600.0)


# --- helpers ---------------------------------------------------------------------------------


def _session_seconds(events: np.ndarray) -> np.ndarray:
    return (events["exch_ts_ns"] - events["exch_ts_ns"][0]) / 1e9


def _continuous(events: np.ndarray, cfg: SynthConfig) -> np.ndarray:
    t = _session_seconds(events)
    return (t > cfg.opening_auction_seconds) & (t < cfg.session_seconds
                                                 - cfg.closing_auction_seconds)


def _replay(events: np.ndarray, ins: Instrument, cfg: SynthConfig) -> dict[str, int]:
    """Rebuild the book row by row and check every invariant; return a few counts."""
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    cont = _continuous(events, cfg)
    counts = {"trades": 0, "tops": 0, "crossed_in_auction": 0}
    for i, row in enumerate(events):
        kind, px, qty = int(row["kind"]), float(row["price"]), float(row["qty"])
        if kind in (KIND_BID_LEVEL, KIND_ASK_LEVEL):
            book = bids if kind == KIND_BID_LEVEL else asks
            if qty == 0.0:
                assert px in book, f"row {i}: removes a level that is not in the book"
                del book[px]
            else:
                book[px] = qty
        elif kind == KIND_TRADE:
            counts["trades"] += 1
            if cont[i]:
                assert row["side"] in (SIDE_BUY, SIDE_SELL), f"row {i}: no aggressor"
                best = min(asks) if row["side"] == SIDE_BUY else max(bids)
                book = asks if row["side"] == SIDE_BUY else bids
                assert px == best, f"row {i}: trade at {px}, best is {best}"
                assert 0 < qty <= book[px] + 1e-12, f"row {i}: trades more than displayed"
                nxt = events[i + 1]
                assert nxt["price"] == px and nxt["kind"] == (
                    KIND_ASK_LEVEL if row["side"] == SIDE_BUY else KIND_BID_LEVEL
                ), f"row {i}: trade not followed by its depth update"
                assert math.isclose(nxt["qty"], book[px] - qty, abs_tol=ins.lot_size / 2)
            else:
                assert row["side"] == SIDE_NONE, f"row {i}: auction print with an aggressor"
        else:
            counts["tops"] += 1
            best = max(bids) if kind == KIND_BID else min(asks)
            size = bids[best] if kind == KIND_BID else asks[best]
            assert (px, qty) == (best, size), f"row {i}: top of book differs from depth"
        if kind != KIND_TRADE and bids and asks:
            crossed = max(bids) >= min(asks)
            if cont[i]:
                assert not crossed, f"row {i}: book locked or crossed in continuous trading"
            counts["crossed_in_auction"] += int(crossed)
    return counts


def _mid_on_grid(events: np.ndarray, cfg: SynthConfig, step: float = 1.0) -> np.ndarray:
    """The mid from the top-of-book rows, sampled every ``step`` s of continuous trading."""
    t = _session_seconds(events)
    idx = np.arange(len(events))
    last_bid = np.maximum.accumulate(np.where(events["kind"] == KIND_BID, idx, 0))
    last_ask = np.maximum.accumulate(np.where(events["kind"] == KIND_ASK, idx, 0))
    mid = 0.5 * (events["price"][last_bid] + events["price"][last_ask])
    grid = np.arange(cfg.opening_auction_seconds + 1.0,
                     cfg.session_seconds - cfg.closing_auction_seconds, step)
    return mid[np.searchsorted(t, grid, side="right") - 1]


def _realised_vol(events: np.ndarray, cfg: SynthConfig) -> float:
    return float(np.diff(np.log(_mid_on_grid(events, cfg, 10.0))).std())


def _mean_spread_ticks(events: np.ndarray, ins: Instrument, cfg: SynthConfig) -> float:
    t = _session_seconds(events)
    idx = np.arange(len(events))
    last_bid = np.maximum.accumulate(np.where(events["kind"] == KIND_BID, idx, 0))
    last_ask = np.maximum.accumulate(np.where(events["kind"] == KIND_ASK, idx, 0))
    spread = (events["price"][last_ask] - events["price"][last_bid]) / ins.tick_size
    return float(spread[_continuous(events, cfg) & (t > 0)].mean())


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_securities", 0, "n_securities: 0 is outside 1..10000"),
        ("n_days", "2", "n_days: expected an integer"),
        ("events_per_day", 10, "events_per_day: 10 is outside"),
        ("depth_levels", 5, "depth_levels: 5 is outside 10..200"),
        ("scenario", "crash", "scenario: unknown scenario 'crash'; use one of flash_crash"),
        ("start_date", "2024-13-01", "start_date: '2024-13-01' is not a date; write it as YYYY"),
        ("session_start", "9h", "session_start: '9h' is not a time of day; write it as HH:MM"),
        ("session_seconds", 10.0, "session_seconds: 10.0 is outside 60..86400"),
        ("opening_auction_seconds", 0.0, "opening_auction_seconds: 0.0 is outside 1..3600"),
        ("closing_auction_seconds", float("nan"), "closing_auction_seconds: expected a number"),
        ("security_prefix", "1X", "security_prefix: '1X' must start with a letter"),
        ("seed", -1, "seed: -1 is outside"),
    ],
)
def test_bad_config_names_the_key(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=_literal(message)):
        SynthConfig(**{field: value})  # type: ignore[arg-type]


def test_session_must_end_by_midnight_and_leave_room_for_continuous_trading() -> None:
    with pytest.raises(ConfigError, match="must end by midnight; use at most 3600 s"):
        SynthConfig(session_start="23:00", session_seconds=7200.0)
    with pytest.raises(ConfigError, match="auctions take more than half"):
        SynthConfig(session_seconds=600.0, opening_auction_seconds=200.0,
                    closing_auction_seconds=200.0)


def test_from_mapping_rejects_unknown_keys() -> None:
    cfg = SynthConfig.from_mapping({"n_securities": 2, "scenario": "high_vol"})
    assert cfg == SynthConfig(n_securities=2, scenario="high_vol")
    with pytest.raises(ConfigError, match=r"data\.synth\.securities: unknown key; the synthetic"):
        SynthConfig.from_mapping({"securities": 2})
    assert cfg.describe()["scenario"] == "high_vol"


def test_shard_indices_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"security_index: 3 is outside 0..2"):
        generate_shard(SMALL, 3, 0)
    with pytest.raises(ConfigError, match=r"day_index: 2 is outside 0..1"):
        generate_shard(SMALL, 0, 2)


def _literal(text: str) -> str:
    import re

    return re.escape(text)


# --- reproducibility ---------------------------------------------------------------------------


def test_same_seed_same_rows_different_seed_different_rows() -> None:
    a, ins_a = generate_shard(SMALL, 1, 1)
    b, ins_b = generate_shard(SMALL, 1, 1)
    assert a.dtype == EVENT_DTYPE
    assert ins_a == ins_b
    assert a.tobytes() == b.tobytes()
    c, _ = generate_shard(replace(SMALL, seed=12), 1, 1)
    assert len(c) != len(a) or c.tobytes() != a.tobytes()
    other_day, _ = generate_shard(SMALL, 1, 0)
    assert other_day.tobytes() != a.tobytes()


def test_same_config_writes_identical_files(tmp_path: Path) -> None:
    cfg = replace(SMALL, n_securities=2, n_days=1)
    first = generate_dataset(cfg, tmp_path / "a")
    second = generate_dataset(cfg, tmp_path / "b")
    for x, y in zip(first.shards, second.shards, strict=True):
        assert x.path.read_bytes() == y.path.read_bytes()
    assert (tmp_path / "a/instruments.csv").read_bytes() == (
        tmp_path / "b/instruments.csv").read_bytes()
    again = generate_dataset(cfg, tmp_path / "a")  # identical: a no-op
    assert [s.path for s in again.shards] == [s.path for s in first.shards]


def test_a_different_dataset_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    cfg = replace(SMALL, n_securities=1, n_days=1)
    generate_dataset(cfg, tmp_path)
    bigger = replace(cfg, seed=99, n_days=2)
    with pytest.raises(DataError, match="already exists; remove it or pass --overwrite"):
        generate_dataset(bigger, tmp_path)
    assert len(list(tmp_path.glob("security=*/date=*"))) == 1  # day 2 was not written
    generate_dataset(bigger, tmp_path, overwrite=True)
    assert len(list(tmp_path.glob("security=*/date=*"))) == 2


# --- what a shard looks like ------------------------------------------------------------------


def test_rows_are_sorted_typed_and_on_the_grid() -> None:
    events, ins = generate_shard(SMALL, 2, 0)
    assert np.all(np.diff(events["ts_ns"]) >= 0)
    assert np.all(np.diff(events["exch_ts_ns"]) >= 0)
    assert np.all(events["ts_ns"] > events["exch_ts_ns"])  # feed latency
    assert np.all(events["level"] == 0)
    ticks = events["price"] / ins.tick_size
    assert np.allclose(ticks, np.round(ticks), atol=1e-6)
    lots = events["qty"] / ins.lot_size
    assert np.allclose(lots, np.round(lots), atol=1e-6)
    assert np.all(events["price"] > 0)
    levels = np.isin(events["kind"], (KIND_BID_LEVEL, KIND_ASK_LEVEL))
    assert np.all(events["qty"][~levels] > 0)  # trades and top-of-book rows carry size
    assert np.all(events["qty"][levels] >= 0)
    assert set(np.unique(events["kind"])) == {KIND_BID, KIND_ASK, KIND_TRADE, KIND_BID_LEVEL,
                                              KIND_ASK_LEVEL}
    t0 = 9 * 3600 + np.datetime64(synth_dates(SMALL)[0], "s").astype(np.int64)
    assert events["exch_ts_ns"][0] == t0 * 10**9
    assert _session_seconds(events)[-1] == pytest.approx(SMALL.session_seconds, abs=1e-6)


def test_snapshot_first_with_at_least_ten_levels_per_side() -> None:
    cfg = replace(SMALL, depth_levels=12)
    events, _ = generate_shard(cfg, 0, 0)
    snap = events["is_snapshot"]
    n_snap = int(snap.sum())
    assert snap[:n_snap].all() and not snap[n_snap:].any()
    head = events[:n_snap]
    assert np.count_nonzero(head["kind"] == KIND_BID_LEVEL) == 12
    assert np.count_nonzero(head["kind"] == KIND_ASK_LEVEL) == 12
    assert head["price"][head["kind"] == KIND_BID_LEVEL].max() < head["price"][
        head["kind"] == KIND_ASK_LEVEL].min()
    assert np.all(head["qty"] > 0)
    assert events["kind"][n_snap] == KIND_BID and events["kind"][n_snap + 1] == KIND_ASK


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_book_replays_consistently(scenario: str) -> None:
    """Trades at the best with an aggressor, depth always >0 on lots, never crossed outside
    auctions, top-of-book rows equal to the depth book."""
    cfg = replace(SMALL, scenario=scenario, events_per_day=8_000, session_seconds=1200.0)
    events, ins = generate_shard(cfg, 0, 0)
    counts = _replay(events, ins, cfg)
    assert counts["trades"] > 100
    assert counts["tops"] > 100


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    scenario=st.sampled_from(sorted(SCENARIOS)),
    security=st.integers(0, 5),
    depth=st.integers(10, 25),
    top=st.booleans(),
)
def test_book_invariants_hold_for_any_seed(
    seed: int, scenario: str, security: int, depth: int, top: bool
) -> None:
    cfg = SynthConfig(n_securities=6, n_days=1, seed=seed, scenario=scenario, events_per_day=3_000,
                      session_seconds=600.0, opening_auction_seconds=30.0,
                      closing_auction_seconds=30.0, depth_levels=depth, top_of_book=top)
    events, ins = generate_shard(cfg, security, 0)
    counts = _replay(events, ins, cfg)
    assert (counts["tops"] > 0) == top
    assert np.count_nonzero(events["is_snapshot"]) == 2 * depth


def test_uncross_clears_at_the_volume_maximising_price() -> None:
    """Bids 101x5, 100x10; asks 99x4, 100x6, 101x20 (tick 1, base 0): the print is 10 at 100."""
    book = np.zeros((2, 200), np.int64)
    book[0, 101], book[0, 100] = 5, 10
    book[1, 99], book[1, 100], book[1, 101] = 4, 6, 20
    assert _clearing_index(book, 101, 99, 100.4) == (100, 10)
    prm = np.zeros(P.N_PARAMS)
    prm[P.P_TICK], prm[P.P_LOT], prm[P.P_TOP] = 1.0, 1.0, 1.0
    state = np.zeros(P.N_STATE, np.int64)
    state[P.S_BEST], state[P.S_BEST + 1] = 101, 99
    out = np.zeros(16, EVENT_DTYPE)
    _uncross(out, state, book, prm, 100.4)
    rows = [(int(r["kind"]), int(r["side"]), r["price"], r["qty"]) for r in out[: state[P.S_N]]]
    assert rows == [
        (KIND_TRADE, SIDE_NONE, 100.0, 10.0),
        (KIND_BID_LEVEL, SIDE_NONE, 101.0, 0.0),
        (KIND_BID_LEVEL, SIDE_NONE, 100.0, 5.0),
        (KIND_ASK_LEVEL, SIDE_NONE, 99.0, 0.0),
        (KIND_ASK_LEVEL, SIDE_NONE, 100.0, 0.0),
    ]
    assert (state[P.S_BEST], state[P.S_BEST + 1]) == (100, 101)


def test_auctions_have_no_continuous_trades_and_end_with_an_uncross_print() -> None:
    events, _ = generate_shard(SMALL, 0, 1)
    t = _session_seconds(events)
    trade = events["kind"] == KIND_TRADE
    auction_prints = trade & (events["side"] == SIDE_NONE)
    assert np.count_nonzero(auction_prints) == 2
    assert t[auction_prints].tolist() == pytest.approx(
        [SMALL.opening_auction_seconds, SMALL.session_seconds], abs=1e-6)
    inside = (t < SMALL.opening_auction_seconds) | (
        t > SMALL.session_seconds - SMALL.closing_auction_seconds)
    assert not np.any(trade & inside & ~auction_prints)
    assert np.all(np.isin(events["side"][trade & ~auction_prints], (SIDE_BUY, SIDE_SELL)))
    assert np.all(events["side"][~trade] == SIDE_NONE)
    assert events["kind"][-1] != KIND_TRADE or t[-1] == SMALL.session_seconds


def test_opening_auction_crosses_then_uncrosses() -> None:
    cfg = replace(SMALL, events_per_day=8_000, session_seconds=1200.0)
    events, ins = generate_shard(cfg, 1, 0)
    counts = _replay(events, ins, cfg)
    assert counts["crossed_in_auction"] > 0


def test_trades_cluster_in_time() -> None:
    events, _ = generate_shard(DENSE, 0, 0)
    t = _session_seconds(events)
    trades = t[(events["kind"] == KIND_TRADE) & _continuous(events, DENSE)]
    counts = np.bincount(trades.astype(np.int64))[int(DENSE.opening_auction_seconds) + 1:-1]
    dispersion = counts.var() / counts.mean()
    assert dispersion > 1.5, dispersion
    both = events["side"][events["kind"] == KIND_TRADE]
    assert 0.3 < np.mean(both == SIDE_BUY) < 0.7


def test_securities_differ() -> None:
    cfg = replace(SMALL, n_securities=5, n_days=1)
    instruments = synth_instruments(cfg)
    assert [i.security for i in instruments] == ["SYN00", "SYN01", "SYN02", "SYN03", "SYN04"]
    shards = [generate_shard(cfg, i, 0)[0] for i in range(5)]
    prices = [float(np.median(s["price"])) for s in shards]
    rel_ticks = [i.tick_size / p for i, p in zip(instruments, prices, strict=True)]
    assert max(prices) / min(prices) > 100
    assert max(rel_ticks) / min(rel_ticks) > 5
    assert len({i.lot_size for i in instruments}) >= 3
    sizes = [len(s) for s in shards]
    assert max(sizes) / min(sizes) > 1.5
    depth = [float(np.median(s["qty"][s["kind"] == KIND_BID] * p))
             for s, p in zip(shards, prices, strict=True)]
    assert max(depth) / min(depth) > 3  # displayed notional at the best bid
    assert len({(i.maker_fee_bps, i.taker_fee_bps) for i in instruments}) >= 3


Shards = dict[str, tuple[np.ndarray, Instrument]]


# --- scenarios -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario_shards() -> Shards:
    return {name: generate_shard(replace(DENSE, scenario=name), 0, 0) for name in SCENARIOS}


def test_high_vol_has_higher_realised_volatility(scenario_shards: Shards) -> None:
    normal = _realised_vol(scenario_shards["normal"][0], DENSE)
    high = _realised_vol(scenario_shards["high_vol"][0], DENSE)
    assert high > 1.8 * normal, (high, normal)


def test_low_liquidity_has_thin_books_and_wide_spreads(scenario_shards: Shards) -> None:
    normal, ins = scenario_shards["normal"]
    thin, _ = scenario_shards["low_liquidity"]
    assert _mean_spread_ticks(thin, ins, DENSE) > 1.8 * _mean_spread_ticks(normal, ins, DENSE)
    depth = {k: float(np.mean(ev["qty"][ev["kind"] == KIND_BID]))
             for k, (ev, _) in scenario_shards.items()}
    assert depth["low_liquidity"] < 0.4 * depth["normal"]
    assert len(thin) < len(normal)


def test_trending_moves_far_in_one_direction(scenario_shards: Shards) -> None:
    mid = _mid_on_grid(scenario_shards["trending"][0], DENSE)
    ret = mid[-1] / mid[0] - 1.0
    assert abs(ret) > 0.03, ret
    normal = _mid_on_grid(scenario_shards["normal"][0], DENSE)
    assert abs(ret) > 2 * abs(normal[-1] / normal[0] - 1.0)


def test_flash_crash_falls_hard_and_recovers(scenario_shards: Shards) -> None:
    mid = _mid_on_grid(scenario_shards["flash_crash"][0], DENSE)  # one point per second
    window = np.lib.stride_tricks.sliding_window_view(mid, 121)
    drop_in_two_minutes = 1.0 - window[:, -1] / window.max(axis=1)
    assert drop_in_two_minutes.max() > 0.06, drop_in_two_minutes.max()
    trough = int(mid.argmin())
    before = mid[max(0, trough - 120):trough + 1].max()
    recovered = (mid[-1] - mid[trough]) / (before - mid[trough])
    assert recovered > 0.5, recovered
    normal = _mid_on_grid(scenario_shards["normal"][0], DENSE)
    window = np.lib.stride_tricks.sliding_window_view(normal, 121)
    assert (1.0 - window[:, -1] / window.max(axis=1)).max() < 0.02


# --- in-memory streams -------------------------------------------------------------------------


def test_generate_events_returns_exactly_n_rows() -> None:
    events, ins = generate_events(12_345, seed=3)
    assert len(events) == 12_345 and events.dtype == EVENT_DTYPE
    assert ins.security == "SYN00"
    again, _ = generate_events(12_345, seed=3)
    assert again.tobytes() == events.tobytes()
    other, ins2 = generate_events(5_000, seed=3, security_index=2, scenario="high_vol",
                                  session_seconds=900.0)
    assert len(other) == 5_000 and ins2.security == "SYN02"
    with pytest.raises(ConfigError, match="n_events: expected a positive integer"):
        generate_events(0)


def test_default_shards_are_sized_for_a_quick_sweep() -> None:
    cfg = SynthConfig(n_days=1)
    sizes = [len(generate_shard(cfg, i, 0)[0]) for i in range(cfg.n_securities)]
    assert all(100_000 <= n <= 320_000 for n in sizes), sizes


# --- CLI -------------------------------------------------------------------------------------


def test_cli_writes_four_securities_by_two_days(tmp_path: Path, capsys: pytest.CaptureFixture
                                                ) -> None:
    root = tmp_path / "synth"
    args = ["data", "synth", str(root), "--securities", "4", "--days", "2", "--seed", "7",
            "--scenario", "normal", "--events-per-day", "5000", "--session-seconds", "900"]
    assert main(args) == 0
    shards = sorted(root.glob("security=*/date=*/part-0.parquet"))
    assert len(shards) == 8
    assert {p.parent.name for p in shards} == {"date=2024-01-02", "date=2024-01-03"}
    table = pq.read_table(shards[0])
    assert tuple(table.column_names) == PARQUET_COLUMNS
    assert set(table.column("kind").unique().to_pylist()) == {
        "bid", "ask", "trade", "bid_level", "ask_level"}
    lines = (root / "instruments.csv").read_text().splitlines()
    assert lines[0].startswith("security,tick_size,lot_size") and len(lines) == 5
    out = capsys.readouterr().out
    assert "wrote 8 shards" in out
    assert main(args) == 0  # the same dataset again: nothing changes
    assert main([*args[:7], "--seed", "8", *args[9:]]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert main([*args[:7], "--seed", "8", *args[9:], "--overwrite"]) == 0


def test_cli_rejects_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "synth", str(tmp_path), "--scenario", "meltdown"]) == 2
    assert "unknown scenario 'meltdown'" in capsys.readouterr().err
    assert main(["data", "synth", str(tmp_path), "--depth-levels", "3"]) == 2
    assert "depth_levels: 3 is outside 10..200" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_help_explains_every_option(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "synth", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--securities", "--days", "--seed", "--scenario", "--events-per-day",
                   "--start-date", "--session-seconds", "--depth-levels", "--overwrite"):
        assert option in text
