"""``write_report``: every table and plot of a finished sweep into one directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmopt.report._curves import write_curves
from mmopt.report._overfit_plot import write_overfit_plot, write_summary_file
from mmopt.report._sensitivity import write_sensitivity
from mmopt.report._study_plots import write_study_plots
from mmopt.report._tables import write_best_params, write_pareto_table, write_security_tables
from mmopt.report._walk_forward import (
    write_fold_table,
    write_stability,
    write_stitched_equity,
)
from mmopt.tracking._protocol import SweepSummary

__all__ = ["Report", "write_report"]


@dataclass(frozen=True, slots=True)
class Report:
    """The files written (``index.md`` last) and the ones skipped, with the reason."""

    out_dir: Path
    files: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...]

    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.files)

    def moved(self, src: Path, dst: Path) -> Report:
        """The same report after its folder ``src`` was moved into ``dst``."""
        return Report(dst, tuple(dst / p.relative_to(src) for p in self.files), self.skipped)


def write_report(
    summary: SweepSummary, out_dir: str | Path, objective_names: Sequence[str] = ()
) -> Report:
    """Tables of the best trial, its curves, the Pareto front and Optuna's plots.

    Never raises for one part that fails (it is listed as skipped, with the error).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []

    def attempt(name: str, make: Callable[[], Any]) -> None:
        try:
            made = make()
        except Exception as exc:  # one broken part must not lose the others
            skipped.append((name, f"{type(exc).__name__}: {exc}"))
            return
        files.extend(made if isinstance(made, list) else [made])

    if summary.best:
        best = summary.best[0]
        attempt("best_trial_securities.*", lambda: write_security_tables(best, out))
        attempt("best_params.yaml", lambda: write_best_params(best, out))
        if len(summary.best) > 1 or len(best.values or ()) > 1:
            attempt(
                "pareto_front.csv",
                lambda: write_pareto_table(summary.best, objective_names, out),
            )
        if summary.best_curves:
            attempt(
                "best_*.png",
                lambda: write_curves(summary.best_curves, out, f"best trial {best.number}"),
            )
        else:
            skipped.append(("best_equity.png, best_inventory.png", "no curves (no re-run)"))
    else:
        skipped.append(("best_trial_securities.*", "no complete feasible trial"))

    if summary.report is not None:
        report = summary.report
        attempt("summary.json", lambda: write_summary_file(report, out))
        if report.overfitting.pbo is not None:
            attempt("overfit_logits.png", lambda: write_overfit_plot(report, out))
        else:
            skipped.append(("overfit_logits.png", "no PBO for this study"))
    if summary.best and summary.study is not None:
        chosen = summary.best[0].number
        attempt("sensitivity.png", lambda: write_sensitivity(summary.study, chosen, out))
    wf = summary.walk_forward
    if wf is not None:
        attempt("walk_forward_folds.*", lambda: write_fold_table(wf, out))
        attempt("param_stability.csv", lambda: write_stability(wf, out))
        if wf.curves:
            attempt("walk_forward_equity.png", lambda: write_stitched_equity(wf, out))
        else:
            skipped.append(("walk_forward_equity.png", "no curves (no re-run)"))

    if summary.study is None:
        skipped.append(("optuna_*.png", "no study given"))
    else:
        try:
            plots, why = write_study_plots(summary.study, out, objective_names)
        except Exception as exc:
            plots, why = [], [("optuna_*.png", f"{type(exc).__name__}: {exc}")]
        files += plots
        skipped += why
    files.append(_write_index(out, files, skipped, summary))
    return Report(out, tuple(files), tuple(skipped))


def _write_index(
    out: Path, files: list[Path], skipped: list[tuple[str, str]], summary: SweepSummary
) -> Path:
    lines = [
        "# Sweep report",
        "",
        f"status: {summary.status}; trials complete {summary.n_complete}, "
        f"pruned {summary.n_pruned}, failed {summary.n_failed}; {summary.elapsed_s:.1f} s",
        "",
    ]
    if summary.best:
        best = summary.best[0]
        values = ", ".join(f"{v:.6g}" for v in best.values or ())
        lines += [f"best trial: {best.number} ({values})", ""]
        if not summary.best_feasible:
            misses = "; ".join(summary.best_kpi_failures) or "see its constraints"
            lines += [f"INFEASIBLE: no complete trial meets the KPI targets; the best by "
                      f"objective misses {misses}", ""]
    if summary.report is not None:
        lines += [f"overfitting: {summary.report.overfitting.text}", ""]
        lines += [f"* note: {note}" for note in summary.report.overfitting.notes]
        lines += [""] if summary.report.overfitting.notes else []
    wf = summary.walk_forward
    if wf is not None:
        lines += [f"walk-forward: {len(wf.folds)} fold(s), selection={wf.selection}; stitched "
                  f"out-of-sample {wf.objective_name}: {wf.stitched_value:.6g} (the best trial "
                  "above is the last fold's choice; see walk_forward_folds.md)", ""]
    lines += ["## Files", ""] + [f"* [{p.name}]({p.name})" for p in files]
    if skipped:
        lines += ["", "## Skipped", ""] + [f"* {name}: {why}" for name, why in skipped]
    path = out / "index.md"
    path.write_text("\n".join(lines) + "\n")
    return path
