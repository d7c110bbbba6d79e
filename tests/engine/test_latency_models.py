"""Order latency models on hand-made streams: exact arrival and ack times for each model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_helpers import INST, MS, SCRIPTED, T0, Script, run, stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmopt.engine import EngineConfig, run_backtest
from mmopt.engine.latency import feed_latency, read_latency_file
from mmopt.engine.order_actions import (
    ORDER_ARRIVE,
    ORDER_CANCEL_REQUEST,
    ORDER_CANCELLED,
    ORDER_SUBMIT,
)
from mmopt.errors import ConfigError, DataError

ROWS = [(0, "bid", 100.0, 5.0), (0, "ask", 102.0, 5.0), (10, "bid", 100.0, 6.0),
        (50, "ask", 102.0, 6.0), (3000, "bid", 100.0, 7.0)]
SUBMIT, ARRIVE, CANCEL_REQ, CANCELLED = (ORDER_SUBMIT, ORDER_ARRIVE, ORDER_CANCEL_REQUEST,
                                         ORDER_CANCELLED)


def _times(result, action: int) -> list[float]:
    ev = result.order_events
    return [(int(t) - T0) / MS for t in ev["ts_ns"][ev["action"] == action]]


def _write_latency(path: Path, rows: list[tuple[int, int, int]]) -> str:
    lines = ["req_ts_ns,exch_ts_ns,resp_ts_ns"] + [f"{a},{b},{c}" for a, b, c in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_constant_latency_arrival_and_ack() -> None:
    r = run(ROWS, Script(bid=99.0, bid_qty=1.0), entry_latency_ns=2 * MS,
            response_latency_ns=3 * MS)
    assert _times(r, SUBMIT) == [1.0]  # the first decision step (step 1 ms)
    assert _times(r, ARRIVE) == [3.0]
    assert r.acks is not None and [(int(t) - T0) / MS for t in r.acks["ts_ns"]] == [6.0]
    assert r.acks["latency_ns"].tolist() == [5 * MS]
    assert r.ack_latency_p50_ns == r.ack_latency_p99_ns == 5 * MS
    assert r.latency_model == "constant(entry=2ms,response=3ms)"


def test_data_latency_is_interpolated(tmp_path: Path) -> None:
    # entry latency 2 ms at T0, 6 ms at T0+10 ms; response 1 ms at exch T0+2, 3 ms at T0+16
    path = _write_latency(tmp_path / "lat.csv", [
        (T0, T0 + 2 * MS, T0 + 3 * MS), (T0 + 10 * MS, T0 + 16 * MS, T0 + 19 * MS)])
    r = run(ROWS, Script(bid=99.0, bid_qty=1.0), latency_model="data", latency_file=path)
    # sent at 1 ms: entry 2 + 4 * 1/10 = 2.4 ms -> arrives at 3.4 ms;
    # response at exch 3.4 ms: 1 + 2 * 1.4/14 = 1.2 ms -> ack at 4.6 ms
    assert _times(r, ARRIVE) == [3.4]
    assert r.acks["latency_ns"].tolist() == [3_600_000]
    # outside the file's span the first / last row's latency holds
    late = run(ROWS, Script(bid=99.0, bid_qty=1.0, cancel_at=0.1), latency_model="data",
               latency_file=path)
    assert _times(late, CANCELLED) == [100.0 + 6.0]  # cancel sent at 100 ms, entry 6 ms
    assert "data(" in late.options


def test_feed_latency_model_steps_with_the_feed() -> None:
    events = stream(ROWS)
    events["exch_ts_ns"][:] = -1
    events["exch_ts_ns"][0] = T0 - 5 * MS  # feed latency 5 ms from 0 ms
    events["exch_ts_ns"][2] = T0 + 7 * MS  # 3 ms from 10 ms
    # one clock (the strategy and the exchange both on ts_ns), where the engine has the choice
    one_clock = {"clocks": "local"} if "clocks" in EngineConfig.__dataclass_fields__ else {}
    cfg = EngineConfig(step_ms=1.0, decide_on_fill=False, record_orders=True,
                       latency_model="feed", feed_latency_mult=2.0, entry_latency_ns=1 * MS,
                       response_latency_ns=MS // 2, **one_clock)  # type: ignore[arg-type]
    r = run_backtest(events, INST, SCRIPTED, Script(bid=99.0, bid_qty=1.0), cfg)
    # sent at 1 ms: 1 + 2 x 5 = 11 ms -> arrives at 12 ms; ack: 0.5 + 2 x 3 = 6.5 ms later
    assert _times(r, ARRIVE) == [12.0]
    assert r.acks["latency_ns"].tolist() == [17_500_000]


def test_feed_latency_removes_a_negative_clock_offset() -> None:
    ts = np.array([10, 20, 30], dtype=np.int64) * MS
    exch = np.array([1280, 1288, -1], dtype=np.int64) * MS  # capture clock 1.27 s behind
    local, ex, lat = feed_latency(ts, exch)
    assert local.tolist() == [1280 * MS, 1290 * MS] and ex.tolist() == [1280 * MS, 1288 * MS]
    assert lat.tolist() == [0, 2 * MS]  # the offset is gone, the jitter kept
    assert feed_latency(ts, exch, 1271 * MS)[2].tolist() == [1 * MS, 3 * MS]  # a given shift


def test_feed_model_needs_exchange_times() -> None:
    with pytest.raises(DataError, match="exch_ts_ns"):
        run(ROWS, Script(bid=99.0, bid_qty=1.0), latency_model="feed")


def test_random_latency_is_seeded_and_exact_without_jitter() -> None:
    script = Script(bid=99.0, bid_qty=1.0)
    flat = run(ROWS, script, latency_model="random", latency_sigma=0.0,
               entry_latency_ns=2 * MS, response_latency_ns=3 * MS)
    assert flat.acks["latency_ns"].tolist() == [5 * MS]
    spiky = run(ROWS, script, latency_model="random", latency_sigma=0.0, latency_spike_prob=1.0,
                latency_spike_mult=10.0, entry_latency_ns=2 * MS, response_latency_ns=3 * MS)
    assert spiky.acks["latency_ns"].tolist() == [50 * MS]
    a = run(ROWS, script, latency_model="random", seed=3, entry_latency_ns=2 * MS,
            response_latency_ns=3 * MS)
    b = run(ROWS, script, latency_model="random", seed=3, entry_latency_ns=2 * MS,
            response_latency_ns=3 * MS)
    c = run(ROWS, script, latency_model="random", seed=4, entry_latency_ns=2 * MS,
            response_latency_ns=3 * MS)
    assert a.acks["latency_ns"].tolist() == b.acks["latency_ns"].tolist()
    assert a.acks["latency_ns"].tolist() != c.acks["latency_ns"].tolist()
    assert "seed=3" in a.latency_model


def test_latency_guard_pauses_and_resumes_quoting() -> None:
    script = Script(bid=99.0, bid_qty=1.0)
    slow = dict(entry_latency_ns=200 * MS, response_latency_ns=200 * MS,
                latency_guard_window_s=1.0)
    paused = run(ROWS, script, latency_guard_p99_ms=300.0, **slow)
    # the ack arrives at 401 ms with 400 ms > 300 ms: the guard stops quoting, the order is
    # cancelled at once (decision at 401 ms)
    assert _times(paused, CANCEL_REQ) == [401.0]
    kept = run(ROWS, script, latency_guard_p99_ms=500.0, **slow)
    assert _times(kept, CANCEL_REQ) == []
    assert "guard(p99<=300ms" in paused.options


def test_guard_resumes_when_the_window_has_no_slow_ack() -> None:
    from mmopt.strategies import PriceFollowParams, get_strategy

    rows = [*ROWS[:-1], (3000, "bid", 100.0, 7.0)]
    params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                               min_notional_before_quote=0.0)
    cfg = EngineConfig(step_ms=1.0, decide_on_fill=False, record_orders=True,
                       entry_latency_ns=200 * MS, response_latency_ns=200 * MS,
                       latency_guard_p99_ms=300.0, latency_guard_window_s=1.0)
    r = run_backtest(stream(rows), INST, get_strategy("price_follow"), params, cfg)
    submits = sorted(set(_times(r, SUBMIT)))
    # quotes at 1 ms; acks at 401 ms (400 ms > 300 ms) pause quoting; the slow acks leave the
    # 1 s window at 1401 ms and quoting resumes; the next acks (1801 ms) pause it again
    assert submits[:3] == [1.0, 1401.0, 2801.0]
    assert _times(r, CANCEL_REQ)[:2] == [401.0, 401.0]


def test_bad_latency_files_fail_before_any_work(tmp_path: Path) -> None:
    unordered = _write_latency(tmp_path / "a.csv", [(T0 + 5, T0 + 6, T0 + 7), (T0, T0 + 1, T0 + 2)])
    with pytest.raises(DataError, match=r"a\.csv: row 1: req_ts_ns .* out of order"):
        EngineConfig(latency_model="data", latency_file=unordered)
    negative = _write_latency(tmp_path / "b.csv", [(T0, T0 - 1, T0 + 2)])
    with pytest.raises(DataError, match=r"b\.csv: row 0: negative entry latency"):
        EngineConfig(latency_model="data", latency_file=negative)
    back = _write_latency(tmp_path / "c.csv", [(T0, T0 + 5, T0 + 4)])
    with pytest.raises(DataError, match=r"c\.csv: row 0: negative response latency"):
        read_latency_file(back)
    with pytest.raises(ConfigError, match="latency_file"):
        EngineConfig(latency_model="data")
    with pytest.raises(ConfigError, match="does not exist"):
        EngineConfig(latency_model="data", latency_file=str(tmp_path / "nope.csv"))
    with pytest.raises(ConfigError, match="latency_model"):
        EngineConfig(latency_model="warp")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entry=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    resp=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    cancel_at=st.floats(0.002, 0.2),
)
def test_never_at_exchange_before_entry_latency_nor_ack_before_send(
    tmp_path: Path, entry: list[int], resp: list[int], cancel_at: float
) -> None:
    n = min(len(entry), len(resp))
    req = [T0 + 20 * MS * k for k in range(n)]
    exch = [r + e * MS for r, e in zip(req, entry[:n], strict=True)]
    exch = list(np.maximum.accumulate(exch))  # exchange times in order, as the file requires
    rows = [(r, x, x + d * MS) for r, x, d in zip(req, exch, resp[:n], strict=True)]
    path = _write_latency(tmp_path / "p.csv", rows)
    data = [(k * 7.0, "bid" if k % 2 else "ask", 100.0 if k % 2 else 102.0, 1.0 + k % 3)
            for k in range(40)]
    r = run(data, Script(bid=99.0, bid_qty=1.0, ask=103.0, ask_qty=1.0, cancel_at=cancel_at),
            latency_model="data", latency_file=path)
    ev = r.order_events
    table = read_latency_file(path)
    entry_of = np.interp  # the reference: linear between rows, flat outside
    for oid in np.unique(ev["order_id"]):
        mine = ev[ev["order_id"] == oid]
        sent = int(mine["ts_ns"][mine["action"] == SUBMIT][0])
        lat = entry_of(sent, table.req_ts, table.exch_ts - table.req_ts)
        for t in mine["ts_ns"][mine["action"] == ARRIVE]:
            assert int(t) >= sent + lat - 1  # 1 ns: rounding of the reference
        acks = r.acks[r.acks["order_id"] == oid]
        arrived = mine["ts_ns"][mine["action"] == ARRIVE]
        for t in acks["ts_ns"]:
            assert int(t) >= sent
            assert arrived.shape[0] == 0 or int(t) >= int(arrived[0])
    assert (r.acks["latency_ns"] >= 0).all()
