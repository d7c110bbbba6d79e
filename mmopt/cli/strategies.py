"""``mmopt strategies [NAME ...]``: the registered strategies, each with its parameters, their
defaults and allowed ranges, and the default search space of ``conf/search/NAME.yaml``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mmopt.cli._apps import app

__all__ = ["ParamRow", "param_rows", "render_strategy", "strategies_command"]

STRATEGIES_HELP = (
    "List the strategies `strategy=NAME` can run: for each parameter its type, its default "
    "(conf/strategy/NAME.yaml when present, else the params type's), the values the strategy "
    "accepts, and the range the default search space (conf/search/NAME.yaml) samples. "
    "Give names to show only those."
)


@dataclass(frozen=True, slots=True)
class ParamRow:
    """One parameter as `mmopt strategies` shows it."""

    name: str
    type: str
    default: str
    allowed: str
    search: str
    help: str


def _value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _space_text(spec: Any) -> str:
    if not isinstance(spec, dict):
        return ""
    kind = spec.get("type", "?")
    if kind == "categorical":
        return "one of " + ", ".join(_value(c) for c in spec.get("choices") or ())
    text = f"{kind} {_value(spec.get('low'))} .. {_value(spec.get('high'))}"
    if spec.get("log"):
        text += " (log)"
    if spec.get("step") is not None:
        text += f" step {_value(spec['step'])}"
    return text


def _yaml_section(group: str, name: str, key: str) -> dict[str, Any]:
    from mmopt.config._known import yaml_defaults

    content = yaml_defaults(group, name) or {}
    section = content.get(key)
    return dict(section) if isinstance(section, dict) else {}


def param_rows(strategy: Any) -> list[ParamRow]:
    """Every field of ``strategy.params_type``, with the packaged YAML defaults and space."""
    yaml_params = _yaml_section("strategy", strategy.name, "params")
    space = _yaml_section("search", strategy.name, "params")
    rows = []
    for f in dataclasses.fields(strategy.params_type):
        if f.name in yaml_params:
            default = yaml_params[f.name]
        elif f.default is not dataclasses.MISSING:
            default = f.default
        else:
            default = "(required)"
        rows.append(ParamRow(
            name=f.name,
            type=str(f.type),
            default=_value(default),
            allowed=str(f.metadata.get("range", "")),
            search=_space_text(space.get(f.name)),
            help=str(f.metadata.get("help", "")),
        ))
    return rows


def render_strategy(strategy: Any) -> Table:
    """A table of the parameters of one strategy, titled with its name and description."""
    features = strategy.feature_params(strategy.params_type()) is not None
    title = (f"[bold]{strategy.name}[/bold] - {strategy.description or 'no description'} "
             f"({strategy.n_levels} level(s) per side"
             f"{', reads volatility / OFI features' if features else ''})")
    table = Table(title=title, title_justify="left")
    for column in ("parameter", "type", "default", "allowed", "search space", "meaning"):
        table.add_column(column, overflow="fold")
    for row in param_rows(strategy):
        table.add_row(row.name, row.type, row.default, row.allowed or "-", row.search or "-",
                      row.help)
    return table


@app.command("strategies", help=STRATEGIES_HELP)
def strategies_command(
    names: Annotated[list[str] | None, typer.Argument(help="strategies to show (default: all)",
                                                      show_default=False)] = None,
) -> None:
    import warnings

    from mmopt.strategies import get_strategy, list_strategies

    chosen = [get_strategy(n) for n in (names or list_strategies())]  # unknown -> ConfigError
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    with warnings.catch_warnings():  # the defaults are shown, not judged
        warnings.simplefilter("ignore")
        for strategy in chosen:
            console.print(render_strategy(strategy))
            console.print()
    console.print(f"{len(chosen)} strateg{'y' if len(chosen) == 1 else 'ies'}; run one with "
                  "`mmopt backtest strategy=NAME strategy.params.KEY=VALUE`")
