"""Plain key/value rows for MLflow: flat config params, a trial's params/metrics/tags, chunks.

No MLflow import here: rows are ``(key, value)`` tuples; ``mlflow.py`` wraps them in
``Metric`` / ``Param`` / ``RunTag`` right before ``log_batch``. Keys are made valid MLflow
names (``[A-Za-z0-9_.- ]``, at most 250 chars), values are truncated to MLflow's limits, and
non-finite metric values are dropped (their names are listed in the ``nonfinite_metrics`` tag).

A trial's run keeps the metrics a reader compares across trials (``TRIAL_METRICS``, the
objective values, ``kpi_failures``); every metric per security (and over all securities) goes
to the table ``securities.csv`` (``securities_csv``), one row per security.
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
    "OBJECTIVE_PREFIX",
    "SECURITIES_FILE",
    "TRIAL_METRICS",
    "RunRows",
    "chunk_rows",
    "clean_key",
    "clip",
    "flat_params",
    "metric_key",
    "run_name",
    "securities_csv",
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
# What a child run logs as metrics (over every shard the trial ran): PnL and risk, fills, and
# the KPI inputs (mmopt.metrics.KpiTargets). The rest is in the run's ``securities.csv``.
TRIAL_METRICS = (
    "net_pnl",
    "cvar95",
    "sharpe",
    "sortino",
    "max_drawdown",
    "fills",
    "fill_ratio",
    "cancel_ratio",
    "spread_captured",
    "rms_inventory_ratio",
    "ack_latency_p99_ms",
)
SECURITIES_FILE = "securities.csv"
ALL_SECURITIES = "ALL"
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

    values = record.metrics_dict()
    for name in TRIAL_METRICS:
        if name in values:
            put(metric_key(name), values[name])
    for i, value in enumerate(record.values or ()):
        label = objective_names[i] if i < len(objective_names) else str(i)
        put(clean_key(OBJECTIVE_PREFIX + label), value)
    if record.constraints:
        put("kpi_failures", float(sum(c > 0.0 for c in record.constraints)))
    put("trial_duration_s", record.duration_s)
    put("shards_evaluated", float(record.n_shards))

    merged = {**dict(record.strategy_params), **dict(record.params)}
    params = tuple((clean_key(k), clip(_plain_text(v), MAX_PARAM_VALUE)) for k, v in merged.items())
    tags = {
        "trial_number": str(record.number),
        "trial_state": record.state,
        "feasible": str(record.feasible).lower(),
        "searched_params": ",".join(name for name, _ in record.params),
        "mmopt.sample": "out_of_sample" if record.out_of_sample else "in_sample",
    }
    if record.fold is not None:
        tags["mmopt.fold"] = str(record.fold)
    if record.error:
        tags["error"] = record.error
    if dropped:
        tags["nonfinite_metrics"] = ",".join(dropped)
    clipped = tuple((k, clip(v, MAX_TAG_VALUE)) for k, v in tags.items())
    return RunRows(tuple(metrics.items()), params, clipped)


def run_name(record: TrialRecord) -> str:
    """``trial-7``; in a walk-forward ``fold1-trial-7``; a re-run ends in ``-oos``."""
    name = f"trial-{record.number}"
    if record.fold is not None:
        name = f"fold{record.fold}-{name}"
    return f"{name}-oos" if record.out_of_sample else name


def securities_csv(record: TrialRecord) -> str | None:
    """Every metric of the trial per security, and over all of them (first row ``ALL``), as
    CSV text; None when the trial has no metrics (failed before any shard)."""
    import csv
    import io

    rows = [(ALL_SECURITIES, record.metrics_dict())]
    rows += [(sec.security, sec.as_dict()) for sec in record.per_security]
    names: list[str] = []
    for _, values in rows:
        names += [n for n in values if n not in names]
    if not names:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["security", *names])
    for security, values in rows:
        writer.writerow([security, *(_csv_cell(values.get(n)) for n in names)])
    return out.getvalue()


def _csv_cell(value: float | None) -> str:
    return "" if value is None else repr(float(value))


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
