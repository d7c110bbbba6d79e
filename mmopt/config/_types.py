"""The frozen, typed run configuration that everything below the CLI receives.

Build it with ``mmopt.config.from_hydra`` (which validates every key); the shapes here mirror
the YAML groups in ``conf/`` one to one, so ``to_dict(run)`` gives back a mapping that
``from_hydra`` accepts and that round-trips to an equal ``RunConfig``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mmopt.config._canonical import config_hash
from mmopt.config._expr import LinearExpr
from mmopt.config._reader import Scalar

if TYPE_CHECKING:
    from mmopt.data._synth_config import SynthConfig
    from mmopt.engine import EngineConfig
    from mmopt.metrics.kpi import KpiTargets

__all__ = [
    "DataConfig",
    "EngineSettings",
    "ExecutorConfig",
    "FoldDates",
    "ObjectiveConfig",
    "ObjectiveSpec",
    "ParamSpec",
    "PrunerConfig",
    "RunConfig",
    "SamplerConfig",
    "SearchSpace",
    "SelectionConfig",
    "StrategyConfig",
    "StudyConfig",
    "TrackingConfig",
    "ValidationConfig",
]

Direction = Literal["maximize", "minimize"]
ParamType = Literal["float", "int", "categorical"]


@dataclass(frozen=True, slots=True)
class DataConfig:
    """Which shards: a root (path or pyarrow URI) and filters on securities and dates.

    ``dates`` keeps only the listed days, ``date_from``/``date_to`` bound them (inclusive);
    ``holdout_dates`` are kept out of a sweep and used to re-run its best trials.
    """

    name: str
    root: str
    securities: tuple[str, ...] | None = None
    dates: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None
    holdout_dates: tuple[str, ...] = ()
    generate: SynthConfig | None = None  # None = never generate (real data)

    def wants_date(self, day: str) -> bool:
        """True if shard date ``day`` (YYYY-MM-DD) passes the date filters (holdout excluded)."""
        return (
            (self.dates is None or day in self.dates)
            and (self.date_from is None or day >= self.date_from)
            and (self.date_to is None or day <= self.date_to)
            and day not in self.holdout_dates
        )


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    """A registered strategy's name and its parameter values (defaults plus overrides)."""

    name: str
    params: tuple[tuple[str, Scalar], ...] = ()

    def params_dict(self) -> dict[str, Scalar]:
        return dict(self.params)

    def with_params(self, values: Mapping[str, Scalar]) -> StrategyConfig:
        """A copy with some parameters replaced (e.g. a trial's sampled values)."""
        merged = {**self.params_dict(), **values}
        return StrategyConfig(self.name, tuple(merged.items()))

    def to_plain(self) -> dict[str, Any]:
        """The YAML shape (``mmopt.config.to_dict``)."""
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One searched parameter; maps to ``trial.suggest_float/int/categorical``."""

    name: str
    type: ParamType
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Scalar, ...] | None = None

    def to_plain(self) -> dict[str, Any]:
        """The YAML shape (``mmopt.config.to_dict``)."""
        if self.type == "categorical":
            return {"type": self.type, "choices": list(self.choices or ())}
        out: dict[str, Any] = {"type": self.type, "low": self.low, "high": self.high,
                               "log": self.log}
        if self.step is not None:
            out["step"] = self.step
        return out


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """The parameters a study samples for ``strategy``; the others keep strategy.params."""

    strategy: str
    params: tuple[ParamSpec, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def to_plain(self) -> dict[str, Any]:
        """The YAML shape (``mmopt.config.to_dict``)."""
        return {"strategy": self.strategy, "params": {p.name: p.to_plain() for p in self.params}}

    def is_finite(self) -> bool:
        """True when every parameter takes finitely many values (what grid search needs)."""
        return all(p.type != "float" or p.step is not None for p in self.params)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The engine's settings by field name; ``build()`` makes the engine's own EngineConfig."""

    values: tuple[tuple[str, Scalar], ...] = ()

    def as_dict(self) -> dict[str, Scalar]:
        return dict(self.values)

    def get(self, name: str, default: Scalar = None) -> Scalar:
        return self.as_dict().get(name, default)

    def to_plain(self) -> dict[str, Any]:
        """The YAML shape (``mmopt.config.to_dict``)."""
        return self.as_dict()

    def build(self) -> EngineConfig:
        """``mmopt.engine.EngineConfig(**values)`` (imports the engine)."""
        from mmopt.engine import EngineConfig

        values: dict[str, Any] = self.as_dict()  # EngineConfig checks each value's type
        return EngineConfig(**values)


@dataclass(frozen=True, slots=True)
class ObjectiveSpec:
    """One optimisation target: a linear expression over metrics and its direction."""

    name: str
    expr: str
    direction: Direction
    linear: LinearExpr

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.linear.terms)

    def evaluate(self, metrics: Mapping[str, float]) -> float:
        """The objective's value for a trial's metrics (NaN if a metric it uses is NaN)."""
        return self.linear.evaluate(metrics)


@dataclass(frozen=True, slots=True)
class ObjectiveConfig:
    """What a trial is scored by: one or several objectives plus KPI targets as constraints.

    ``kpi`` is mmopt.metrics' ``KpiTargets``; when ``use_constraints`` is true the study passes
    ``mmopt.metrics.kpi_constraints(metrics, kpi)`` to Optuna, so "best" means feasible.
    """

    name: str
    lambda_: float
    objectives: tuple[ObjectiveSpec, ...]
    kpi: KpiTargets
    use_constraints: bool = True

    @property
    def directions(self) -> tuple[Direction, ...]:
        return tuple(o.direction for o in self.objectives)

    def to_plain(self) -> dict[str, Any]:
        """The YAML shape (``mmopt.config.to_dict``; ``kpi`` is made plain by the caller)."""
        return {
            "name": self.name,
            "lambda": self.lambda_,
            "objectives": [
                {"name": o.name, "expr": o.expr, "direction": o.direction}
                for o in self.objectives
            ],
            "use_constraints": self.use_constraints,
            "kpi": self.kpi,
        }

    @property
    def is_multi(self) -> bool:
        return len(self.objectives) > 1

    def evaluate(self, metrics: Mapping[str, float]) -> tuple[float, ...]:
        """One value per objective, in order."""
        return tuple(o.evaluate(metrics) for o in self.objectives)

    def constraints(self, metrics: Mapping[str, float]) -> tuple[float, ...]:
        """Optuna constraint values (<= 0 = satisfied); empty when constraints are off."""
        if not self.use_constraints:
            return ()
        from mmopt.metrics.kpi import kpi_constraints

        return kpi_constraints(metrics, self.kpi)


@dataclass(frozen=True, slots=True)
class SamplerConfig:
    name: Literal["tpe", "random", "grid", "cmaes", "nsga2", "qmc"] = "tpe"
    seed: int | None = 42
    n_startup_trials: int = 10
    multivariate: bool = True
    constant_liar: bool = True
    population_size: int | None = None


@dataclass(frozen=True, slots=True)
class PrunerConfig:
    """Pruning on data: after each rung (a share of the shards) the trial reports its value."""

    name: Literal["none", "median", "successive_halving", "wilcoxon"] = "median"
    rungs: tuple[float, ...] = (0.25, 0.5)
    n_startup_trials: int = 5
    min_resource: int = 1
    reduction_factor: int = 3
    p_threshold: float = 0.1


@dataclass(frozen=True, slots=True)
class StudyConfig:
    name: str
    n_trials: int
    timeout_s: float | None = None
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    pruner: PrunerConfig = field(default_factory=PrunerConfig)
    storage: str | None = None  # None = in memory (no resume)
    # A driver whose lease heartbeat is older than this may be taken over (see docs/resume.md).
    lease_timeout_s: float = 60.0


@dataclass(frozen=True, slots=True)
class ExecutorConfig:
    name: Literal["local", "ray"] = "local"
    address: str | None = None  # ray: None = start a local runtime, "auto", "ray://host:port"
    num_cpus: int | None = None
    trials_per_task: int = 1
    max_tasks_in_flight: int | None = None
    max_retries: int = 3
    # prepared shards each shard owner keeps in memory (MB, LRU beyond it); None = no limit
    shard_cache_mb: float | None = None
    # ray, local runtime only: where Ray keeps its session (logs, sockets); None = a short
    # private folder under the system temp dir
    temp_dir: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    name: Literal["mlflow", "none"] = "none"
    tracking_uri: str | None = None
    experiment: str | None = None
    log_batch_size: int = 50


@dataclass(frozen=True, slots=True)
class FoldDates:
    """One walk-forward fold given by hand: the dates it trains on and the dates it tests on."""

    train: tuple[str, ...]
    test: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """How a sweep checks its choice out of sample (``conf/validation/``).

    ``none``: no out-of-sample re-run; ``holdout``: the chosen trial is re-run on
    ``data.holdout_dates`` (when there are any); ``walk_forward``: the dates are split into folds
    (``train_days`` in-sample then ``test_days`` out-of-sample, the next fold ``step_days``
    later; ``anchored`` folds keep every earlier date in-sample), or ``folds`` lists them; each
    fold runs its own study and re-runs its ``top_k`` best trials on its test dates.
    """

    name: Literal["none", "holdout", "walk_forward"] = "holdout"
    train_days: int = 1
    test_days: int = 1
    step_days: int | None = None  # None = test_days
    anchored: bool = True
    top_k: int = 5
    folds: tuple[FoldDates, ...] | None = None  # explicit folds instead of the day counts

    @property
    def step(self) -> int:
        return self.test_days if self.step_days is None else self.step_days


@dataclass(frozen=True, slots=True)
class SelectionConfig:
    """Which complete trial a sweep chooses (``conf/selection/``).

    ``best``: the best objective (feasible first). ``robust``: the best objective after
    smoothing over its ``neighbours`` nearest trials in parameter space (itself included), so a
    lone spike among poor neighbours loses to a good plateau.
    """

    name: Literal["best", "robust"] = "best"
    neighbours: int = 5


@dataclass(frozen=True, slots=True)
class RunConfig:
    """One validated run: what to load, what to run, how to search, where to log."""

    data: DataConfig
    strategy: StrategyConfig
    search: SearchSpace
    engine: EngineSettings
    objective: ObjectiveConfig
    study: StudyConfig
    executor: ExecutorConfig
    tracking: TrackingConfig
    run_dir: str = "runs"
    record: str | None = None
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)

    @property
    def config_id(self) -> str:
        """``mmopt.config.config_id(self)``: the short hash of what this run computes."""
        return config_hash(self)

