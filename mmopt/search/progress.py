"""The sweep's progress: trials done of the total, pruned / failed, best so far, rate, ETA.

On a terminal a tqdm bar on stderr. When stderr is not a terminal (a log file, a CI job, a
pipe) a bar would write a line per update; there one summary line is printed every
``every_s`` seconds instead (default ``DEFAULT_EVERY_S``, or the environment variable
``MMOPT_PROGRESS_EVERY_S``; ``mmopt sweep --progress-every SECONDS`` sets it), and one last line
when the sweep ends.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, TextIO

__all__ = ["DEFAULT_EVERY_S", "EVERY_ENV", "Progress", "summary_every_s"]

DEFAULT_EVERY_S = 10.0
EVERY_ENV = "MMOPT_PROGRESS_EVERY_S"


def summary_every_s() -> float:
    """Seconds between two summary lines: ``MMOPT_PROGRESS_EVERY_S`` or the default."""
    text = os.environ.get(EVERY_ENV, "").strip()
    if not text:
        return DEFAULT_EVERY_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        from mmopt.errors import ConfigError

        raise ConfigError(f"{EVERY_ENV}={text!r}: expected seconds >= 0 (fix: e.g. "
                          f"{EVERY_ENV}=30, or unset it for {DEFAULT_EVERY_S:g})")
    return value


class Progress:
    """A tqdm bar on a terminal, summary lines otherwise (``enabled=False``: silent); counts
    include resumed trials. ``stream`` and ``every_s`` default to stderr and
    ``summary_every_s()``; ``terminal`` to whether the stream is a terminal."""

    def __init__(self, total: int, done: int, *, enabled: bool, study_name: str,
                 stream: TextIO | None = None, every_s: float | None = None,
                 terminal: bool | None = None, show_best: bool = True) -> None:
        self._bar: Any = None
        self._show_best = show_best  # False: several studies at once (walk-forward folds)
        self._stream = sys.stderr if stream is None else stream
        self._lines = False
        self._every = summary_every_s() if every_s is None else every_s
        self._name, self._total, self._done, self._initial = study_name, total, done, done
        self._t0 = self._last = time.monotonic()
        self.complete = 0
        self.pruned = 0
        self.failed = 0
        self._best: tuple[float, int] | None = None
        if not enabled:
            return
        if terminal is None:
            terminal = bool(getattr(self._stream, "isatty", lambda: False)())
        if terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=study_name, unit="trial",
                             file=self._stream, dynamic_ncols=True, smoothing=0.1)
        else:
            self._lines = True

    def trial_done(self, state: str) -> None:
        if state == "COMPLETE":
            self.complete += 1
        elif state == "PRUNED":
            self.pruned += 1
        else:
            self.failed += 1
        self._done += 1
        if self._bar is not None:
            self._bar.update(1)
            self._refresh()
        self._line_if_due()

    def best(self, value: float | None, number: int | None) -> None:
        if value is not None and number is not None and not math.isnan(value):
            self._best = (value, number)

    @property
    def best_so_far(self) -> tuple[float, int] | None:
        """(value, trial number) of the best trial shown, or None."""
        return self._best

    def _counts(self) -> str:
        counts = f"complete={self.complete} pruned={self.pruned} failed={self.failed}"
        if not self._show_best:
            return counts
        best = "-" if self._best is None else f"{self._best[0]:.6g} (#{self._best[1]})"
        return f"{counts} best={best}"

    def _refresh(self) -> None:
        self._bar.set_postfix_str(self._counts(), refresh=True)

    def summary_line(self) -> str:
        """``study: 12/100 trials (complete=.. pruned=.. failed=.. best=..), 0.8 trial/s,
        15 s elapsed, ETA 110 s``."""
        elapsed = time.monotonic() - self._t0
        run = self._done - self._initial
        rate = run / elapsed if elapsed > 0 else 0.0
        left = max(self._total - self._done, 0)
        eta = f"ETA {left / rate:.0f} s" if rate > 0 and left else ("done" if not left else
                                                                   "ETA ?")
        return (f"{self._name}: {self._done}/{self._total} trials ({self._counts()}), "
                f"{rate:.2g} trial/s, {elapsed:.0f} s elapsed, {eta}")

    def _line_if_due(self) -> None:
        if self._lines and time.monotonic() - self._last >= self._every:
            self._print_line()

    def _print_line(self) -> None:
        self._last = time.monotonic()
        print(self.summary_line(), file=self._stream, flush=True)

    def tick(self) -> None:
        """Redraw (elapsed time, ETA) while waiting; a summary line when one is due."""
        if self._bar is not None:
            self._bar.refresh()
        self._line_if_due()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._lines:
            self._print_line()
            self._lines = False
