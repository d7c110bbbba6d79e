"""The ``mmopt`` command line: one entry point for ``data ...`` and the Hydra-driven commands.

Each command lives in its own module and attaches itself to the apps in ``_apps``.
"""

from __future__ import annotations

import sys
import traceback

from mmopt.cli._apps import app, data_app
from mmopt.errors import MmoptError
from mmopt.redact import install_masking, mask_secrets

__all__ = ["app", "data_app", "main"]


def _load_commands() -> None:
    import importlib

    for name in ("data_inspect", "data_synth", "data_import", "backtest", "sweep", "strategies"):
        try:
            importlib.import_module(f"mmopt.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mmopt.cli.{name}":
                raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Usage errors print Click's usage message (exit 2); an MmoptError (bad data or config)
    prints one ``error: ...`` line naming the file or key and the fix (exit 2); anything else
    prints its traceback (exit 1). Passwords in URLs are masked in all of it, and in every log
    record and warning (``mmopt.redact``).
    """
    install_masking()
    _load_commands()
    try:
        app(args=argv, prog_name="mmopt", standalone_mode=True)
    except MmoptError as exc:
        print(f"error: {mask_secrets(exc)}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(mask_secrets(code), file=sys.stderr)
        return 1
    except Exception:  # a bug or an unexpected failure: the traceback, passwords masked
        print(mask_secrets(traceback.format_exc()), file=sys.stderr, end="")
        return 1
    return 0
