"""What the strategy is shown (ctx) and how `bid`/`ask` rows build the book (hand-made rows)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_helpers import INST, T0, stream
from numba import njit

from mmopt.engine import EngineConfig, run_backtest
from mmopt.strategies import Strategy
from mmopt.strategies._checks import feature_vector
from mmopt.strategies.context import (
    C_BEST_ASK_TICK,
    C_BEST_BID_TICK,
    C_BID_QTY,
    C_FEAT_ELAPSED,
    C_MID,
    C_SESSION_END_T,
    C_TIME,
    DECIDE_SIG,
)

DAY_S = 86_400
# the probe keeps the ctx slots below, as seen by its last decision
_SLOTS = (C_TIME, C_SESSION_END_T, C_FEAT_ELAPSED, C_BEST_BID_TICK, C_BEST_ASK_TICK, C_BID_QTY,
          C_MID)


@njit(DECIDE_SIG, cache=True)
def _probe(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    """Copies the ctx slots of _SLOTS into its params vector (a test-only sink, see _Sink)."""
    params[0] = ctx[C_TIME]
    params[1] = ctx[C_SESSION_END_T]
    params[2] = ctx[C_FEAT_ELAPSED]
    params[3] = ctx[C_BEST_BID_TICK]
    params[4] = ctx[C_BEST_ASK_TICK]
    params[5] = ctx[C_BID_QTY]
    params[6] = ctx[C_MID]


class _Sink:
    """The probe's params: a float64 vector that run_backtest passes to decide as it is."""

    def __init__(self) -> None:
        self.vector = np.full(len(_SLOTS), -1.0)


def _seen(rows: list[tuple[float, str, float, float]], features: bool = False,
          **config: object) -> dict[int, float]:
    """ctx slots at the probe's last decision."""
    strategy = Strategy(name="probe", params_type=_Sink, decide=_probe,
                        to_vector=lambda p: p.vector, n_levels=1,
                        feature_params=(lambda p: feature_vector(30.0)) if features
                        else (lambda p: None))
    sink = _Sink()
    cfg = EngineConfig(**{"step_ms": 1.0, "decide_on_fill": False, **config})  # type: ignore[arg-type]
    run_backtest(stream(rows), INST, strategy, sink, cfg)
    assert sink.vector[0] >= 0.0, "the probe never decided"
    return dict(zip(_SLOTS, sink.vector.tolist(), strict=True))


BOOK = [(0, "bid", 100, 5), (0, "ask", 102, 5), (0, "bid_level", 99, 3)]


def test_session_end_without_rules_is_the_end_of_the_utc_day_not_the_last_event() -> None:
    """No look-ahead: with no close auction and no flatten time the strategy is told the UTC
    midnight after the first event (known in advance), whatever the data's last event is."""
    first_s = T0 / 1e9  # T0 is 1 s after a UTC midnight
    for last_ms in (10, 40):
        seen = _seen([*BOOK, (last_ms, "bid_level", 98, 1)])
        assert seen[C_SESSION_END_T] == pytest.approx(DAY_S - first_s, abs=1e-9)


@pytest.mark.parametrize(("config", "end_s"), [
    ({"close_auction_start": "00:00:30"}, 30.0),
    ({"flatten_at": "00:00:20"}, 20.0),
    ({"close_auction_start": "00:00:30", "flatten_at": "00:00:20"}, 20.0),
])
def test_session_end_is_the_close_auction_or_flatten_time(config: dict[str, str],
                                                           end_s: float) -> None:
    seen = _seen([*BOOK, (40, "bid_level", 98, 1)], **config)
    assert seen[C_SESSION_END_T] == pytest.approx(end_s - T0 / 1e9, abs=1e-9)


def test_feature_warm_up_time_is_in_ctx_and_nan_without_features() -> None:
    rows = [*BOOK, (5, "bid", 101, 1), (40, "bid_level", 98, 1)]
    with_features = _seen(rows, features=True)
    # the last decision is at 39 ms (one at 40 ms would have nothing left to happen after it);
    # the first valid mid is at 0 ms
    assert with_features[C_TIME] == pytest.approx(0.039, abs=1e-12)
    assert with_features[C_FEAT_ELAPSED] == pytest.approx(0.039, abs=1e-12)
    assert math.isnan(_seen(rows)[C_FEAT_ELAPSED])


def test_bid_row_is_the_best_price_and_clears_better_levels() -> None:
    """DESIGN and docs/data.md: a `bid` row says "the best bid is now P with
    size q", so a lower `bid` row removes every better bid level (quote-only data then gives
    the right book). hftbacktest gets the same book through explicit removals from the oracle
    (tests/conformance/test_hbt_semantics.py::test_best_bid_row_reaches_hftbacktest_as_explicit_removals
    and the `lower_bid_row` case of tests/conformance/handmade.py: both engines agree)."""
    seen = _seen([*BOOK, (5, "bid", 99, 7), (40, "bid_level", 97, 1)])
    assert seen[C_BEST_BID_TICK] == 99.0  # the level at 100 is gone
    assert seen[C_BID_QTY] == 7.0
    assert seen[C_MID] == 100.5
    removed = _seen([*BOOK, (5, "bid", 100, 0), (40, "bid_level", 97, 1)])
    assert removed[C_BEST_BID_TICK] == 99.0  # a best bid row without size removes its level
    assert removed[C_BID_QTY] == 3.0
    crossed = _seen([*BOOK, (5, "ask", 100, 2), (40, "bid_level", 97, 1)])
    assert crossed[C_BEST_ASK_TICK] == 100.0  # an ask at the best bid moves the best bid down
    assert crossed[C_BEST_BID_TICK] == 99.0


def test_ask_row_is_the_best_ask_too() -> None:
    """The mirror of the test above: a higher `ask` row removes the better ask level."""
    seen = _seen([*BOOK, (5, "ask", 103, 4), (40, "bid_level", 97, 1)])
    assert seen[C_BEST_ASK_TICK] == 103.0
    assert seen[C_MID] == 101.5
