"""``ReportWriter``: how a tracker is handed the function that renders a sweep's report.

The tracker logs files, it does not draw them: whoever builds the tracker (the sweep driver)
passes ``mmopt.report.write_report``, so mmopt.report may depend on the tracking records while
mmopt.tracking never imports mmopt.report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mmopt.tracking._protocol import SweepSummary

__all__ = ["ReportWriter"]

#: ``write(summary, out_dir, objective_names)`` writes the report's files under ``out_dir``
ReportWriter = Callable[[SweepSummary, Path, Sequence[str]], object]
