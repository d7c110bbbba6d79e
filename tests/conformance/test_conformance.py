"""mmopt's engine against hftbacktest 2.4.4 (the oracle) on the touch quoter.

``price_follow`` with refill_interval_s=0, min_notional_before_quote=0, quote_size=1 lot and
max_position=10 lots is run by mmopt's engine and, through hftbacktest's own API, by
``hbt_oracle.run_touch_quoter`` (risk-averse queue, no partial fills, constant latency,
trading-value fees). Fill sequences (time, side, price, qty, maker) must be identical, and so
must the final position, balance and fees (up to float summation order: 1e-12 of the traded
value). Streams: a 200 k-row seeded synthetic shard from ``mmopt.data.synth``, a 200 k-row
adversarial seeded stream (sweeps, crossed feed, stray trades), two real Binance shards (spot
BTCUSDT, linear; COIN-M ETHUSD_PERP, inverse) and the hand-made pinned streams, at steps of
10 ms, 100 ms and 1 s. The rules both sides follow are in docs/engine.md; where
hftbacktest differs from DESIGN.md on purpose it is pinned in test_hbt_semantics.py and by
test_taker_exit_walks_the_book_unlike_hftbacktest below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from handmade import CASES, UNIT, rows
from hbt_oracle import OracleConfig, OracleResult, run_touch_quoter
from real_shards import load_real_shard
from synth_stream import SYNTH_INSTRUMENT, synth_events

from mmopt.data._schema import Instrument

pytestmark = pytest.mark.conformance

STEPS_MS = (10, 100, 1000)
LATENCY_NS = 1_000_000
SYNTH_ROWS = 200_000
REAL_SHARDS = (("binance-spot.BTCUSDT", "2024-08-08"), ("binance-coinm.ETHUSD_PERP", "2024-08-08"))


@dataclass(frozen=True)
class Stream:
    name: str
    events: np.ndarray
    instrument: Instrument


@dataclass(frozen=True)
class Engine:
    config_type: Any
    run_backtest: Any
    strategy: Any
    params: Any


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        from mmopt.engine import EngineConfig, run_backtest
        from mmopt.strategies import PriceFollowParams, get_strategy
    except ImportError as exc:  # the engine is being written in parallel
        pytest.skip(f"mmopt engine/strategies not importable yet: {exc}")
    params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                               min_notional_before_quote=0.0)
    return Engine(EngineConfig, run_backtest, get_strategy("price_follow"), params)


@pytest.fixture(scope="session")
def synth_stream() -> Stream:
    from mmopt.data.synth import generate_events

    events, instrument = generate_events(SYNTH_ROWS, seed=20240808)
    return Stream("synth", events, instrument)


@pytest.fixture(scope="session")
def adversarial_stream() -> Stream:
    return Stream("adversarial", synth_events(SYNTH_ROWS, seed=11), SYNTH_INSTRUMENT)


@pytest.fixture(scope="session", params=REAL_SHARDS, ids=lambda p: p[0])
def real_stream(request: pytest.FixtureRequest, binance_root: Path) -> Stream:
    security, date = request.param
    events, instrument = load_real_shard(binance_root, security, date)
    return Stream(security, events, instrument)


def run_pair(engine: Engine, stream: Stream, step_ns: int, entry_ns: int, resp_ns: int,
             decide_on_fill: bool = True, **clock: Any) -> tuple[Any, OracleResult]:
    """mmopt and the oracle on the same stream; ``clock``: EngineConfig's clocks /
    feed_latency_base_ns, given to both."""
    config = engine.config_type(step_ms=step_ns / 1e6, entry_latency_ns=entry_ns,
                                response_latency_ns=resp_ns, decide_on_fill=decide_on_fill,
                                **clock)
    ours = engine.run_backtest(stream.events, stream.instrument, engine.strategy, engine.params,
                               config)
    oracle = run_touch_quoter(stream.events, stream.instrument, OracleConfig(
        step_ns=step_ns, entry_latency_ns=entry_ns, response_latency_ns=resp_ns,
        decide_on_fill=decide_on_fill, **clock))
    return ours, oracle


def _normalise(fills: np.ndarray, instrument: Instrument) -> np.ndarray:
    """(ts, side, tick, lots, price, qty, maker) rows, sorted by (ts, side, tick)."""
    out = np.zeros(len(fills), dtype=[("ts_ns", "i8"), ("side", "i1"), ("tick", "i8"),
                                      ("lots", "i8"), ("price", "f8"), ("qty", "f8"),
                                      ("maker", "?")])
    out["ts_ns"] = fills["ts_ns"]
    out["side"] = fills["side"]
    out["tick"] = np.round(fills["price"] / instrument.tick_size).astype(np.int64)
    out["lots"] = np.round(fills["qty"] / instrument.lot_size).astype(np.int64)
    out["price"] = fills["price"]
    out["qty"] = fills["qty"]
    out["maker"] = fills["is_maker"]
    return out[np.lexsort((out["tick"], out["side"], out["ts_ns"]))]


def first_divergence(ours: np.ndarray, oracle: np.ndarray) -> str | None:
    """A readable description of the first differing fill, or None if the sequences agree."""
    n = min(len(ours), len(oracle))
    keys = ("ts_ns", "side", "tick", "lots", "maker")
    bad = [i for i in range(n) if any(ours[i][k] != oracle[i][k] for k in keys)
           or ours[i]["price"] != oracle[i]["price"] or ours[i]["qty"] != oracle[i]["qty"]]
    if not bad and len(ours) == len(oracle):
        return None
    i = bad[0] if bad else n
    ctx = slice(max(0, i - 2), i + 3)
    return (f"{len(ours)} mmopt fills vs {len(oracle)} hftbacktest fills; first difference at "
            f"#{i}\n  mmopt:       {ours[ctx].tolist()}\n  hftbacktest: {oracle[ctx].tolist()}")


def assert_same(ours: Any, oracle: OracleResult, instrument: Instrument, label: str) -> None:
    a = _normalise(ours.fills, instrument)
    b = _normalise(oracle.fills, instrument)
    diff = first_divergence(a, b)
    assert diff is None, f"{label}: {diff}"
    lot = instrument.lot_size
    assert round(ours.position / lot) == round(oracle.position / lot), label
    assert abs(ours.position - oracle.position) <= 1e-9 * lot, label
    tol = 1e-12 * max(oracle.trading_value, 1e-300)
    assert abs(ours.balance - oracle.balance) <= tol, (label, ours.balance, oracle.balance)
    assert abs(ours.fees - oracle.fee) <= tol, (label, ours.fees, oracle.fee)
    print(f"{label}: {len(a)} fills identical; position {ours.position:.10g}; balance "
          f"{ours.balance!r} vs {oracle.balance!r}; fees {ours.fees!r} vs {oracle.fee!r}")


@pytest.mark.parametrize("step_ms", STEPS_MS)
def test_synthetic_shard(engine: Engine, synth_stream: Stream, step_ms: int) -> None:
    assert len(synth_stream.events) >= 200_000
    ours, oracle = run_pair(engine, synth_stream, step_ms * 1_000_000, LATENCY_NS, LATENCY_NS)
    assert len(oracle.fills) > 50  # the comparison has something to compare
    assert_same(ours, oracle, synth_stream.instrument, f"synth {step_ms} ms")


@pytest.mark.parametrize("step_ms", STEPS_MS)
def test_adversarial_stream(engine: Engine, adversarial_stream: Stream, step_ms: int) -> None:
    ours, oracle = run_pair(engine, adversarial_stream, step_ms * 1_000_000, LATENCY_NS,
                            LATENCY_NS)
    assert len(oracle.fills) > 50
    assert_same(ours, oracle, adversarial_stream.instrument, f"adversarial {step_ms} ms")


@pytest.mark.parametrize("step_ms", STEPS_MS)
def test_real_shard(engine: Engine, real_stream: Stream, step_ms: int) -> None:
    ours, oracle = run_pair(engine, real_stream, step_ms * 1_000_000, LATENCY_NS, LATENCY_NS)
    assert len(oracle.fills) > 50
    assert_same(ours, oracle, real_stream.instrument, f"{real_stream.name} {step_ms} ms")


@pytest.mark.parametrize(("entry_ns", "resp_ns", "decide_on_fill"),
                         [(0, 0, True), (3_000_000, 7_000_000, True), (LATENCY_NS, LATENCY_NS,
                                                                      False)])
def test_latency_and_trigger_variants(engine: Engine, adversarial_stream: Stream, entry_ns: int,
                                      resp_ns: int, decide_on_fill: bool) -> None:
    ours, oracle = run_pair(engine, adversarial_stream, 100_000_000, entry_ns, resp_ns,
                            decide_on_fill)
    assert_same(ours, oracle, adversarial_stream.instrument,
                f"adversarial 100 ms entry {entry_ns} resp {resp_ns} on_fill {decide_on_fill}")


def with_feed_latency(stream: Stream, seed: int, null_share: float) -> Stream:
    """The stream with exchange times 0.5-20 ms (jittered: rows change order between the two
    clocks) before a local clock that runs 1.27 s behind; ``null_share`` of them null."""
    rng = np.random.default_rng(seed)
    events = stream.events.copy()
    latency = rng.integers(500_000, 20_000_000, len(events))
    events["exch_ts_ns"] = events["ts_ns"] - latency + 1_270_000_000
    events["exch_ts_ns"][rng.random(len(events)) < null_share] = -1
    return Stream(f"{stream.name}+feed_latency", events, stream.instrument)


@pytest.mark.parametrize("step_ms", (10, 100))
@pytest.mark.parametrize("null_share", (0.0, 0.3))
def test_feed_latency_two_clocks(engine: Engine, adversarial_stream: Stream, step_ms: int,
                                 null_share: float) -> None:
    """Two clocks, rows reordered between them, some exchange times estimated."""
    stream = with_feed_latency(adversarial_stream, seed=step_ms, null_share=null_share)
    ours, oracle = run_pair(engine, stream, step_ms * 1_000_000, LATENCY_NS, LATENCY_NS)
    assert ours.two_clocks and ours.local_clock_shift_ns > 1_000_000_000
    assert len(oracle.fills) > 50
    assert_same(ours, oracle, stream.instrument, f"{stream.name} {step_ms} ms null {null_share}")


@pytest.mark.parametrize("base_ns", (0, 5_000_000))
def test_feed_latency_base_is_honoured(engine: Engine, adversarial_stream: Stream,
                                       base_ns: int) -> None:
    stream = with_feed_latency(adversarial_stream, seed=3, null_share=0.0)
    ours, oracle = run_pair(engine, stream, 100_000_000, LATENCY_NS, LATENCY_NS,
                            feed_latency_base_ns=base_ns)
    assert_same(ours, oracle, stream.instrument, f"{stream.name} base {base_ns}")


@pytest.mark.parametrize(("security", "kinds", "clocks"), [
    ("binance-usdm.BTCUSDT", (1, 2, 3, 4, 5), "auto"),  # two clocks on every row
    ("binance-spot.BTCUSDT", (1, 2, 3), "auto"),  # NBBO-style: quotes without exchange time
    ("binance-coinm.ETHUSD_PERP", (1, 2, 3, 4, 5), "local"),  # one clock, new book rules
])
def test_real_shard_clock_variants(engine: Engine, binance_root: Path, security: str,
                                   kinds: tuple[int, ...], clocks: str) -> None:
    events, instrument = load_real_shard(binance_root, security, "2024-08-08")
    stream = Stream(security, events[np.isin(events["kind"], kinds)], instrument)
    ours, oracle = run_pair(engine, stream, 100_000_000, LATENCY_NS, LATENCY_NS, clocks=clocks)
    assert ours.two_clocks == (clocks == "auto")
    assert len(oracle.fills) > 50
    assert_same(ours, oracle, instrument, f"{security} kinds {kinds} clocks {clocks}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_handmade_pins(engine: Engine, case: str) -> None:
    stream = Stream(case, rows(*CASES[case]), UNIT)
    for on_fill in (False, True):
        ours, oracle = run_pair(engine, stream, 10, 1, 1, on_fill)
        assert_same(ours, oracle, UNIT, f"{case} on_fill={on_fill}")


def test_taker_exit_walks_the_book_unlike_hftbacktest(engine: Engine) -> None:
    """On purpose: mmopt's taker exits walk the book; hftbacktest fills all at the best
    (pinned in test_hbt_semantics.test_hbt_taker_order_does_not_walk_the_book)."""
    spec = [(0, "bid_level", 100, 1), (0, "bid_level", 99, 5), (0, "bid_level", 98, 5),
            (0, "ask_level", 101, 5), (0, "ask_level", 102, 5),
            (20, "sell", 99, 1), (30, "sell", 99, 1), (40, "sell", 99, 1),
            (60, "ask_level", 103, 1), (70, "ask_level", 104, 1)]
    config = engine.config_type(step_ms=1e-5, entry_latency_ns=1, response_latency_ns=1,
                                end_flat=True)
    ours = engine.run_backtest(rows(*spec), UNIT, engine.strategy, engine.params, config)
    taker = ours.fills[~ours.fills["is_maker"]]
    assert taker["qty"].sum() == 3.0
    assert sorted(zip(taker["price"].tolist(), taker["qty"].tolist(), strict=True)) == [
        (99.0, 2.0), (100.0, 1.0)]
