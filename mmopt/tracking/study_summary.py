"""What a sweep concludes, as one frozen value and as ``RUN_DIR/STUDY/summary.json``.

``StudySummary`` holds the best trial (number, parameters, objective in sample and on the
hold-out dates), the overfitting statistics (``pbo``, ``deflated_sharpe``, ``psr``, the verdict
and the details in ``overfitting``) and one ``FoldRow`` per walk-forward fold (empty unless a
walk-forward ran). ``to_json`` is the file's text (NaN and infinities become ``null``);
``write_summary_json`` replaces the file atomically (a temporary file in the same directory,
then ``os.replace``), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmopt.metrics.overfit_report import OverfitReport

__all__ = ["SCHEMA_VERSION", "SUMMARY_FILE", "FoldRow", "StudySummary", "summary_path",
           "write_summary_json"]

SCHEMA_VERSION = 1
SUMMARY_FILE = "summary.json"
_UNSAFE = re.compile(r"[^\w.\-]")


@dataclass(frozen=True, slots=True)
class FoldRow:
    """One walk-forward fold: its dates, its in-sample best and how that did out of sample."""

    fold: int
    train_dates: tuple[str, ...]
    test_dates: tuple[str, ...]
    is_best_trial: int  # the fold study's best trial number
    is_objective: float  # its objective in sample
    oos_objective: float  # the same parameters on the fold's test dates
    oos_winner_rank: int  # rank (1 = best in sample) of the out-of-sample winner in the top-K

    def as_dict(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "train_dates": list(self.train_dates),
            "test_dates": list(self.test_dates),
            "is_best_trial": self.is_best_trial,
            "is_objective": self.is_objective,
            "oos_objective": self.oos_objective,
            "oos_winner_rank": self.oos_winner_rank,
        }


@dataclass(frozen=True, slots=True)
class StudySummary:
    """The summary of one study (see the module docstring); probabilities NaN if unknown."""

    study: str
    status: str  # finished | interrupted | failed | stored (rebuilt from the storage)
    n_complete: int
    n_pruned: int
    n_failed: int
    best_trial: int | None
    best_feasible: bool
    params: tuple[tuple[str, Any], ...]  # every strategy parameter of the best trial
    objective_names: tuple[str, ...]
    values_in_sample: tuple[float, ...]  # one per objective
    values_out_of_sample: tuple[float, ...] | None  # hold-out re-run; None if none ran
    holdout_dates: tuple[str, ...]
    overfitting: OverfitReport
    folds: tuple[FoldRow, ...] = ()
    # walk-forward only: the objective pooled over every fold's chosen trial on its test dates
    stitched_out_of_sample: float | None = None

    @property
    def objective_in_sample(self) -> float:
        return self.values_in_sample[0] if self.values_in_sample else math.nan

    @property
    def objective_out_of_sample(self) -> float:
        values = self.values_out_of_sample
        return values[0] if values else math.nan

    def as_dict(self) -> dict[str, Any]:
        report = self.overfitting
        return {
            "schema": SCHEMA_VERSION,
            "study": self.study,
            "status": self.status,
            "n_complete": self.n_complete,
            "n_pruned": self.n_pruned,
            "n_failed": self.n_failed,
            "best_trial": self.best_trial,
            "best_feasible": self.best_feasible,
            "params": dict(self.params),
            "objective_names": list(self.objective_names),
            "objective_in_sample": self.objective_in_sample,
            "objective_out_of_sample": self.objective_out_of_sample,
            "values_in_sample": list(self.values_in_sample),
            "values_out_of_sample": (None if self.values_out_of_sample is None
                                     else list(self.values_out_of_sample)),
            "holdout_dates": list(self.holdout_dates),
            "pbo": report.pbo_value,
            "deflated_sharpe": report.dsr,
            "deflated_sharpe_p": report.dsr_p,
            "psr": report.psr,
            "verdict": report.verdict,
            "verdict_text": report.text,
            "overfitting": report.as_dict(),
            "folds": [row.as_dict() for row in self.folds],
            "stitched_out_of_sample": self.stitched_out_of_sample,
        }

    def as_dict_finite(self) -> dict[str, Any]:
        """``as_dict`` with NaN and infinities as None: what ``summary.json`` holds."""
        out: dict[str, Any] = _finite(self.as_dict())
        return out

    def to_json(self) -> str:
        """The text of ``summary.json`` (NaN as null, newline at the end)."""
        return json.dumps(self.as_dict_finite(), indent=2, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def summary_path(run_dir: str | Path, study: str) -> Path:
    """``RUN_DIR/STUDY/summary.json``; characters other than letters, digits, ``.``, ``_``
    and ``-`` in the study name become ``_`` (one directory level, never outside run_dir)."""
    name = _UNSAFE.sub("_", study).strip(".") or "_"
    return Path(run_dir) / name / SUMMARY_FILE


def write_summary_json(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (the old file stays whole until the swap)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".summary-", suffix=".json.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
