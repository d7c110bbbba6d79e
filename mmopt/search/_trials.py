"""Trials in flight: what each has gathered, and how it is told to Optuna and recorded.

Everything a trial learned is also kept on the Optuna trial (user attrs ``mmopt`` and
``error``), so that ``record_from_frozen`` rebuilds the same ``TrialRecord`` from storage.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from mmopt.config import ObjectiveConfig
from mmopt.metrics import ShardMetrics
from mmopt.metrics.slices import trial_slices
from mmopt.search._optuna_compat import set_constraints, tell_without_copy
from mmopt.search.mirror import ATTR_ERROR
from mmopt.search.objective import ParamSet, WorkSpec
from mmopt.search.scoring import Score, per_security, score
from mmopt.tracking import SecurityMetrics, TrialRecord

__all__ = [
    "ATTR_SLICES",
    "ATTR_SUMMARY",
    "LiveTrial",
    "record_from_frozen",
    "score_live",
    "stored_trial",
    "tell_trial",
]

ATTR_SUMMARY = "mmopt"  # user attr: metrics, per-security metrics, shards, duration
ATTR_SLICES = "slices"  # key in ATTR_SUMMARY: PnL per time slice + moments (TrialSlices)


@dataclass(slots=True, eq=False)
class LiveTrial:
    """One asked trial until it is told."""

    trial: optuna.Trial
    params: ParamSet
    started_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    shards: list[ShardMetrics] = field(default_factory=list)
    shard_ids: list[int] = field(default_factory=list)  # index of each shard in rung order
    intermediate: list[tuple[int, float]] = field(default_factory=list)
    error: str | None = None
    told: bool = False

    @property
    def number(self) -> int:
        return self.trial.number


def _summary_attr(live: LiveTrial, spec: WorkSpec, sc: Score | None, duration: float,
                  with_per_security: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n_shards": len(live.shards),
        "duration_s": duration,
        "strategy_params": spec.params_for(live.params),
    }
    if sc is not None:
        out["metrics"] = sc.metrics.as_dict()
        out[ATTR_SLICES] = trial_slices(live.shards).as_dict()  # for PBO / deflated Sharpe
        if with_per_security:
            out["per_security"] = {s.security: s.as_dict() for s in per_security(live.shards)}
    return out


def score_live(live: LiveTrial, state: TrialState, objective: ObjectiveConfig) -> Score | None:
    """What ``tell_trial`` tells: the pooled metrics, objectives and constraints (None: FAIL or
    nothing evaluated)."""
    if not live.shards or state == TrialState.FAIL:
        return None
    return score(live.shards, objective)


def tell_trial(
    study: optuna.Study,
    live: LiveTrial,
    state: TrialState,
    spec: WorkSpec,
    objective: ObjectiveConfig,
    *,
    with_per_security: bool = True,
    scored: Score | None = None,
) -> TrialRecord:
    """Score what ``live`` gathered, tell Optuna ``state`` (COMPLETE may turn into FAIL when an
    objective is NaN), and return the trial's record."""
    duration = time.perf_counter() - live.started
    if scored is None:
        scored = score_live(live, state, objective)
    sc = scored
    if state == TrialState.COMPLETE and sc is not None and sc.has_nan:
        used = sorted({m for o in objective.objectives for m in o.metrics
                       if math.isnan(sc.metrics.as_dict()[m])})
        live.error = f"objective is NaN (metric(s) {', '.join(used) or '?'} undefined on this data)"
        state = TrialState.FAIL
    trial = live.trial
    if state == TrialState.FAIL:
        trial.set_user_attr(ATTR_ERROR, live.error or "failed")
    elif sc is not None and sc.constraints:
        set_constraints(study, trial, sc.constraints)
    trial.set_user_attr(ATTR_SUMMARY, _summary_attr(live, spec, sc, duration, with_per_security))
    values = list(sc.values) if state == TrialState.COMPLETE and sc is not None else None
    tell_without_copy(study, trial, values, state)
    live.told = True
    return record_from_frozen(stored_trial(study, trial.number), started_at=live.started_at)


def stored_trial(study: optuna.Study, number: int) -> FrozenTrial:
    """Trial ``number`` of the driver's in-memory study, not copied (there, index = number)."""
    frozen = study.get_trials(deepcopy=False)[number]
    assert frozen.number == number, "the working study's trials are numbered 0, 1, 2, ..."
    return frozen


def record_from_frozen(t: FrozenTrial, *, started_at: float | None = None) -> TrialRecord:
    """The TrialRecord of a finished trial, from what ``tell_trial`` stored on it."""
    summary = t.user_attrs.get(ATTR_SUMMARY) or {}
    metrics = summary.get("metrics") or {}
    per_sec = summary.get("per_security") or {}
    duration = summary.get("duration_s")
    if duration is None and t.datetime_start and t.datetime_complete:
        duration = (t.datetime_complete - t.datetime_start).total_seconds()
    if started_at is None:
        started_at = t.datetime_start.timestamp() if t.datetime_start else 0.0
    state = t.state.name if t.state.name in ("COMPLETE", "PRUNED") else "FAIL"
    return TrialRecord(
        number=t.number,
        state=state,  # type: ignore[arg-type]
        params=tuple(t.params.items()),
        strategy_params=tuple((summary.get("strategy_params") or t.params).items()),
        values=tuple(float(v) for v in t.values) if t.state == TrialState.COMPLETE else None,
        metrics=tuple((k, float(v)) for k, v in metrics.items()),
        per_security=tuple(SecurityMetrics(sec, tuple((k, float(v)) for k, v in m.items()))
                           for sec, m in per_sec.items()),
        constraints=tuple(float(c) for c in t.constraints.values()),
        intermediate=tuple(sorted((int(k), float(v)) for k, v in t.intermediate_values.items())),
        n_shards=int(summary.get("n_shards", 0)),
        duration_s=float(duration or 0.0),
        started_at=float(started_at),
        error=t.user_attrs.get(ATTR_ERROR) if t.state == TrialState.FAIL else None,
    )
