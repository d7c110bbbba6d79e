"""The MLflow calls of the tracker (``MlflowClient`` only; runs on the tracker's worker thread).

Child runs are made with four calls each: ``create_run`` (tags incl. ``mlflow.parentRunId``
and an explicit start time), ``log_batch`` (params + metrics; split only past MLflow's per-call
limits), ``log_text`` (the per-security table ``securities.csv``) and ``set_terminated``
(status and explicit end time). The experiment is tagged ``mlflow.experimentKind =
custom_model_development``, so that MLflow 3's UI opens it on the runs (model training) view,
not on the GenAI traces view.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmopt.redact import mask_secrets
from mmopt.tracking._entities import (
    MAX_PARAM_VALUE,
    MAX_TAG_VALUE,
    MLFLOW_STATUS,
    OBJECTIVE_PREFIX,
    SECURITIES_FILE,
    chunk_rows,
    clean_key,
    clip,
    flat_params,
    run_name,
    securities_csv,
    sweep_tags,
    trial_rows,
)
from mmopt.tracking._overfit_rows import overfit_metrics, overfit_tags
from mmopt.tracking._protocol import SweepInfo, SweepSummary, TrialRecord
from mmopt.tracking._uri import TrackingLocation, enable_sqlite_wal, mask_credentials

__all__ = ["EXPERIMENT_KIND_TAG", "MODEL_DEVELOPMENT", "MlflowIO"]

_PAGE = 1000
# MLflow 3's UI reads this experiment tag to pick its view (the values are those of its
# ExperimentKind: "custom_model_development" is the training / runs view).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"
OOS_PREFIX = "oos."
# The metrics of an out-of-sample re-run copied onto the in-sample trial's run as ``oos.*``.
_OOS_COPIED = ("net_pnl", "cvar95", "sharpe", "fills")


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
    trial_runs: dict[str, str] = field(default_factory=dict)  # TrialRecord.key -> run id

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

    def open_parent(self, info: SweepInfo) -> set[str]:
        """Create the sweep's parent run, or reopen it on resume; the trial keys it has."""
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

    def _existing_trials(self) -> set[str]:
        """Trial keys already logged under the parent; half-written children are failed."""
        numbers: set[str] = set()
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`mlflow.parentRunId` = '{self.parent_id}'",
                max_results=_PAGE,
                page_token=token,
            )
            for run in page:
                key = _key_from_tags(run.data.tags)
                if run.info.status == "RUNNING":  # the driver died between two calls
                    self.client.set_tag(run.info.run_id, "mmopt.incomplete", "true")
                    self.client.set_terminated(run.info.run_id, "FAILED")
                elif key is not None:
                    numbers.add(key)
                    self.trial_runs[key] = run.info.run_id
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
            run_name=run_name(record),
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
            table = securities_csv(record)
            if table is not None:
                self.client.log_text(run_id, table, SECURITIES_FILE)
        except Exception:
            self.client.set_tag(run_id, "mmopt.incomplete", "true")
            self.client.set_terminated(run_id, "FAILED", end_time=end_ms)
            raise
        self.client.set_terminated(
            run_id, MLFLOW_STATUS.get(record.state, "FAILED"), end_time=end_ms
        )
        self.trial_runs[record.key] = run_id
        if record.out_of_sample:
            self.log_oos_score(record, objective_names, end_ms)
        return run_id

    def log_oos_score(self, record: TrialRecord, objective_names: Sequence[str],
                      when_ms: int) -> None:
        """An out-of-sample re-run's objective and key metrics on the in-sample trial's run,
        as ``oos.objective.<name>``, ``oos.net_pnl``, ...: one column beside the in-sample
        ones in the runs table."""
        from mlflow.entities import Metric

        target = self.trial_runs.get(record.in_sample_key)
        if target is None:
            return
        rows = dict(trial_rows(record, objective_names).metrics)
        wanted = [k for k in rows if k.startswith(OBJECTIVE_PREFIX) or k in _OOS_COPIED]
        metrics = [Metric(clean_key(OOS_PREFIX + k), rows[k], when_ms, 0) for k in wanted]
        if metrics:
            self.client.log_batch(target, metrics=metrics, synchronous=True)

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
            if best.key not in self.trial_runs:  # the tag always names a logged run
                self.log_trial(best, objective_names)
            rows = trial_rows(best, objective_names)
            metrics.update(rows.metrics)
            tags.update(_best_tags(summary.best, self.trial_runs.get(best.key)))
            tags["best_feasible"] = str(summary.best_feasible).lower()
            if not summary.best_feasible:
                tags["best_kpi_failures"] = "; ".join(summary.best_kpi_failures) or "unknown"
                self._tag_infeasible_best(best.key, tags["best_kpi_failures"])
            params = {**dict(best.strategy_params), **dict(best.params)}
            tags.update({clean_key(f"best.param.{k}"): str(v) for k, v in params.items()})
        if summary.holdout is not None:
            held = trial_rows(summary.holdout, objective_names)
            metrics.update({clean_key(f"holdout.{k}"): v for k, v in held.metrics})
            if summary.best:
                rerun = dataclasses.replace(summary.holdout, number=summary.best[0].number,
                                            fold=summary.best[0].fold, out_of_sample=True)
                self.log_oos_score(rerun, objective_names, _ms(time.time()))
        if summary.report is not None:
            metrics.update(overfit_metrics(summary.report))
            tags.update(overfit_tags(summary.report))
        now = _ms(time.time())
        from mlflow.entities import Metric, RunTag

        entities = [Metric(k, float(v), now, 0) for k, v in metrics.items() if math.isfinite(v)]
        if summary.walk_forward is not None:
            entities += _walk_forward_metrics(summary.walk_forward, now)
        clipped = [RunTag(k, clip(v, MAX_TAG_VALUE)) for k, v in tags.items()]
        for m, _, t in chunk_rows(entities, [], clipped):
            self.client.log_batch(self.parent_id, metrics=m, tags=t, synchronous=True)

    def _tag_infeasible_best(self, key: str, failures: str) -> None:
        """Mark the child run of an infeasible best trial, so the UI shows why it is 'best'."""
        run_id = self.trial_runs.get(key)
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


_WF_METRICS = ("net_pnl", "cvar95", "sharpe", "fills", "max_drawdown", "n_shards")


def _walk_forward_metrics(wf: Any, now: int) -> list[Any]:
    """The stitched out-of-sample result (``wf.oos.*``) and one point per fold (step = fold):
    ``wf.fold.in_sample``, ``wf.fold.out_of_sample`` of the chosen trial."""
    from mlflow.entities import Metric

    out = [Metric(clean_key(f"wf.oos.{wf.objective_name}"), float(wf.stitched_value), now, 0)]
    out += [Metric(clean_key(f"wf.oos.{k}"), float(v), now, 0) for k, v in wf.stitched_metrics
            if k in _WF_METRICS]
    out.append(Metric("wf.n_folds", float(len(wf.folds)), now, 0))
    for fold in wf.folds:
        chosen = fold.chosen_trial
        if chosen is None:
            continue
        out.append(Metric("wf.fold.in_sample", float(chosen.in_sample_value), now, fold.index))
        out.append(Metric("wf.fold.out_of_sample", float(chosen.oos_value), now, fold.index))
    return [m for m in out if math.isfinite(m.value)]


def _experiment_id(client: Any, name: str, artifact_location: str | None) -> str:
    """The experiment's id, created if needed; tagged as model development (see top)."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            return str(client.create_experiment(name, artifact_location=artifact_location,
                                                tags={EXPERIMENT_KIND_TAG: MODEL_DEVELOPMENT}))
        except MlflowException:  # created meanwhile by another process
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        raise RuntimeError(
            f"MLflow experiment {name!r} is deleted; restore it (mlflow experiments restore "
            f"--experiment-id {found.experiment_id}) or set tracking.experiment=<another name>"
        )
    if EXPERIMENT_KIND_TAG not in found.tags:  # made by an older mmopt or by hand
        client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, MODEL_DEVELOPMENT)
    return str(found.experiment_id)


def _key_from_tags(tags: Mapping[str, str]) -> str | None:
    """The ``TrialRecord.key`` a logged child run was made for (None: not a trial's run)."""
    number = tags.get("trial_number", "")
    if not number.isdigit():
        return None
    fold = tags.get("mmopt.fold")
    key = number if fold is None else f"fold{fold}.{number}"
    return f"{key}.oos" if tags.get("mmopt.sample") == "out_of_sample" else key


# The config keys logged as the parent's params (the whole config is its ``config.yaml``):
# what tells sweeps apart in the runs table, not 150 engine and executor settings.
_PARENT_PARAMS = (
    "data.name", "data.root", "strategy.name", "objective.name", "objective.lambda",
    "study.name", "study.n_trials", "study.sampler.name", "study.sampler.seed",
    "study.pruner.name", "executor.name", "validation.name", "validation.train_days",
    "validation.test_days", "validation.top_k", "selection.name", "engine.step_ms",
)


def _sweep_params(info: SweepInfo) -> dict[str, str]:
    from mmopt.config import to_dict

    flat = flat_params(to_dict(info.run))
    params = {k: flat[k] for k in _PARENT_PARAMS if k in flat}
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

    text = mask_secrets(info.config_yaml)
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
    if best.fold is not None:
        tags["best_fold"] = str(best.fold)
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
