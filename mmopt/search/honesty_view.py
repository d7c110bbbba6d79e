"""The honesty report on the console: the verdict line under the best trial, then the figures.

Reads the ``summary.json`` shape (a dict), so that ``mmopt sweep`` and ``mmopt show`` print
the same lines from the same data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.text import Text

from mmopt.metrics.overfit_report import format_p

__all__ = ["honesty_lines"]

_STYLE = {"likely_overfit": "bold red", "not_significant": "bold yellow",
          "holds_up": "bold green", "unknown": "bold"}


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}g}"


def _p(value: Any) -> str:
    text = format_p(math.nan if value is None else float(value))
    return text if text[0] in "<>" else f"= {text}"


def _ratio_line(name: str, data: Mapping[str, Any] | None, best: Any) -> str | None:
    if not data or data.get("annualised") is None:
        return None
    value = _num(data["annualised"], 4)
    if data.get("standard_error") is not None:
        value += f" +- {_num(data['standard_error'], 3)}"
    span = float(data.get("span_s") or 0.0)
    over = f"{span / 60:.1f} min" if span < 3600 else f"{span / 3600:.1f} h"
    where = (f"{data['n_intervals']} x {_num(data['interval_s'])} s intervals over "
             f"{over}, annualised x{float(data['annualisation_factor']):.2f} = "
             f"{data['annualisation']}")
    mark = "  TOO SHORT to mean much" if data.get("too_short") else ""
    return f"  {name} of #{best}: {value} ({where}){mark}"


def honesty_lines(summary: Mapping[str, Any]) -> list[Text]:
    """The verdict (styled), PBO with its logit quantiles, the deflated and probabilistic
    Sharpe, the best trial's Sharpe and Sortino with their sampling, the notes."""
    report = summary.get("overfitting") or {}
    verdict = str(summary.get("verdict") or "unknown")
    lines = [Text(str(summary.get("verdict_text") or ""), style=_STYLE.get(verdict, "bold"))]
    pbo = report.get("pbo")
    if pbo:
        q = pbo.get("logit_quantiles") or {}
        lines.append(Text(
            f"  PBO {_num(pbo['pbo'])} (CSCV, {pbo['n_blocks']} blocks, "
            f"{pbo['n_combinations']} combinations, {pbo['n_trials']} trials x "
            f"{pbo['n_slices']} time slices); logit median {_num(q.get('0.5'))}, "
            f"5-95% [{_num(q.get('0.05'))}, {_num(q.get('0.95'))}]; in-sample winner loses "
            f"money out of sample (Sharpe < 0) in {_num(pbo['prob_oos_loss'])} of "
            "combinations"))
    dsr = report.get("deflated_sharpe")
    if dsr:
        lines.append(Text(
            f"  deflated Sharpe {_num(dsr['dsr'])} (p {_p(dsr['p_value'])}; best "
            f"{_num(dsr['sharpe_per_interval'])} per interval vs "
            f"{_num(dsr['expected_max_sharpe_per_interval'])} expected from the best of "
            f"{dsr['n_trials']} trials by luck); "
            f"probabilistic Sharpe {_num(summary.get('psr'))}"))
    best = summary.get("best_trial")
    for name in ("sharpe", "sortino"):
        line = _ratio_line(name.capitalize(), report.get(name), best)
        if line:
            lines.append(Text(line))
    lines.extend(Text(f"  note: {note}", style="dim") for note in report.get("notes") or ())
    return lines
