"""The logit distribution of CSCV (PBO) as a histogram, and the study's summary.json."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from mmopt.tracking.study_summary import SUMMARY_FILE, StudySummary

__all__ = ["write_overfit_plot", "write_summary_file"]

PLOT_FILE = "overfit_logits.png"


def write_overfit_plot(summary: StudySummary, out: Path) -> Path:
    """``overfit_logits.png``: how often the in-sample winner ranked where out of sample
    (logit <= 0: at or below the median, the share of those is PBO)."""
    pbo = summary.overfitting.pbo
    if pbo is None:
        raise ValueError("no PBO for this study (see the notes in summary.json)")
    edges = np.asarray(pbo.logit_edges)
    counts = np.asarray(pbo.logit_counts, dtype=float)
    fig = Figure(figsize=(7.0, 3.6), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["tab:red" if right <= 0 else "tab:blue" for right in edges[1:]]
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=colours,
           edgecolor="white")
    ax.axvline(0.0, color="black", linewidth=1.0)
    ax.set_xlabel("logit of the in-sample winner's out-of-sample rank")
    ax.set_ylabel("combinations")
    ax.set_title(f"PBO {pbo.pbo:.2f} (CSCV: {pbo.n_trials} trials x {pbo.n_slices} slices, "
                 f"{pbo.n_blocks} blocks, {pbo.n_combinations} combinations)", fontsize=9)
    fig.tight_layout()
    path = out / PLOT_FILE
    fig.savefig(path)
    return path


def write_summary_file(summary: StudySummary, out: Path) -> Path:
    """The study's ``summary.json`` beside the report (the same text as RUN_DIR/STUDY/)."""
    path = out / SUMMARY_FILE
    path.write_text(summary.to_json(), encoding="utf-8")
    return path
