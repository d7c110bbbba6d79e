"""The sweep's progress bar: trials done of the total, pruned / failed, best so far, rate, ETA."""

from __future__ import annotations

import math
import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    """A tqdm bar on stderr (``enabled=False``: silent); counts include resumed trials."""

    def __init__(self, total: int, done: int, *, enabled: bool, study_name: str) -> None:
        self._bar: Any = None
        self.complete = 0
        self.pruned = 0
        self.failed = 0
        self._best: tuple[float, int] | None = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=study_name, unit="trial",
                             file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def trial_done(self, state: str) -> None:
        if state == "COMPLETE":
            self.complete += 1
        elif state == "PRUNED":
            self.pruned += 1
        else:
            self.failed += 1
        if self._bar is not None:
            self._bar.update(1)
            self._refresh()

    def best(self, value: float | None, number: int | None) -> None:
        if value is not None and number is not None and not math.isnan(value):
            self._best = (value, number)

    @property
    def best_so_far(self) -> tuple[float, int] | None:
        """(value, trial number) of the best trial shown, or None."""
        return self._best

    def _refresh(self) -> None:
        best = "-" if self._best is None else f"{self._best[0]:.6g} (#{self._best[1]})"
        self._bar.set_postfix_str(
            f"complete={self.complete} pruned={self.pruned} failed={self.failed} best={best}",
            refresh=True,
        )

    def tick(self) -> None:
        """Redraw (elapsed time, ETA) while waiting."""
        if self._bar is not None:
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
