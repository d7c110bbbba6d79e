"""``mmopt sweep -m``: Hydra's multirun sweep syntax expanded into one run per combination.

``strategy=avellaneda_stoikov,layered_grid data=binance,synthetic`` is four runs, in the order
Hydra's basic sweeper uses (the cartesian product, the first swept override varying slowest).
Every value form Hydra's basic sweeper accepts works: ``a,b``, ``choice(a,b)``, ``range(1,4)``,
``glob(*)`` for a config group. Each combination is composed (and checked) before the first one
runs, so a bad value stops the multirun before any work.

Each combination is its own study. Its name is the config's ``study.name`` (by default
``${strategy.name}-${data.name}``, which already differs per strategy and data); when two
combinations would share a name (the swept keys are not in it, e.g. ``-m
study.sampler.seed=0,1``), each gets the swept values appended, e.g. ``...-seed0``. The same
command resumes the same studies.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mmopt.errors import ConfigError

__all__ = ["Combination", "expand", "has_sweep"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Combination:
    """One run of a multirun: its overrides (as Hydra would pass them) and what it swept."""

    overrides: tuple[str, ...]
    swept: tuple[tuple[str, str], ...]  # (key, value) of each swept override, in order

    @property
    def label(self) -> str:
        """``strategy=layered_grid data=binance``: how the console names the combination."""
        return " ".join(f"{k}={v}" for k, v in self.swept)

    def name_suffix(self) -> str:
        """``layered_grid-seed0``: the swept values, to tell apart studies sharing a name."""
        parts = [value if "." not in key else f"{key.split('.')[-1]}{value}"
                 for key, value in self.swept]  # a group: its option; a key: name and value
        return _UNSAFE.sub("_", "-".join(parts))


def _parse(overrides: Sequence[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return list(OverridesParser.create().parse_overrides(list(overrides)))
    except Exception as exc:
        raise ConfigError(f"overrides: {exc} (fix: write key=value, a sweep as key=a,b)") from None


def has_sweep(overrides: Sequence[str]) -> bool:
    """True when some override sweeps (``key=a,b``): it needs ``-m``."""
    return any(o.is_sweep_override() for o in _parse(overrides))


def expand(overrides: Sequence[str]) -> list[Combination]:
    """Every combination of the swept overrides (one combination when nothing sweeps)."""
    fixed: list[list[tuple[str, tuple[str, str] | None]]] = []
    for o in _parse(overrides):
        if not o.is_sweep_override():
            fixed.append([(o.input_line, None)])
            continue
        key = o.get_key_element()
        try:
            values = list(o.sweep_string_iterator())
        except Exception as exc:
            raise ConfigError(
                f"override {o.input_line!r}: {exc} (fix: -m runs lists of values: a,b, "
                "choice(a,b), range(start,stop,step) or glob(*); not interval())") from None
        if not values:
            raise ConfigError(f"override {o.input_line!r} sweeps no value (fix: list at least "
                              "one)")
        fixed.append([(f"{key}={v}", (key, v)) for v in values])
    out = []
    for combo in itertools.product(*fixed):
        out.append(Combination(tuple(line for line, _ in combo),
                               tuple(kv for _, kv in combo if kv is not None)))
    return out
