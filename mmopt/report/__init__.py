"""Reports of a sweep written as files (tables and PNGs), which the tracker logs to MLflow.

Typical use (the MLflow tracker calls it at the end of a sweep)::

    report = write_report(summary, out_dir, objective_names=("score",))
    report.files      # the paths written (index.md lists them, with skipped plots and why)

Works on the tracking protocol's dataclasses only (``SweepSummary``, ``TrialRecord``,
``ShardCurve``) plus the Optuna study; matplotlib draws on the Agg backend.
"""

from mmopt.report._curves import write_curves
from mmopt.report._report import Report, write_report
from mmopt.report._study_plots import write_study_plots
from mmopt.report._tables import (
    write_best_params,
    write_pareto_table,
    write_security_tables,
)

__all__ = [
    "Report",
    "write_best_params",
    "write_curves",
    "write_pareto_table",
    "write_report",
    "write_security_tables",
    "write_study_plots",
]
