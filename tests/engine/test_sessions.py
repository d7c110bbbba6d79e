"""Sessions in the venue's time zone: right across DST changes; no order of ours lives outside
the session, while pre/post-market rows still feed the book."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from engine_helpers import INST, KINDS, SCRIPTED, Script

from mmopt.data._schema import EVENT_DTYPE, Instrument
from mmopt.engine import EngineConfig, resolve_session, run_backtest
from mmopt.engine.order_actions import ORDER_CANCELLED, ORDER_SUBMIT
from mmopt.errors import ConfigError

MS = 1_000_000
NY = dict(session_tz="America/New_York", session_open="09:30", session_close="16:00")


def _utc_ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * 10**9


def _hour_utc(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%H:%M")


@pytest.mark.parametrize(
    ("before", "after", "opens"),
    [
        ("2024-03-08", "2024-03-11", ("14:30", "13:30")),  # EST -> EDT (2024-03-10)
        ("2024-11-01", "2024-11-04", ("13:30", "14:30")),  # EDT -> EST (2024-11-03)
    ],
)
def test_new_york_session_across_daylight_saving(before: str, after: str,
                                                 opens: tuple[str, str]) -> None:
    cfg = EngineConfig(**NY, open_auction_end="09:35", close_auction_start="15:50",
                       flatten_at="15:55")
    for day, open_utc in zip((before, after), opens, strict=True):
        first, last = _utc_ns(f"{day}T08:00:00"), _utc_ns(f"{day}T23:59:00")
        s = resolve_session(cfg, INST, first, last, _utc_ns(f"{day}T00:00:00"))
        assert s.date == dt.date.fromisoformat(day)
        assert _hour_utc(s.open) == open_utc
        shift = 0 if open_utc == "13:30" else 1  # EDT = UTC-4, EST = UTC-5
        assert _hour_utc(s.close) == f"{20 + shift}:00"
        assert _hour_utc(s.quote_start) == f"{13 + shift}:35"
        assert _hour_utc(s.quote_end) == f"{19 + shift}:50"
        assert _hour_utc(s.flatten) == f"{19 + shift}:55"


def test_session_date_is_the_one_the_shard_covers() -> None:
    # a UTC-dated shard from 00:00 to 23:59 UTC overlaps the New York session of its own date
    cfg = EngineConfig(**NY)
    s = resolve_session(cfg, INST, _utc_ns("2024-07-02T00:00:00"), _utc_ns("2024-07-02T23:59:00"),
                        _utc_ns("2024-07-02T00:00:00"))
    assert s.date == dt.date(2024, 7, 2) and _hour_utc(s.open) == "13:30"


def test_sessions_from_instruments_csv_columns_and_utc_fallback() -> None:
    ins = Instrument("LSE.X", 0.01, 1.0, time_zone="Europe/London", session_open="08:00",
                     session_close="16:30")
    s = resolve_session(EngineConfig(), ins, _utc_ns("2024-07-02T06:00:00"),
                        _utc_ns("2024-07-02T18:00:00"), _utc_ns("2024-07-02T00:00:00"))
    assert (_hour_utc(s.open), _hour_utc(s.close)) == ("07:00", "15:30")  # BST = UTC+1
    legacy = resolve_session(EngineConfig(open_auction_end="09:01"), INST,
                             _utc_ns("2024-07-02T09:00:00"), _utc_ns("2024-07-02T11:00:00"),
                             _utc_ns("2024-07-02T00:00:00"))
    assert legacy.date is None and _hour_utc(legacy.quote_start) == "09:01"


def test_unknown_time_zone_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"engine.session_tz: unknown time zone 'Mars/Base'"):
        EngineConfig(session_tz="Mars/Base")
    with pytest.raises(ConfigError, match="session_close must be later"):
        EngineConfig(**{**NY, "session_close": "09:00"})
    with pytest.raises(ConfigError, match="session_open"):
        EngineConfig(session_open="9h30")


def _stream(base: int, rows: list[tuple[float, str, float, float]]) -> np.ndarray:
    out = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for k, (ms, kind, price, qty) in enumerate(rows):
        side = 1 if kind == "buy" else -1 if kind == "sell" else 0
        out[k] = (base + round(ms * MS), -1, price, qty, 0, KINDS[kind], side, False)
    return out


def test_orders_live_only_inside_the_session() -> None:
    base = _utc_ns("2024-03-11T13:29:59")  # 1 s before the 09:30 EDT open
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 102.0, 1.0),
            (500, "sell", 99.0, 1.0),  # pre-market trade through 100: no order of ours yet
            (800, "bid", 101.0, 1.0),  # pre-market rows still build the book
            (61_500, "sell", 99.0, 1.0),  # 09:31:00.5: post-session trade through our bid
            (62_000, "bid", 101.0, 2.0)]
    cfg = EngineConfig(step_ms=1.0, decide_on_fill=False, record_orders=True, **{
        **NY, "session_close": "09:31"})
    r = run_backtest(_stream(base, rows), INST, SCRIPTED, Script(bid=100.0, bid_qty=1.0), cfg)
    ev = r.order_events
    submit = (ev["ts_ns"][ev["action"] == ORDER_SUBMIT] - base) / MS
    assert submit.tolist() == [1000.0]  # the first decision at the open, not before
    cancelled = (ev["ts_ns"][ev["action"] == ORDER_CANCELLED] - base) / MS
    assert cancelled.tolist() == [61_000.0]  # the exchange cancels it at the close
    assert r.n_fills == 0 and r.n_cancelled == 1
    at_open = r.equity[r.equity["ts_ns"] == base + 1000 * MS]
    assert at_open["mid"].tolist() == [101.5]  # the pre-market bid 101 is in the book
    assert r.session is not None and r.session.describe() == "America/New_York 2024-03-11"
    # without the session the same post-session trade fills our bid
    open_all = EngineConfig(step_ms=1.0, decide_on_fill=False, record_orders=True)
    assert run_backtest(_stream(base, rows), INST, SCRIPTED, Script(bid=100.0, bid_qty=1.0),
                        open_all).n_fills == 1


def test_orders_arriving_after_the_close_are_rejected() -> None:
    base = _utc_ns("2024-03-11T19:59:59")  # 1 s before the 16:00 EDT close
    rows = [(0, "bid", 100.0, 1.0), (0, "ask", 102.0, 1.0), (3000, "bid", 100.0, 2.0)]
    cfg = EngineConfig(step_ms=1.0, decide_on_fill=False, record_orders=True,
                       entry_latency_ns=2000 * MS, **NY)
    r = run_backtest(_stream(base, rows), INST, SCRIPTED, Script(bid=99.0, bid_qty=1.0), cfg)
    assert r.n_rejected == 1 and r.n_fills == 0  # sent at 19:59:59.001, arrives after 20:00
