"""The ``mmopt`` command line: one entry point for ``data ...`` and the Hydra-driven commands.

Each command lives in its own module and attaches itself to the apps in ``_apps``.
"""

from __future__ import annotations

import sys

from mmopt.cli._apps import app, data_app
from mmopt.errors import MmoptError

__all__ = ["app", "data_app", "main"]


def _load_commands() -> None:
    import importlib

    for name in ("data_inspect", "data_synth", "data_import", "backtest", "sweep"):
        try:
            importlib.import_module(f"mmopt.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mmopt.cli.{name}":
                raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; bad input prints one clear line on stderr and exits 2."""
    _load_commands()
    try:
        app(args=argv, standalone_mode=False)
    except MmoptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            print("aborted", file=sys.stderr)
            return 130
        raise
    return 0
