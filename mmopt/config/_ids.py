"""The plain form of a RunConfig (the YAML's shape), its canonical JSON and its short id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from mmopt.config._types import (
    EngineSettings,
    ObjectiveConfig,
    RunConfig,
    SearchSpace,
    StrategyConfig,
)

__all__ = ["ID_EXCLUDES", "canonical_json", "config_id", "to_dict"]

# Keys that say where a run goes or how it is scheduled, not what it computes: results are the
# same bit for bit whatever they are (DESIGN: workers are pure functions of events and params).
# ``validation`` and ``selection`` choose what is re-run and reported, not what a trial computes
# (a walk-forward fold's study differs by its data.dates).
ID_EXCLUDES: tuple[str, ...] = ("executor", "tracking", "run_dir", "record", "study.storage",
                                "validation", "selection")


def to_dict(run: RunConfig) -> dict[str, Any]:
    """The config as plain data in the YAML's shape; ``from_hydra(to_dict(run)) == run``."""
    return {f.name: _plain(getattr(run, f.name)) for f in dataclasses.fields(run)}


def canonical_json(run: RunConfig, exclude: tuple[str, ...] = ID_EXCLUDES) -> str:
    """Sorted keys, no spaces, integral floats written as integers (5.0 == 5)."""
    data = to_dict(run)
    for dotted in exclude:
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return json.dumps(_normalise(data), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_id(run: RunConfig) -> str:
    """12 hex digits of the SHA-256 of the canonical JSON (without ``ID_EXCLUDES``)."""
    return hashlib.sha256(canonical_json(run).encode()).hexdigest()[:12]


def _plain(value: Any) -> Any:
    if isinstance(value, StrategyConfig):
        return {"name": value.name, "params": dict(value.params)}
    if isinstance(value, EngineSettings):
        return dict(value.values)
    if isinstance(value, SearchSpace):
        return {"strategy": value.strategy, "params": {p.name: _param(p) for p in value.params}}
    if isinstance(value, ObjectiveConfig):
        return {
            "name": value.name,
            "lambda": value.lambda_,
            "objectives": [
                {"name": o.name, "expr": o.expr, "direction": o.direction}
                for o in value.objectives
            ],
            "use_constraints": value.use_constraints,
            "kpi": _plain(value.kpi),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _param(p: Any) -> dict[str, Any]:
    if p.type == "categorical":
        return {"type": p.type, "choices": list(p.choices)}
    out = {"type": p.type, "low": p.low, "high": p.high, "log": p.log}
    if p.step is not None:
        out["step"] = p.step
    return out


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
