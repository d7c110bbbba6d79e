"""``mmopt data inspect ROOT``: a table of every shard under a data root (validated on load)."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mmopt.cli._apps import data_app
from mmopt.data.catalog import open_catalog
from mmopt.data.inventory import InspectionReport, QuoteStats, ShardSummary, inspect_root

__all__ = ["inspect_command", "render_report"]

INSPECT_HELP = (
    "Validate and summarise every shard under ROOT: events by kind, time span, tick size, "
    "crossed-book updates (best bid >= best ask), stale depth rows (a bid_level/ask_level row "
    "better than its side's last bid/ask row: depth lagging the best-price stream; the engine "
    "drops them) and the share of trades printing inside the best bid/ask seen just before "
    "them.\n\n"
    "Crossed books and trades outside the quote are real feed behaviour: they are counted, not "
    "rejected. An invalid file stops the command with an error naming the file, the row and "
    "the fix."
)


def _share(q: QuoteStats) -> str:
    share = q.inside_share
    return "n/a" if math.isnan(share) else f"{100 * share:.1f}% of {q.trades_with_quote:,}"


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def _tick(s: ShardSummary) -> str:
    return f"{s.tick_size:g}" + (" (inferred)" if s.tick_inferred else "")


def render_report(report: InspectionReport) -> Table:
    """One row per shard and a totals row."""
    table = Table(title=f"{report.root}", title_justify="left", show_lines=False)
    table.add_column("security", no_wrap=True)
    table.add_column("date", no_wrap=True)
    for name in ("events", "bid", "ask", "trade", "bid_level", "ask_level"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("first - last (UTC)", no_wrap=True)
    table.add_column("span", justify="right", no_wrap=True)
    table.add_column("tick", justify="right")
    table.add_column("crossed", justify="right", no_wrap=True)
    table.add_column("stale depth", justify="right", no_wrap=True)
    table.add_column("trades inside prior quote", justify="right")
    for s in report.shards:
        table.add_row(
            s.security,
            s.date,
            f"{s.events:,}",
            f"{s.bid:,}",
            f"{s.ask:,}",
            f"{s.trade:,}",
            f"{s.bid_level:,}",
            f"{s.ask_level:,}",
            f"{s.start:%H:%M:%S.%f}"[:-3] + f" - {s.end:%H:%M:%S.%f}"[:-3],
            _span(s.span_s),
            _tick(s),
            f"{s.quotes.crossed:,}",
            f"{s.quotes.stale_depth:,}",
            _share(s.quotes),
        )
    table.add_section()
    n_sec = len({s.security for s in report.shards})
    n_day = len({s.date for s in report.shards})
    table.add_row(
        f"total: {len(report.shards)} shards",
        f"{n_sec} sec, {n_day} days",
        f"{report.events:,}",
        *(f"{report.total(k):,}" for k in ("bid", "ask", "trade", "bid_level", "ask_level")),
        "",
        "",
        "",
        f"{report.quotes.crossed:,}",
        f"{report.quotes.stale_depth:,}",
        _share(report.quotes),
        style="bold",
    )
    return table


@data_app.command("inspect", help=INSPECT_HELP)
def inspect_command(
    root: Annotated[
        str,
        typer.Argument(
            help="Data root laid out as ROOT/security=SEC/date=YYYY-MM-DD/*.parquet: a local "
            "path or a pyarrow.fs URI (file://, s3://, gs://).",
            metavar="ROOT",
            show_default=False,
        ),
    ],
    security: Annotated[
        list[str] | None,
        typer.Option(
            "--security",
            "-s",
            help="Only this security (repeat the option for several). Default: all.",
            metavar="SEC",
            show_default=False,
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="First date to include (inclusive). Default: the first date.",
            metavar="YYYY-MM-DD",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            help="Last date to include (inclusive). Default: the last date.", metavar="YYYY-MM-DD"
        ),
    ] = None,
    content_hash: Annotated[
        bool,
        typer.Option(
            "--content-hash",
            help="Fingerprint files by a SHA-256 of their bytes instead of path, size and "
            "modification time (slower; stable across copies).",
        ),
    ] = False,
) -> None:
    """Validate ROOT and print one row per shard (see the command help)."""
    catalog = open_catalog(root, content_hash=content_hash)
    report = inspect_root(catalog, securities=security or None, start=start, end=end)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 200))
    console.print(render_report(report))
    console.print(
        f"{len(report.shards)} shards, {report.events:,} events; "
        f"catalog fingerprint {report.fingerprint}",
        highlight=False,
    )
