"""``from_hydra``: a composed config (DictConfig or plain mapping) -> a validated RunConfig.

Every unknown key and bad value is rejected here, before any work, with a ConfigError whose
message starts with the full dotted key, e.g. ``search.params.gamma: low (2.0) > high (1.0)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mmopt.config._convert_run import executor_config, objective_config, study_config
from mmopt.config._convert_run import tracking_config as _tracking
from mmopt.config._convert_validation import selection_config, validation_config
from mmopt.config._known import (
    engine_field_names,
    strategy_entry,
    strategy_names,
    strategy_param_names,
)
from mmopt.config._reader import Scalar, Section, check_date, fail
from mmopt.config._space_check import check_space
from mmopt.config._types import (
    DataConfig,
    EngineSettings,
    ParamSpec,
    RunConfig,
    SearchSpace,
    StrategyConfig,
)
from mmopt.errors import ConfigError

__all__ = ["from_hydra", "prefix_error"]

_SCALAR_TYPES = (str, int, float, bool, type(None))


def from_hydra(cfg: Any) -> RunConfig:
    """Validate a composed config and freeze it; the only place a DictConfig is read."""
    root = Section("", _to_plain(cfg))
    data = _data(root.get_section("data"))
    strategy = _strategy(root.get_section("strategy"))
    search = _search(root.get_section("search"), strategy)
    engine = _engine(root.get_section("engine"))
    objective = objective_config(root.get_section("objective"))
    study = study_config(root.get_section("study"), objective, search)
    executor = executor_config(root.get_section("executor"))
    tracking = _tracking(root.get_section("tracking"))
    run_dir = root.get_str("run_dir", "runs")
    record = root.get_opt_str("record")
    validation = validation_config(root.get_section("validation", {}), data, study,
                                   objective)
    selection = selection_config(root.get_section("selection", {}), objective)
    root.finish()
    return RunConfig(data, strategy, search, engine, objective, study, executor, tracking,
                     run_dir, record, validation, selection)


def prefix_error(prefix: str, exc: Exception, fields: tuple[str, ...] = ()) -> ConfigError:
    """Re-key an error raised by a component's own validation (``"gamma: must be > 0"``)."""
    message = str(exc)
    if message.startswith(f"{prefix}.") or message.startswith(f"{prefix}:"):
        return ConfigError(message)  # already names the full key
    head = message.split(":", 1)[0].strip()
    if head in fields:
        return ConfigError(f"{prefix}.{message}")
    return ConfigError(f"{prefix}: {message}")


def _to_plain(cfg: Any) -> Any:
    try:
        from omegaconf import DictConfig, OmegaConf
        from omegaconf.errors import OmegaConfBaseException
    except ImportError:  # pragma: no cover - hydra-core is a dependency
        return cfg
    if isinstance(cfg, DictConfig):
        try:
            return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
        except OmegaConfBaseException as exc:
            key = getattr(exc, "full_key", None) or "config"
            detail = str(exc).splitlines()[0]
            raise fail(key, detail, "fix the ${...} reference or give the key a value") from None
    if not isinstance(cfg, Mapping):
        raise fail("<root>", f"expected a mapping of config groups, got {type(cfg).__name__}")
    return cfg


def _dates(s: Section, name: str, default: Any) -> tuple[str, ...] | None:
    values = s.get_str_tuple(name, default)
    if values is None:
        return None
    return tuple(check_date(f"{s.key(name)}[{i}]", v) for i, v in enumerate(values))


def _opt_date(s: Section, name: str) -> str | None:
    value = s.get_raw(name, None)
    return None if value is None else check_date(s.key(name), value)


def _data(s: Section) -> DataConfig:
    name = s.get_str("name")
    root = s.get_str("root")
    securities = s.get_str_tuple("securities", None)
    if securities == ():
        raise fail(s.key("securities"), "empty list", "use null for every security")
    dates = _dates(s, "dates", None)
    if dates == ():
        raise fail(s.key("dates"), "empty list", "use null for every date")
    date_from, date_to = _opt_date(s, "date_from"), _opt_date(s, "date_to")
    if date_from and date_to and date_from > date_to:
        raise fail(s.key("date_from"), f"{date_from} is after date_to {date_to}", "swap them")
    holdout = _dates(s, "holdout_dates", ()) or ()
    if dates and set(dates) <= set(holdout):
        raise fail(s.key("holdout_dates"), "holds every date of data.dates: nothing to sweep")
    gen = s.get_opt_section("generate")
    s.finish()
    return DataConfig(name, root, securities, dates, date_from, date_to, holdout,
                      None if gen is None else _synth(gen))


def _synth(s: Section) -> Any:
    from mmopt.data._synth_config import SynthConfig

    known = tuple(f.name for f in dataclasses.fields(SynthConfig))
    values: dict[str, Any] = _scalars(s, known, "synthetic-data setting")
    try:
        return SynthConfig(**values)
    except (ConfigError, ValueError, TypeError) as exc:
        raise prefix_error(s.path, exc, known) from None


def _scalars(s: Section, known: tuple[str, ...], what: str) -> dict[str, Scalar]:
    """Every key of ``s`` as a scalar; a key outside ``known`` fails with the known list."""
    values: dict[str, Scalar] = {}
    for key in s.names():
        if key not in known:
            raise fail(s.key(key), f"unknown {what}", f"use one of: {', '.join(known)}")
        value = s.get_raw(key)
        if not isinstance(value, _SCALAR_TYPES):
            raise fail(s.key(key), f"expected a number, string, true/false or null, got {value!r}")
        values[key] = value
    s.finish()
    return values


def _strategy(s: Section) -> StrategyConfig:
    name = s.get_str("name", choices=strategy_names())
    known = strategy_param_names(name) or ()
    params = _scalars(s.get_section("params", {}), known, f"parameter of strategy {name!r}")
    s.finish()
    config = StrategyConfig(name, tuple(params.items()))
    entry = strategy_entry(name)
    if entry is not None:
        try:
            entry.params_type(**params)
        except (ConfigError, ValueError, TypeError) as exc:
            raise prefix_error("strategy.params", exc, known) from None
    return config


def _search(s: Section, strategy: StrategyConfig) -> SearchSpace:
    for_strategy = s.get_str("strategy")
    if for_strategy != strategy.name:
        raise fail(
            s.key("strategy"),
            f"this space is for {for_strategy!r} but strategy.name is {strategy.name!r}",
            "drop the search= override (the space follows strategy=) "
            f"or use search={strategy.name}",
        )
    known = strategy_param_names(strategy.name) or ()
    params = s.get_section("params", {})
    specs = []
    for name in params.names():
        if name not in known:
            raise fail(
                params.key(name),
                f"unknown parameter of strategy {strategy.name!r}",
                f"search one of: {', '.join(known)}",
            )
        specs.append(_param(params.get_section(name), name))
    params.finish()
    s.finish()
    space = SearchSpace(strategy.name, tuple(specs))
    check_space(space, strategy)
    return space


def _param(s: Section, name: str) -> ParamSpec:
    kind = s.get_str("type", choices=("float", "int", "categorical"))
    if kind == "categorical":
        for key in ("low", "high", "step"):
            if s.get_raw(key, None) is not None:
                raise fail(s.key(key), "a categorical parameter takes only choices",
                           "remove it, or make the parameter type: float or int")
        if s.get_bool("log", False):
            raise fail(s.key("log"), "a categorical parameter has no scale", "remove log")
        choices = s.get_raw("choices")
        if not isinstance(choices, list | tuple) or not choices:
            raise fail(s.key("choices"), f"expected a non-empty list, got {choices!r}")
        for i, c in enumerate(choices):
            if not isinstance(c, _SCALAR_TYPES):
                raise fail(f"{s.key('choices')}[{i}]", f"expected a scalar, got {c!r}")
        if len({repr(c) for c in choices}) != len(choices):
            raise fail(s.key("choices"), f"duplicate choices in {list(choices)}")
        s.finish()
        return ParamSpec(name, "categorical", choices=tuple(choices))
    if s.get_raw("choices", None) is not None:
        raise fail(s.key("choices"), f"a {kind} parameter takes low/high, not choices",
                   "remove choices, or make it type: categorical")
    spec = _numeric_param(s, name, kind)
    s.finish()
    return spec


def _numeric_param(s: Section, name: str, kind: str) -> ParamSpec:
    log = s.get_bool("log", False)
    low: float | int
    high: float | int
    step: float | int | None
    if kind == "float":
        low, high = s.get_float("low"), s.get_float("high")
        step = s.get_opt_float("step", lo=0.0, lo_open=True)
    else:
        low, high = s.get_int("low"), s.get_int("high")
        step = s.get_opt_int("step", lo=1)
    if low > high:
        raise fail(s.path, f"low ({low}) > high ({high})", "swap them")
    if log and low <= 0:
        raise fail(s.path, f"log scale needs low > 0, got low ({low})",
                   "raise low above 0 or set log: false")
    if log and step is not None and not (kind == "int" and step == 1):
        raise fail(s.path, "log scale and step cannot be combined (Optuna)", "drop one of them")
    if step is not None:
        n_steps = (high - low) / step
        if abs(n_steps - round(n_steps)) > 1e-9 * max(1.0, abs(n_steps)):
            raise fail(s.path, f"high - low ({high - low}) is not a multiple of step ({step})",
                       "adjust high, low or step so that the grid ends on high")
    return ParamSpec(name, "float" if kind == "float" else "int", low, high, log, step)


def _engine(s: Section) -> EngineSettings:
    known = engine_field_names()
    values = _scalars(s, known, "engine setting")
    settings = EngineSettings(tuple(values.items()))
    try:
        settings.build()
    except (ConfigError, ValueError, TypeError) as exc:
        raise prefix_error("engine", exc, known) from None
    return settings
