"""Range checks and risk warnings for the params types of the quoting strategies.

Every failure is a ConfigError that names ``strategy.params.NAME``, the strategy, the allowed
range and the value received; risky-but-legal settings emit a ``StrategyParamWarning``.
Each params field documents its own range in ``field(metadata={"range": ..., "help": ...})``,
which ``mmopt strategies`` prints.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import field
from typing import Any

import numpy as np

from mmopt.errors import ConfigError

__all__ = [
    "StrategyParamWarning",
    "check_flag",
    "check_int",
    "check_range",
    "check_sample_s",
    "feature_vector",
    "param_field",
    "reward_risk_warning",
    "warn_param",
]


class StrategyParamWarning(UserWarning):
    """A legal but risky strategy setting (the message says why)."""


def _fail(strategy: str, name: str, allowed: str, value: object) -> ConfigError:
    return ConfigError(
        f"strategy.params.{name} ({strategy}): expected {allowed}, got {value!r}"
    )


def _describe(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open or math.isinf(high) else "]"
    hi = "inf" if math.isinf(high) else f"{high:g}"
    return f"a number in {left}{low:g}, {hi}{right}"


def check_range(strategy: str, name: str, value: object, low: float, high: float = math.inf,
                *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in [low, high] (open ends when asked); else ConfigError."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    inside = (
        math.isfinite(x)
        and (x > low if low_open else x >= low)
        and (x < high if high_open else x <= high)
    )
    if not inside:
        raise _fail(strategy, name, _describe(low, high, low_open, high_open), value)
    return x


def check_int(strategy: str, name: str, value: object, low: int, high: int | None = None) -> int:
    """A whole number in [low, high] (a float with no fraction is accepted)."""
    allowed = f"a whole number in [{low}, {high}]" if high is not None \
        else f"a whole number >= {low}"
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value != int(value):
        raise _fail(strategy, name, allowed, value)
    n = int(value)
    if n < low or (high is not None and n > high):
        raise _fail(strategy, name, allowed, value)
    return n


def check_flag(strategy: str, name: str, value: object) -> bool:
    """true or false (YAML booleans), nothing else."""
    if not isinstance(value, bool | np.bool_):
        raise _fail(strategy, name, "true or false", value)
    return bool(value)


def warn_param(strategy: str, name: str, message: str) -> None:
    """Emit a StrategyParamWarning naming the parameter."""
    warnings.warn(f"strategy.params.{name} ({strategy}): {message}", StrategyParamWarning,
                  stacklevel=4)


def reward_risk_warning(strategy: str, take_profit_pct: float, stop_loss_pct: float) -> None:
    """Warn when the take-profit is smaller than the stop-loss: the break-even win rate is
    stop / (stop + take) (e.g. "reward:risk 0.45:1 needs a 69 % win rate")."""
    if take_profit_pct >= stop_loss_pct:
        return
    ratio = take_profit_pct / stop_loss_pct
    win_rate = 100.0 * stop_loss_pct / (stop_loss_pct + take_profit_pct)
    warn_param(
        strategy, "take_profit_pct",
        f"take-profit {take_profit_pct:g} % < stop-loss {stop_loss_pct:g} %: "
        f"reward:risk {ratio:.2f}:1 needs a {win_rate:.0f} % win rate to break even (before fees)",
    )


def check_sample_s(strategy: str, name: str, value: object) -> float:
    """A volatility sampling grid in seconds: 0 (a return per mid change) or [0.01, 3600]."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (x == 0.0 or 0.01 <= x <= 3600.0):
        raise _fail(strategy, name, "0 (every mid change) or a number in [0.01, 3600]", value)
    return x


def feature_vector(vol_halflife_s: float, baseline_halflife_s: float = 600.0,
                   vol_window_s: float = 60.0, ofi_window_s: float = 10.0,
                   ofi_z_window_s: float = 300.0, vol_sample_s: float = 0.0) -> np.ndarray:
    """The engine's feature params vector (mmopt.engine._features P_* order); vol_sample_s 0 =
    a return per mid change, > 0 = returns of the mid sampled on that grid (seconds)."""
    return np.array([vol_halflife_s, baseline_halflife_s, vol_window_s, ofi_window_s,
                     ofi_z_window_s, vol_sample_s], dtype=np.float64)


def param_field(default: Any, allowed: str, help_text: str) -> Any:
    """A dataclass field whose metadata ``mmopt strategies`` prints."""
    return field(default=default, metadata={"range": allowed, "help": help_text})

