"""The contract every registered strategy keeps, run through the engine on synthetic streams:
deterministic, never beyond its position limit (hypothesis over its search space), silent inside
auction windows, blind to the future, and unbroken by an empty book side."""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategy_helpers import Book, Ctx, decide

from mmopt.config._known import yaml_defaults
from mmopt.data._schema import EVENT_DTYPE, KIND_ASK, KIND_ASK_LEVEL, Instrument
from mmopt.data.synth import generate_events
from mmopt.engine import BacktestResult, EngineConfig, run_backtest
from mmopt.engine.clock import exchange_times
from mmopt.engine.order_actions import ORDER_SUBMIT
from mmopt.strategies import get_strategy, list_strategies

NAMES = list_strategies()
MS = 1_000_000
CONFIG = EngineConfig(step_ms=100.0, entry_latency_ns=MS, response_latency_ns=MS,
                      record_orders=True)


@functools.lru_cache(maxsize=8)
def _stream(seed: int, n: int = 3000) -> tuple[np.ndarray, Instrument]:
    """~11 minutes of one synthetic security from 09:00 UTC (its own auction ends 09:01)."""
    events, instrument = generate_events(n, seed=seed)
    events.flags.writeable = False
    return events, instrument


def _defaults(name: str) -> Any:
    """The params of conf/strategy/NAME.yaml (what `mmopt backtest strategy=NAME` runs)."""
    values = (yaml_defaults("strategy", name) or {}).get("params") or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_strategy(name).make_params(dict(values))


def _run(name: str, events: np.ndarray, instrument: Instrument, params: Any = None,
         config: EngineConfig = CONFIG) -> BacktestResult:
    params = _defaults(name) if params is None else params
    return run_backtest(events, instrument, get_strategy(name), params, config)


def _limit(params: Any) -> float:
    for key in ("max_position", "max_inventory"):
        if hasattr(params, key):
            return float(getattr(params, key))
    raise AssertionError(f"{type(params).__name__} has no position limit")


def _same_before(a: BacktestResult, b: BacktestResult, t: int) -> None:
    """Fills, order actions and equity points strictly before ``t`` are identical."""
    assert a.order_events is not None and b.order_events is not None
    for x, y in ((a.fills, b.fills), (a.order_events, b.order_events)):
        np.testing.assert_array_equal(x[x["ts_ns"] < t], y[y["ts_ns"] < t])
    ea = a.equity[:-1]  # the last row is the final state, not a grid point
    eb = b.equity[:-1]
    np.testing.assert_array_equal(ea[ea["ts_ns"] < t], eb[eb["ts_ns"] < t])


@pytest.mark.parametrize("name", NAMES)
def test_same_inputs_give_identical_outputs(name: str) -> None:
    events, instrument = _stream(1)
    first = _run(name, events, instrument)
    second = _run(name, events.copy(), instrument, params=_defaults(name))
    assert first.n_submitted > 0, "the stream must make the strategy act"
    for field in ("fills", "equity", "order_events"):
        assert getattr(first, field).tobytes() == getattr(second, field).tobytes(), field
    for field in ("n_submitted", "n_cancelled", "n_fills", "n_takers", "n_decisions", "cash",
                  "position", "fees", "net_pnl"):
        assert getattr(first, field) == getattr(second, field), field


def _space_values(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Hypothesis draws over conf/search/NAME.yaml, on top of conf/strategy/NAME.yaml."""
    base = dict((yaml_defaults("strategy", name) or {}).get("params") or {})
    space = (yaml_defaults("search", name) or {}).get("params") or {}
    draws: dict[str, st.SearchStrategy[Any]] = {}
    for key, spec in space.items():
        if spec["type"] == "categorical":
            draws[key] = st.sampled_from(list(spec["choices"]))
        elif spec["type"] == "int":
            step = int(spec.get("step") or 1)
            n = (int(spec["high"]) - int(spec["low"])) // step
            draws[key] = st.integers(0, n).map(lambda i, lo=int(spec["low"]), s=step: lo + i * s)
        else:
            draws[key] = st.floats(float(spec["low"]), float(spec["high"]))
    return st.fixed_dictionaries(draws).map(lambda d: {**base, **d})


@pytest.mark.parametrize("name", NAMES)
def test_position_never_exceeds_the_limit(name: str) -> None:
    strategy = get_strategy(name)

    @settings(max_examples=12, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(values=_space_values(name), seed=st.integers(0, 2),
           small_limit=st.integers(1, 3), use_small=st.booleans())
    def check(values: dict[str, Any], seed: int, small_limit: int, use_small: bool) -> None:
        if use_small:  # a tight limit makes the guard bind often
            for key in ("max_position", "max_inventory"):
                if key in values:
                    values[key] = small_limit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params = strategy.make_params(values)
        events, instrument = _stream(seed)
        result = _run(name, events, instrument, params)
        limit = _limit(params) * instrument.lot_size * (1 + 1e-9)
        assert result.max_abs_position <= limit, (values, result.max_abs_position)
        assert np.all(np.abs(result.fills["position_after"]) <= limit)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_no_quotes_inside_auction_windows(name: str) -> None:
    events, instrument = _stream(2)
    config = dataclasses.replace(CONFIG, open_auction_end="09:02", close_auction_start="09:08")
    result = _run(name, events, instrument, config=config)
    day = events["ts_ns"][0] - events["ts_ns"][0] % (86_400 * 10**9)
    opens = day + (9 * 3600 + 120) * 10**9
    closes = day + (9 * 3600 + 480) * 10**9
    assert result.order_events is not None
    submits = result.order_events[result.order_events["action"] == ORDER_SUBMIT]
    assert submits.shape[0] > 0, "the strategy must quote between the auctions"
    assert np.all((submits["ts_ns"] >= opens) & (submits["ts_ns"] < closes))
    # what rests at the close is cancelled at the first decision (one step + latencies)
    eq = result.equity
    quiet = (eq["ts_ns"] < opens) | (eq["ts_ns"] >= closes + 100 * MS + 2 * MS)
    assert not eq["bid_quoted"][quiet].any() and not eq["ask_quoted"][quiet].any()
    assert not np.any(result.fills["ts_ns"] >= closes + 100 * MS + 2 * MS)


def _check_no_look_ahead(name: str, params: Any) -> None:
    """Outputs before t are the same when the events after t are cut off or changed."""
    events, instrument = _stream(3)
    full = _run(name, events, instrument, params)
    k = events.shape[0] // 2
    cut = int(events["ts_ns"][k])
    # two clocks (the synthetic data has a feed latency): the exchange applies the rows received
    # from ``cut`` on at their exchange times, earlier than their receipt; nothing the strategy
    # does can depend on them before the first of those times (docs/engine.md "Clocks")
    exch = exchange_times(events["ts_ns"], events["exch_ts_ns"])
    first_exch = cut if exch is None else int(exch.exch_ts[events["ts_ns"] >= cut].min())
    kept = events[events["ts_ns"] < cut]
    last_kept = min(int(kept["ts_ns"][-1]), first_exch)
    truncated = _run(name, kept, instrument, params)  # the data now ends earlier
    _same_before(full, truncated, last_kept)
    assert full.fills[full.fills["ts_ns"] < last_kept].shape[0] > 0, "compare some fills"
    altered = events.copy()
    tail = altered["ts_ns"] >= cut
    altered["qty"][tail] *= 3.0  # a different future: thicker book, bigger trades
    _same_before(full, _run(name, altered, instrument, params), min(cut, first_exch))


@pytest.mark.parametrize("name", NAMES)
def test_no_look_ahead(name: str) -> None:
    _check_no_look_ahead(name, _defaults(name))


def test_no_look_ahead_with_the_time_left_to_the_session_end() -> None:
    """avellaneda_stoikov with ``horizon_s: null`` reads the session end (ctx C_SESSION_END_T):
    with no close auction / flatten time it is the end of the UTC day, not the data's last
    event, so cutting the stream short changes nothing before the cut."""
    params = dataclasses.replace(_defaults("avellaneda_stoikov"), horizon_s=None)
    _check_no_look_ahead("avellaneda_stoikov", params)


def _without_asks(events: np.ndarray, t1: int, t2: int) -> np.ndarray:
    """The ask side emptied at t1 (a NaN `ask` row) and left empty until t2."""
    kind = events["kind"]
    inside = (events["ts_ns"] >= t1) & (events["ts_ns"] < t2)
    keep = events[~(inside & ((kind == KIND_ASK) | (kind == KIND_ASK_LEVEL)))]
    clear = np.zeros(1, dtype=EVENT_DTYPE)
    clear["ts_ns"] = t1
    clear["exch_ts_ns"] = -1
    clear["price"] = math.nan
    clear["kind"] = KIND_ASK
    at = int(np.searchsorted(keep["ts_ns"], t1))
    return np.concatenate([keep[:at], clear, keep[at:]])


@pytest.mark.parametrize("name", NAMES)
def test_survives_an_empty_book_side(name: str) -> None:
    events, instrument = _stream(4)
    t0 = int(events["ts_ns"][0])
    stream = _without_asks(events, t0 + 200 * 10**9, t0 + 260 * 10**9)
    result = _run(name, stream, instrument)
    params = _defaults(name)
    assert result.order_events is not None
    submits = result.order_events[result.order_events["action"] == ORDER_SUBMIT]
    assert np.all(np.isfinite(submits["price"][submits["price"] == submits["price"]]))
    assert np.all(np.isfinite(result.fills["price"]))
    assert result.max_abs_position <= _limit(params) * instrument.lot_size * (1 + 1e-9)
    assert math.isfinite(result.net_pnl)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("book", [Book(ask_tick=None), Book(bid_tick=None),
                                  Book(bid_tick=None, ask_tick=None)],
                         ids=["no-ask", "no-bid", "empty"])
def test_decide_with_an_empty_side_wants_only_finite_quotes(name: str, book: Book) -> None:
    strategy = get_strategy(name)
    for position in (0.0, 0.3, -0.3):
        d = decide(strategy, _defaults(name), Ctx(book=book, position=position, vol=1e-4,
                                                  vol_base=1e-4, avg_entry=100.0))
        wanted = d.quotes[:, :, 1] > 0.0
        assert np.all(np.isfinite(d.quotes[:, :, 0][wanted]))
        assert not np.any(np.isnan(d.act))
        if book.ask_tick is None:  # nothing is wanted on an empty side
            assert not wanted[1].any()
        if book.bid_tick is None:
            assert not wanted[0].any()
