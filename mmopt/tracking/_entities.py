"""Plain key/value rows for MLflow: flat config params, a trial's params/metrics/tags, chunks.

No MLflow import here: rows are ``(key, value)`` tuples; ``mlflow.py`` wraps them in
``Metric`` / ``Param`` / ``RunTag`` right before ``log_batch``. Keys are made valid MLflow
names (``[A-Za-z0-9_.- ]``, at most 250 chars), values are truncated to MLflow's limits, and
non-finite metric values are dropped (their names are listed in the ``nonfinite_metrics`` tag).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mmopt.tracking._protocol import SweepInfo, TrialRecord

__all__ = [
    "MAX_ENTITIES_PER_BATCH",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "MAX_PARAM_VALUE",
    "MAX_TAG_VALUE",
    "MLFLOW_STATUS",
    "RunRows",
    "chunk_rows",
    "clean_key",
    "clip",
    "flat_params",
    "metric_key",
    "sweep_tags",
    "trial_rows",
]

# MLflow 3.x limits (mlflow.utils.validation): checked by tests/tracking against the install.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000

# Optuna trial state -> MLflow run status ("KILLED" is the nearest MLflow word for pruned).
MLFLOW_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}

M = TypeVar("M")
P = TypeVar("P")

SECURITY_PREFIX = "sec."
OBJECTIVE_PREFIX = "objective."
_BAD_KEY_CHARS = re.compile(r"[^\w.\- ]")
_TRUNCATED = "...[truncated]"


@dataclass(frozen=True, slots=True)
class RunRows:
    """What one run gets: metrics, params and tags as (key, value) rows, keys unique."""

    metrics: tuple[tuple[str, float], ...]
    params: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]


def clean_key(key: str) -> str:
    """A valid MLflow param/metric/tag key: other characters become '_', at most 250 chars."""
    cleaned = _BAD_KEY_CHARS.sub("_", str(key)).strip() or "_"
    if cleaned.startswith(".") or cleaned == ".":
        cleaned = "_" + cleaned
    return cleaned[:MAX_KEY]


def clip(value: Any, limit: int) -> str:
    """``str(value)`` cut to ``limit`` characters, with a marker when cut."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    return text[: limit - len(_TRUNCATED)] + _TRUNCATED


def metric_key(name: str, security: str | None = None) -> str:
    """``net_pnl`` or, for one security, ``sec.<security>.net_pnl``."""
    return clean_key(name if security is None else f"{SECURITY_PREFIX}{security}.{name}")


def flat_params(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested mapping as ``{"a.b.c": "value"}``; lists are written as ``[x, y]``."""
    out: dict[str, str] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flat_params(value, dotted + "."))
        else:
            out[clean_key(dotted)] = clip(_plain_text(value), MAX_PARAM_VALUE)
    return out


def _plain_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain_text(v) for v in value) + "]"
    return "null" if value is None else str(value)


def sweep_tags(info: SweepInfo, storage_label: str) -> dict[str, str]:
    """The parent run's identifying tags (also used to find it again on resume)."""
    tags = {
        "mmopt.role": "sweep",
        "mmopt.study_name": info.study_name,
        "mmopt.storage_url": storage_label,
        "mmopt.config_id": info.config_id,
        "mmopt.data_fingerprint": info.data_fingerprint,
        "mmopt.code_version": info.code_version,
        "mmopt.data_root": info.data_root,
        "mmopt.strategy": info.run.strategy.name,
        "mmopt.objectives": ",".join(info.objective_names),
        "mmopt.directions": ",".join(info.directions),
    }
    return {k: clip(v, MAX_TAG_VALUE) for k, v in tags.items()}


def trial_rows(record: TrialRecord, objective_names: Sequence[str]) -> RunRows:
    """Params, metrics and tags of one trial's child run (see module docstring for names)."""
    metrics: dict[str, float] = {}
    dropped: list[str] = []

    def put(key: str, value: float) -> None:
        number = float(value)
        if math.isfinite(number):
            metrics[key] = number
        else:
            dropped.append(key)

    for name, value in record.metrics:
        put(metric_key(name), value)
    for sec in record.per_security:
        for name, value in sec.metrics:
            put(metric_key(name, sec.security), value)
    for i, value in enumerate(record.values or ()):
        label = objective_names[i] if i < len(objective_names) else str(i)
        put(clean_key(OBJECTIVE_PREFIX + label), value)
    for i, value in enumerate(record.constraints):
        put(clean_key(f"constraint.{i}"), value)
    put("trial_duration_s", record.duration_s)
    put("shards_evaluated", float(record.n_shards))

    merged = {**dict(record.strategy_params), **dict(record.params)}
    params = tuple((clean_key(k), clip(_plain_text(v), MAX_PARAM_VALUE)) for k, v in merged.items())
    tags = {
        "trial_number": str(record.number),
        "trial_state": record.state,
        "feasible": str(record.feasible).lower(),
        "searched_params": ",".join(name for name, _ in record.params),
    }
    if record.error:
        tags["error"] = record.error
    if dropped:
        tags["nonfinite_metrics"] = ",".join(dropped)
    clipped = tuple((k, clip(v, MAX_TAG_VALUE)) for k, v in tags.items())
    return RunRows(tuple(metrics.items()), params, clipped)


def chunk_rows(
    metrics: Sequence[M], params: Sequence[P], tags: Sequence[P]
) -> Iterator[tuple[list[M], list[P], list[P]]]:
    """Split rows into ``log_batch`` calls within MLflow's per-call limits (usually one call)."""
    m, p, t = list(metrics), list(params), list(tags)
    while m or p or t:
        take_p = p[:MAX_PARAMS_TAGS_PER_BATCH]
        take_t = t[:MAX_PARAMS_TAGS_PER_BATCH]
        room = MAX_ENTITIES_PER_BATCH - len(take_p) - len(take_t)
        take_m = m[: min(room, MAX_METRICS_PER_BATCH)]
        yield take_m, take_p, take_t
        m, p, t = m[len(take_m) :], p[len(take_p) :], t[len(take_t) :]
