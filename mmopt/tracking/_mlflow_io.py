"""The MLflow calls of the tracker (``MlflowClient`` only; runs on the tracker's worker thread).

Child runs are made with three calls each: ``create_run`` (tags incl. ``mlflow.parentRunId``
and an explicit start time), ``log_batch`` (params + metrics; split only past MLflow's per-call
limits) and ``set_terminated`` (status and explicit end time).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmopt.tracking._entities import (
    MAX_PARAM_VALUE,
    MAX_TAG_VALUE,
    MLFLOW_STATUS,
    chunk_rows,
    clean_key,
    clip,
    flat_params,
    sweep_tags,
    trial_rows,
)
from mmopt.tracking._overfit_rows import overfit_metrics, overfit_tags
from mmopt.tracking._protocol import SweepInfo, SweepSummary, TrialRecord
from mmopt.tracking._uri import TrackingLocation, enable_sqlite_wal, mask_credentials

__all__ = ["MlflowIO"]

_PAGE = 1000


def _ms(epoch_s: float) -> int:
    return round(epoch_s * 1000.0)


def _quote(value: str) -> str | None:
    """A filter-string literal for ``value`` (None when it cannot be quoted safely)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None


@dataclass(slots=True)
class MlflowIO:
    """An MLflow client bound to one experiment and (after ``open_parent``) one parent run."""

    client: Any
    experiment_id: str
    parent_id: str | None = None
    trial_runs: dict[int, str] = field(default_factory=dict)  # trial number -> child run id

    @classmethod
    def connect(cls, location: TrackingLocation, experiment: str) -> MlflowIO:
        """Open the store (creating a local SQLite file in WAL mode) and the experiment."""
        from mlflow import MlflowClient

        if location.sqlite_path is not None:
            enable_sqlite_wal(location.sqlite_path)
        if location.artifact_root is not None:
            location.artifact_root.mkdir(parents=True, exist_ok=True)
        client = MlflowClient(tracking_uri=location.tracking_uri)
        return cls(client, _experiment_id(client, experiment, location.artifact_location()))

    # -- the parent run --------------------------------------------------------------------

    def open_parent(self, info: SweepInfo) -> set[int]:
        """Create the sweep's parent run, or reopen it on resume; the trial numbers it has."""
        tags = sweep_tags(info, mask_credentials(info.storage_url) or "in-memory")
        found = self._find_parent(tags) if info.resumed else None
        params = _sweep_params(info)
        if found is None:
            run = self.client.create_run(
                self.experiment_id,
                start_time=_ms(info.started_at),
                tags={**tags, "mlflow.note.content": _note(info, tags)},
                run_name=f"sweep-{info.study_name}",
            )
            self.parent_id = run.info.run_id
            self._batch(self.parent_id, params=list(params.items()))
            self.client.log_text(self.parent_id, _masked_yaml(info), "config.yaml")
            return set()
        self.parent_id = found
        self.client.update_run(found, status="RUNNING")
        old = self.client.get_run(found).data.params
        new = [(k, v) for k, v in params.items() if k not in old]
        changed = sorted(k for k, v in params.items() if k in old and old[k] != v)
        extra = [("mmopt.resumed_at", str(info.started_at))]
        if changed:
            extra.append(("config_changed_on_resume", clip(",".join(changed), MAX_TAG_VALUE)))
        self._batch(found, params=new, tags=extra)
        name = f"config_resumed_after_{info.n_existing_trials}_trials.yaml"
        self.client.log_text(found, _masked_yaml(info), name)
        return self._existing_trials()

    def _find_parent(self, tags: Mapping[str, str]) -> str | None:
        conditions = []
        for key in ("mmopt.role", "mmopt.study_name", "mmopt.storage_url"):
            literal = _quote(tags[key])
            if literal is None:
                return None
            conditions.append(f"tags.`{key}` = {literal}")
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=" and ".join(conditions),
            max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        return runs[0].info.run_id if runs else None

    def _existing_trials(self) -> set[int]:
        """Trial numbers already logged under the parent; half-written children are failed."""
        numbers: set[int] = set()
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`mlflow.parentRunId` = '{self.parent_id}'",
                max_results=_PAGE,
                page_token=token,
            )
            for run in page:
                number = run.data.tags.get("trial_number", "")
                if run.info.status == "RUNNING":  # the driver died between two calls
                    self.client.set_tag(run.info.run_id, "mmopt.incomplete", "true")
                    self.client.set_terminated(run.info.run_id, "FAILED")
                elif number.isdigit():
                    numbers.add(int(number))
                    self.trial_runs[int(number)] = run.info.run_id
            token = page.token
            if not token:
                return numbers

    # -- the child runs --------------------------------------------------------------------

    def log_trial(self, record: TrialRecord, objective_names: Sequence[str]) -> str:
        """One child run for ``record``; returns its run id."""
        from mlflow.entities import Metric, Param

        assert self.parent_id is not None, "open_parent first"
        rows = trial_rows(record, objective_names)
        start_ms = _ms(record.started_at)
        end_ms = start_ms + max(0, round(record.duration_s * 1000.0))
        run = self.client.create_run(
            self.experiment_id,
            start_time=start_ms,
            tags={"mlflow.parentRunId": self.parent_id, **dict(rows.tags)},
            run_name=f"trial-{record.number}",
        )
        run_id: str = run.info.run_id
        metrics = [Metric(k, v, end_ms, 0) for k, v in rows.metrics]
        metrics += [
            Metric("intermediate_objective", float(v), end_ms, int(step))
            for step, v in record.intermediate
            if math.isfinite(v)
        ]
        params = [Param(k, v) for k, v in rows.params]
        try:
            for m, p, _ in chunk_rows(metrics, params, []):
                self.client.log_batch(run_id, metrics=m, params=p, synchronous=True)
        except Exception:
            self.client.set_tag(run_id, "mmopt.incomplete", "true")
            self.client.set_terminated(run_id, "FAILED", end_time=end_ms)
            raise
        self.client.set_terminated(
            run_id, MLFLOW_STATUS.get(record.state, "FAILED"), end_time=end_ms
        )
        self.trial_runs[record.number] = run_id
        return run_id

    # -- the end ---------------------------------------------------------------------------

    def log_artifacts(self, local_dir: Path, artifact_path: str) -> None:
        assert self.parent_id is not None
        self.client.log_artifacts(self.parent_id, str(local_dir), artifact_path)

    def log_best(self, summary: SweepSummary, objective_names: Sequence[str]) -> None:
        """Best trial tags and metrics on the parent, the hold-out re-run, sweep counters."""
        assert self.parent_id is not None
        metrics: dict[str, float] = {
            "sweep.n_complete": summary.n_complete,
            "sweep.n_pruned": summary.n_pruned,
            "sweep.n_failed": summary.n_failed,
            "sweep.elapsed_s": summary.elapsed_s,
        }
        tags: dict[str, str] = {"best_trial": "none"}
        if summary.best:
            best = summary.best[0]
            if best.number not in self.trial_runs:  # the tag always names a logged run
                self.log_trial(best, objective_names)
            rows = trial_rows(best, objective_names)
            metrics.update(rows.metrics)
            tags.update(_best_tags(summary.best, self.trial_runs.get(best.number)))
            tags["best_feasible"] = str(summary.best_feasible).lower()
            if not summary.best_feasible:
                tags["best_kpi_failures"] = "; ".join(summary.best_kpi_failures) or "unknown"
                self._tag_infeasible_best(best.number, tags["best_kpi_failures"])
            params = {**dict(best.strategy_params), **dict(best.params)}
            tags.update({clean_key(f"best.param.{k}"): str(v) for k, v in params.items()})
        if summary.holdout is not None:
            held = trial_rows(summary.holdout, objective_names)
            metrics.update({clean_key(f"holdout.{k}"): v for k, v in held.metrics})
        if summary.report is not None:
            metrics.update(overfit_metrics(summary.report))
            tags.update(overfit_tags(summary.report))
        now = _ms(time.time())
        from mlflow.entities import Metric, RunTag

        entities = [Metric(k, float(v), now, 0) for k, v in metrics.items() if math.isfinite(v)]
        clipped = [RunTag(k, clip(v, MAX_TAG_VALUE)) for k, v in tags.items()]
        for m, _, t in chunk_rows(entities, [], clipped):
            self.client.log_batch(self.parent_id, metrics=m, tags=t, synchronous=True)

    def _tag_infeasible_best(self, number: int, failures: str) -> None:
        """Mark the child run of an infeasible best trial, so the UI shows why it is 'best'."""
        run_id = self.trial_runs.get(number)
        if run_id is not None:
            self._batch(run_id, tags=[("best_infeasible", "true"),
                                      ("kpi_failures", failures)])

    def close_parent(self, status: str, tags: Mapping[str, str]) -> None:
        assert self.parent_id is not None
        self._batch(self.parent_id, tags=list(tags.items()))
        self.client.set_terminated(self.parent_id, status, end_time=_ms(time.time()))

    def _batch(
        self,
        run_id: str,
        params: Sequence[tuple[str, str]] = (),
        tags: Sequence[tuple[str, str]] = (),
    ) -> None:
        from mlflow.entities import Param, RunTag

        p = [Param(k, clip(v, MAX_PARAM_VALUE)) for k, v in params]
        t = [RunTag(k, clip(v, MAX_TAG_VALUE)) for k, v in tags]
        for _, pp, tt in chunk_rows([], p, t):
            self.client.log_batch(run_id, params=pp, tags=tt, synchronous=True)


def _experiment_id(client: Any, name: str, artifact_location: str | None) -> str:
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            return str(client.create_experiment(name, artifact_location=artifact_location))
        except MlflowException:  # created meanwhile by another process
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        raise RuntimeError(
            f"MLflow experiment {name!r} is deleted; restore it (mlflow experiments restore "
            f"--experiment-id {found.experiment_id}) or set tracking.experiment=<another name>"
        )
    return str(found.experiment_id)


def _sweep_params(info: SweepInfo) -> dict[str, str]:
    from mmopt.config import to_dict

    params = flat_params(to_dict(info.run))
    params.update(
        {
            "study_name": info.study_name,
            "storage_url": info.storage_url or "in-memory",
            "config_id": info.config_id,
            "data_fingerprint": info.data_fingerprint,
            "code_version": info.code_version,
            "n_shards": str(info.n_shards),
            "securities": ",".join(info.securities),
            "dates": ",".join(info.dates),
            "holdout_dates": ",".join(info.holdout_dates),
        }
    )
    return {k: clip(mask_credentials(v), MAX_PARAM_VALUE) for k, v in params.items()}


def _masked_yaml(info: SweepInfo) -> str:
    """The config YAML with URL passwords replaced by ***."""
    from urllib.parse import urlsplit

    text = info.config_yaml
    for url in (info.storage_url, info.run.study.storage, info.run.tracking.tracking_uri):
        try:
            secret = urlsplit(url).password if url else None
        except ValueError:
            secret = None
        if secret:
            text = text.replace(secret, "***")
    return text


def _best_tags(front: Sequence[TrialRecord], run_id: str | None) -> dict[str, str]:
    best = front[0]
    values = [float(v) for v in best.values or ()]
    tags = {"best_trial": str(best.number)}
    if run_id:
        tags["best_run_id"] = run_id
    if len(values) == 1:
        tags["best_value"] = repr(values[0])
    elif values:
        tags["best_values"] = json.dumps(values)
    if len(front) > 1 or len(values) > 1:
        tags["pareto_trials"] = ",".join(str(r.number) for r in front)
    return tags


def _note(info: SweepInfo, tags: Mapping[str, str]) -> str:
    return (
        f"mmopt sweep of `{info.run.strategy.name}`: study `{info.study_name}` "
        f"(storage `{tags['mmopt.storage_url']}`), config id `{info.config_id}`, "
        f"{info.n_shards} shards of {len(info.securities)} securities. One child run per "
        "trial; the best trial is tagged `best_trial`; the report is under `report/`."
    )
