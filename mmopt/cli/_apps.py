"""The Typer applications that every command module attaches its commands to."""

from __future__ import annotations

import typer

__all__ = ["HYDRA_CONTEXT", "app", "data_app"]

app = typer.Typer(
    name="mmopt",
    help="Find market-making parameters that hold up: numba backtests, Optuna, Ray, MLflow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Market data: generate synthetic shards, import vendor files, inspect a data root.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

# Commands that take Hydra overrides (`key=value ...`) after their own options.
HYDRA_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
