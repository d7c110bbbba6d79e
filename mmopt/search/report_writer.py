"""``write_report_lazily``: the report writer the sweep drivers hand their tracker.

``mmopt.report`` draws with matplotlib, whose import costs the driver about 30 MB and half a
second; the report is written once, at the end of a sweep, and not at all by the null tracker.
So the drivers pass this function, which imports ``mmopt.report`` only when a report is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mmopt.tracking import SweepSummary

__all__ = ["write_report_lazily"]


def write_report_lazily(summary: SweepSummary, out_dir: Path,
                        objective_names: Sequence[str]) -> object:
    """``mmopt.report.write_report(summary, out_dir, objective_names)``, imported on call."""
    from mmopt.report import write_report

    return write_report(summary, out_dir, objective_names)
