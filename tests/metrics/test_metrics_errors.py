"""Every bad input is refused with a message naming the array/row/setting and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_builders import LINEAR, make_equity, make_fills

from mmopt.errors import ConfigError, DataError
from mmopt.metrics import OrderCounts, compute_shard_metrics

ROWS = [(5.0, 1, 100.0, 2.0, 0.0, 100.0, True), (15.0, -1, 101.0, 2.0, 0.0, 101.0, True)]


def _run(fills=None, equity=None, orders=None, max_position=4.0, **kw):
    fills = make_fills(ROWS) if fills is None else fills
    equity = make_equity([0, 30, 60], [0, 1, 2]) if equity is None else equity
    return compute_shard_metrics(
        fills, equity, orders or OrderCounts(2), LINEAR, max_position, **kw
    )


def test_valid_input_passes():
    assert _run().fills == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.__setitem__("qty", [2.0, 0.0]), r"fills: qty must be finite and > 0; row 1"),
        (lambda f: f.__setitem__("price", [np.nan, 1.0]), r"fills: price must be finite.*row 0"),
        (lambda f: f.__setitem__("side", [1, 0]), r"fills: side must be \+1 \(buy\) or -1.*row 1"),
        (lambda f: f.__setitem__("fee", [np.inf, 0]), r"fills: fee must be finite.*row 0"),
        (lambda f: f.__setitem__("ts_ns", f["ts_ns"][::-1]), r"fills: ts_ns decreases at row 1"),
        (
            lambda f: f.__setitem__("position_after", [2.0, 1.0]),
            r"fills: position_after at row 1 \(1.0\) is not .* plus side\*qty \(-2.0\)",
        ),
        (
            lambda f: f.__setitem__("ts_ns", f["ts_ns"] + 50 * 10**9),
            r"fills: row 1 at ts_ns .* lies outside the equity series",
        ),
    ],
)
def test_bad_fills(mutate, message):
    fills = make_fills(ROWS)
    mutate(fills)
    with pytest.raises(DataError, match=message):
        _run(fills=fills)


def test_bad_equity():
    with pytest.raises(DataError, match="equity: the series is empty"):
        _run(fills=make_fills([]), equity=make_equity([], []))
    eq = make_equity([0, 30, 20], [0, 1, 2])
    with pytest.raises(DataError, match=r"equity: ts_ns decreases at row 2 \(.*\); sort"):
        _run(equity=eq)
    eq = make_equity([0, 30, 60], [0, np.nan, 2])
    with pytest.raises(DataError, match="equity: field 'equity' is not finite at row 1"):
        _run(equity=eq)


def test_wrong_arrays():
    with pytest.raises(DataError, match=r"fills: expected a numpy structured array of mmopt"):
        _run(fills=np.zeros(3))
    eq = make_equity([0, 30, 60], [0, 1, 2])
    fields = [n for n in eq.dtype.names if n != "ask_quoted"]
    with pytest.raises(DataError, match=r"equity: missing field.* ask_quoted; build the array"):
        _run(equity=eq[fields])


def test_bad_settings():
    with pytest.raises(ConfigError, match="max_position must be > 0"):
        _run(max_position=0.0)
    with pytest.raises(ConfigError, match="max_position must be a finite number"):
        _run(max_position=float("nan"))
    with pytest.raises(ConfigError, match="interval_s must be at least 1 ns"):
        _run(interval_s=0.0)
    with pytest.raises(DataError, match="quoted_half_spread: shape \\(3,\\) does not match"):
        _run(quoted_half_spread=np.ones(3))
    with pytest.raises(DataError, match="quoted_half_spread: row 1 is infinite"):
        _run(quoted_half_spread=np.array([0.1, np.inf]))
    _run(quoted_half_spread=np.array([0.1, -0.1]))  # a quote through the mid is legal


def test_bad_order_counts():
    with pytest.raises(DataError, match="order counts: cancelled must be an integer >= 0"):
        OrderCounts(3, cancelled=-1)
    with pytest.raises(DataError, match=r"order counts: filled \(4\) exceeds submitted \(3\)"):
        OrderCounts(3, filled=4)
    with pytest.raises(DataError, match="submitted must be an integer"):
        OrderCounts(2.5)  # type: ignore[arg-type]
