"""The run-side groups of ``from_hydra``: objective, study, executor and tracking."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from mmopt.config._expr import parse_linear
from mmopt.config._known import metric_names
from mmopt.config._reader import Section, as_float, fail
from mmopt.config._types import (
    ExecutorConfig,
    ObjectiveConfig,
    ObjectiveSpec,
    PrunerConfig,
    SamplerConfig,
    SearchSpace,
    StudyConfig,
    TrackingConfig,
)
from mmopt.errors import ConfigError
from mmopt.redact import mask_secrets

__all__ = ["executor_config", "objective_config", "study_config", "tracking_config"]

SAMPLERS = ("tpe", "random", "grid", "cmaes", "nsga2", "qmc")
PRUNERS = ("none", "median", "successive_halving", "wilcoxon")
# Optuna storage URL schemes: SQLAlchemy databases, a journal file, a Redis journal.
STORAGE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "journal", "redis", "rediss")
_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-]+:\d{1,5}$")


def objective_config(s: Section) -> ObjectiveConfig:
    from mmopt.metrics.kpi import KpiTargets

    name = s.get_str("name")
    lam = s.get_float("lambda", 0.0)
    items = s.get_raw("objectives")
    if not isinstance(items, list | tuple) or not items:
        raise fail(s.key("objectives"), f"expected a non-empty list, got {items!r}",
                   "e.g. objectives: [{expr: net_pnl - lambda * cvar95, direction: maximize}]")
    metrics = metric_names()
    specs = []
    for i, item in enumerate(items):
        o = Section(f"{s.key('objectives')}[{i}]", item)
        expr = o.get_str("expr")
        direction = o.get_str("direction", choices=("maximize", "minimize"))
        label = o.get_str("name", expr)
        o.finish()
        linear = parse_linear(o.key("expr"), expr, {"lambda": lam}, metrics)
        specs.append(ObjectiveSpec(label, expr, direction, linear))  # type: ignore[arg-type]
    labels = [o.name for o in specs]
    if len(set(labels)) != len(labels):
        raise fail(s.key("objectives"), f"two objectives share a name in {labels}",
                   "give each a distinct name: or expr:")
    kpi_section = s.get_opt_section("kpi")
    kpi_fields = tuple(f.name for f in dataclasses.fields(KpiTargets))
    kpi_values: dict[str, Any] = {k: None for k in kpi_fields}  # kpi: null = no targets
    if kpi_section is not None:
        kpi_values = {k: kpi_section.get_opt_float(k) for k in kpi_fields if kpi_section.has(k)}
        kpi_section.finish()
    try:
        kpi = KpiTargets(**kpi_values)
    except ConfigError as exc:
        raise ConfigError(f"objective.{exc}") from None
    use_constraints = s.get_bool("use_constraints", True)
    s.finish()
    return ObjectiveConfig(name, lam, tuple(specs), kpi, use_constraints)


def study_config(s: Section, objective: ObjectiveConfig, search: SearchSpace) -> StudyConfig:
    name = s.get_str("name")
    n_trials = s.get_int("n_trials", lo=1)
    timeout_s = s.get_opt_float("timeout_s", lo=0.0, lo_open=True)
    sampler = _sampler(s.get_section("sampler", {}))
    pruner = _pruner(s.get_section("pruner", {}))
    storage = s.get_opt_str("storage")
    if storage is not None:
        _check_storage(s.key("storage"), storage)
    lease_timeout_s = s.get_float("lease_timeout_s", 60.0, lo=1.0)
    s.finish()
    _check_study(sampler, pruner, objective, search)
    return StudyConfig(name, n_trials, timeout_s, sampler, pruner, storage, lease_timeout_s)


def _sampler(s: Section) -> SamplerConfig:
    config = SamplerConfig(
        name=s.get_str("name", "tpe", choices=SAMPLERS),  # type: ignore[arg-type]
        seed=s.get_opt_int("seed", lo=0),
        n_startup_trials=s.get_int("n_startup_trials", 10, lo=0),
        multivariate=s.get_bool("multivariate", True),
        constant_liar=s.get_bool("constant_liar", True),
        population_size=s.get_opt_int("population_size", lo=2),
    )
    s.finish()
    return config


def _pruner(s: Section) -> PrunerConfig:
    name = s.get_str("name", "median", choices=PRUNERS)
    rungs_raw = s.get_raw("rungs", [0.25, 0.5])
    if not isinstance(rungs_raw, list | tuple):
        raise fail(s.key("rungs"), f"expected a list of shares in (0, 1), got {rungs_raw!r}")
    rungs: list[float] = []
    for i, value in enumerate(rungs_raw):
        share = as_float(f"{s.key('rungs')}[{i}]", value, lo=0.0, hi=1.0, lo_open=True)
        if share >= 1.0 or (rungs and share <= rungs[-1]):
            raise fail(f"{s.key('rungs')}[{i}]", f"{share} is not an increasing share below 1",
                       "list increasing shares of the shards, e.g. [0.25, 0.5]")
        rungs.append(share)
    config = PrunerConfig(
        name=name,  # type: ignore[arg-type]
        rungs=tuple(rungs),
        n_startup_trials=s.get_int("n_startup_trials", 5, lo=0),
        min_resource=s.get_int("min_resource", 1, lo=1),
        reduction_factor=s.get_int("reduction_factor", 3, lo=2),
        p_threshold=s.get_float("p_threshold", 0.1, lo=0.0, hi=1.0, lo_open=True),
    )
    s.finish()
    if name != "none" and not rungs:
        raise fail(s.key("rungs"), f"pruner {name} needs at least one rung",
                   "e.g. study.pruner.rungs=[0.25,0.5], or study.pruner.name=none")
    return config


def _check_storage(key: str, url: str) -> None:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme.split("+", 1)[0] not in STORAGE_SCHEMES:
        raise fail(key, f"unsupported storage URL {mask_secrets(url)!r}",
                   "use sqlite:///FILE, postgresql://..., journal:///FILE, redis://HOST:PORT/DB "
                   "or null (in memory)")


def _check_study(
    sampler: SamplerConfig, pruner: PrunerConfig, objective: ObjectiveConfig, search: SearchSpace
) -> None:
    n_obj = len(objective.objectives)
    if n_obj > 1 and pruner.name != "none":
        raise fail("study.pruner.name", f"Optuna cannot prune a study with {n_obj} objectives",
                   "set study.pruner.name=none (study=pareto does)")
    if n_obj > 1 and sampler.name == "cmaes":
        raise fail("study.sampler.name", f"cmaes optimises one objective, not {n_obj}",
                   "use nsga2 (study=pareto), tpe, random or qmc")
    if sampler.name == "grid":
        for p in search.params:
            if p.type == "float" and p.step is None:
                raise fail("study.sampler.name",
                           f"grid needs a finite space but search.params.{p.name} is continuous",
                           f"give search.params.{p.name} a step or choices, or another sampler")
    if sampler.name == "cmaes" and any(p.type == "categorical" for p in search.params):
        bad = next(p.name for p in search.params if p.type == "categorical")
        raise fail("study.sampler.name", f"cmaes cannot sample categorical search.params.{bad}",
                   "use tpe, or fix that parameter in strategy.params")


def executor_config(s: Section) -> ExecutorConfig:
    name = s.get_str("name", choices=("local", "ray"))
    address = s.get_opt_str("address")
    if address is not None and not (
        address in ("auto", "local") or address.startswith("ray://") or _HOST_PORT.match(address)
    ):
        raise fail(s.key("address"), f"not a Ray address: {address!r}",
                   "use null (start a local runtime), auto, ray://HOST:10001 or HOST:PORT")
    if name == "local" and address is not None:
        raise fail(s.key("address"), "the local executor does not connect to Ray",
                   "use executor=ray to set an address")
    config = ExecutorConfig(
        name=name,  # type: ignore[arg-type]
        address=address,
        num_cpus=s.get_opt_int("num_cpus", lo=1),
        trials_per_task=s.get_int("trials_per_task", 1, lo=1),
        max_tasks_in_flight=s.get_opt_int("max_tasks_in_flight", lo=1),
        max_retries=s.get_int("max_retries", 3, lo=0),
        shard_cache_mb=s.get_opt_float("shard_cache_mb", lo=0.0, lo_open=True),
        temp_dir=s.get_opt_str("temp_dir"),
    )
    s.finish()
    return config


def tracking_config(s: Section) -> TrackingConfig:
    name = s.get_str("name", choices=("mlflow", "none"))
    if name == "mlflow":
        uri: str | None = s.get_str("tracking_uri")
        experiment: str | None = s.get_str("experiment")
    else:
        uri, experiment = s.get_opt_str("tracking_uri"), s.get_opt_str("experiment")
    config = TrackingConfig(
        name=name,  # type: ignore[arg-type]
        tracking_uri=uri,
        experiment=experiment,
        log_batch_size=s.get_int("log_batch_size", 50, lo=1),
    )
    s.finish()
    return config
