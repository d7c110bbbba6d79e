"""The study's overfitting statistics as MLflow parent-run metrics and tags (plain rows)."""

from __future__ import annotations

import math

from mmopt.tracking.study_summary import StudySummary

__all__ = ["overfit_metrics", "overfit_tags"]


def overfit_metrics(summary: StudySummary) -> dict[str, float]:
    """``overfit.pbo``, ``overfit.deflated_sharpe(_p)``, ``overfit.psr``, the best trial's
    stated Sharpe / Sortino (annualised, standard error, intervals), the hold-out objective;
    non-finite values are left out."""
    report = summary.overfitting
    rows = {
        "overfit.pbo": report.pbo_value,
        "overfit.deflated_sharpe": report.dsr,
        "overfit.deflated_sharpe_p": report.dsr_p,
        "overfit.psr": report.psr,
        "overfit.n_tried": float(report.n_tried),
        "objective_in_sample": summary.objective_in_sample,
        "objective_out_of_sample": summary.objective_out_of_sample,
    }
    if report.pbo is not None:
        rows["overfit.pbo_prob_oos_loss"] = report.pbo.prob_oos_loss
        rows["overfit.pbo_mean_oos_rank"] = report.pbo.mean_oos_rank
    if report.deflated is not None:
        rows["overfit.expected_max_sharpe_per_interval"] = report.deflated.expected_max
    for ratio in (report.sharpe, report.sortino):
        if ratio is not None:
            rows[f"best.{ratio.name}_annualised"] = ratio.annualised
            rows[f"best.{ratio.name}_per_interval"] = ratio.per_interval
            if ratio.name == "sharpe":
                rows["best.sharpe_standard_error"] = ratio.standard_error
                rows["best.n_intervals"] = float(ratio.n_intervals)
    return {k: float(v) for k, v in rows.items() if math.isfinite(v)}


def overfit_tags(summary: StudySummary) -> dict[str, str]:
    """The verdict (``likely_overfit`` / ...), its sentence, and whether the best trial's
    Sharpe rests on too few intervals."""
    report = summary.overfitting
    tags = {"overfit.verdict": report.verdict, "overfit.verdict_text": report.text}
    if report.sharpe is not None:
        tags["best.sharpe_too_short"] = str(report.sharpe.too_short).lower()
        tags["best.sharpe_annualisation"] = report.sharpe.annualisation
    return tags
