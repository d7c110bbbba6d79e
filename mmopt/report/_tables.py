"""Tables of the best trial: per security (CSV, Markdown, HTML), its parameters, the Pareto front.

Rows are one per security of ``TrialRecord.per_security`` plus an ``ALL`` row with the trial's
aggregate metrics. The CSV and HTML carry every metric; the Markdown keeps the columns a
market maker reads first (``KEY_COLUMNS``, those present).
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Sequence
from pathlib import Path

import yaml

from mmopt.tracking._protocol import TrialRecord

__all__ = [
    "KEY_COLUMNS",
    "write_best_params",
    "write_pareto_table",
    "write_security_tables",
]

KEY_COLUMNS: tuple[str, ...] = (
    "net_pnl",
    "gross_pnl",
    "fees_paid",
    "fills",
    "round_trips",
    "hit_rate",
    "sharpe",
    "max_drawdown",
    "cvar95",
    "rms_inventory_ratio",
    "markout_10s_bps",
    "time_two_sided",
)
TOTAL_ROW = "ALL"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return str(value)


def _security_rows(best: TrialRecord) -> tuple[list[str], list[dict[str, object]]]:
    columns: list[str] = []
    rows: list[dict[str, object]] = []
    sources = [(s.security, s.metrics) for s in best.per_security]
    sources.append((TOTAL_ROW, best.metrics))
    for security, metrics in sources:
        row: dict[str, object] = {"security": security}
        for name, value in metrics:
            if name not in columns:
                columns.append(name)
            row[name] = float(value)
        rows.append(row)
    return ["security", *columns], rows


def write_security_tables(best: TrialRecord, out_dir: Path) -> list[Path]:
    """``best_trial_securities.{csv,md,html}``; the header names the trial and its values."""
    columns, rows = _security_rows(best)
    csv_path = out_dir / "best_trial_securities.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(v) for k, v in row.items()})

    title = _title(best)
    key = ["security", *[c for c in KEY_COLUMNS if c in columns]]
    if len(key) == 1:
        key = columns[:12]
    md_lines = [f"# {title}", "", "| " + " | ".join(key) + " |"]
    md_lines.append("|" + "|".join("---" if c == "security" else "---:" for c in key) + "|")
    for row in rows:
        md_lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in key) + " |")
    md_path = out_dir / "best_trial_securities.md"
    md_path.write_text("\n".join(md_lines) + "\n")

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    html_path = out_dir / "best_trial_securities.html"
    html_path.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><table border='1' cellspacing='0' cellpadding='3'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"
    )
    return [csv_path, md_path, html_path]


def _title(best: TrialRecord) -> str:
    values = ", ".join(_fmt(float(v)) for v in best.values or ())
    return f"Best trial {best.number} (objective {values or 'n/a'}) per security"


def write_best_params(best: TrialRecord, out_dir: Path) -> Path:
    """``best_params.yaml``: every strategy parameter of the best trial (sampled ones win)."""
    params = {**dict(best.strategy_params), **dict(best.params)}
    path = out_dir / "best_params.yaml"
    header = f"# best trial {best.number}; searched: {', '.join(n for n, _ in best.params)}\n"
    path.write_text(header + yaml.safe_dump(params, sort_keys=False))
    return path


def write_pareto_table(
    front: Sequence[TrialRecord], objective_names: Sequence[str], out_dir: Path
) -> Path:
    """``pareto_front.csv``: trial number, objective values and sampled params of each point."""
    names = list(objective_names) or [f"objective_{i}" for i in range(len(front[0].values or ()))]
    param_names: list[str] = []
    for record in front:
        param_names += [n for n, _ in record.params if n not in param_names]
    path = out_dir / "pareto_front.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trial", *names, *param_names])
        for record in front:
            values = [_fmt(float(v)) for v in record.values or ()]
            params = record.params_dict()
            writer.writerow([record.number, *values, *[params.get(n, "") for n in param_names]])
    return path
