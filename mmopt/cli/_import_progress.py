"""Progress of `mmopt data import` on stderr: a rich bar with rows/s on a terminal, otherwise one
summary line every few seconds (so logs of long imports show progress and short ones stay quiet).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["LineProgress", "RichProgress", "import_progress"]

_PHASES = {"read": "reading and checking rows", "write": "sorting and writing shards"}


class LineProgress:
    """Prints ``import: <phase>: N rows (R rows/s)`` at most every ``every_s`` seconds."""

    def __init__(self, stream: TextIO, every_s: float = 5.0) -> None:
        self._stream = stream
        self._every = every_s
        self._phase = ""
        self._total: int | None = None
        self._rows = 0
        self._t0 = self._last = time.monotonic()
        self._printed = False

    def start(self, phase: str, total: int | None = None) -> None:
        if self._phase and self._printed:
            self._line()
        self._phase, self._total, self._rows = phase, total, 0
        self._t0 = time.monotonic()

    def advance(self, rows: int) -> None:
        self._rows += rows
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._line()

    def _line(self) -> None:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        of = f" of {self._total:,}" if self._total else ""
        print(
            f"import: {_PHASES.get(self._phase, self._phase)}: {self._rows:,}{of} rows "
            f"({self._rows / elapsed:,.0f} rows/s, {elapsed:.0f} s)",
            file=self._stream,
            flush=True,
        )
        self._printed = True

    def finish(self) -> None:
        if self._printed:
            self._line()


class RichProgress:
    """A transient rich bar per phase with rows done and rows/s."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows  {task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._t0 = time.monotonic()
        self._bar.start()

    def start(self, phase: str, total: int | None = None) -> None:
        if self._task is not None:
            self._bar.stop_task(self._task)
        self._t0 = time.monotonic()
        self._task = self._bar.add_task(_PHASES.get(phase, phase), total=total, rate="0")

    def advance(self, rows: int) -> None:
        if self._task is None:
            return
        self._bar.advance(self._task, rows)
        done = self._bar.tasks[-1].completed
        rate = done / max(time.monotonic() - self._t0, 1e-9)
        self._bar.update(self._task, rate=f"{rate:,.0f}")

    def finish(self) -> None:
        self._bar.stop()


def import_progress() -> LineProgress | RichProgress:
    """A bar on a terminal, summary lines otherwise (both on stderr)."""
    if sys.stderr.isatty():
        return RichProgress(Console(stderr=True))
    return LineProgress(sys.stderr)
