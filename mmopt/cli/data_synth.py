"""``mmopt data synth``: write a synthetic dataset (N securities x D days) in the Hive layout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mmopt.cli._apps import data_app
from mmopt.data._schema import Instrument
from mmopt.data._synth_config import SynthConfig
from mmopt.data.synth import SynthShard, generate_dataset

__all__ = ["synth"]

_SCENARIO_HELP = (
    "Market scenario: normal, high_vol (about 3x volatility, more volatile spells), "
    "low_liquidity (thin books, wide spreads, fewer events), trending (a drift of about 6% over "
    "the day, sign drawn per shard) or flash_crash (a 9% fall within a minute, mostly recovered)."
)


@data_app.command("synth")
def synth(
    out_root: Annotated[
        Path,
        typer.Argument(
            help="Data root to write: ROOT/security=SEC/date=YYYY-MM-DD/part-0.parquet plus "
            "ROOT/instruments.csv. Created if missing.",
            show_default=False,
        ),
    ],
    securities: Annotated[
        int, typer.Option("--securities", "-n", help="Number of securities (SYN00, SYN01, ...).")
    ] = 4,
    days: Annotated[
        int, typer.Option("--days", "-d", help="Number of trading days per security.")
    ] = 2,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and options give identical files.")
    ] = 0,
    scenario: Annotated[str, typer.Option(help=_SCENARIO_HELP)] = "normal",
    events_per_day: Annotated[
        int,
        typer.Option(
            help="Expected rows per shard for a security of average activity (securities differ "
            "by about 0.5x to 1.2x; scenarios change it too).",
        ),
    ] = 180_000,
    start_date: Annotated[
        str, typer.Option(help="First trading date, YYYY-MM-DD.")
    ] = "2024-01-02",
    session_start: Annotated[
        str, typer.Option(help="Session start time of day, HH:MM UTC.")
    ] = "09:00",
    session_seconds: Annotated[
        float, typer.Option(help="Session length in seconds, auctions included.")
    ] = 7200.0,
    opening_auction_seconds: Annotated[
        float,
        typer.Option(help="Opening auction at the start of the session: no trades, one uncross "
                     "print at its end."),
    ] = 60.0,
    closing_auction_seconds: Annotated[
        float, typer.Option(help="Closing auction at the end of the session, ended by an "
                            "uncross print.")
    ] = 60.0,
    depth_levels: Annotated[
        int, typer.Option(help="Price levels per side in the snapshot and always populated "
                          "during continuous trading (>= 10).")
    ] = 20,
    weekends: Annotated[
        bool,
        typer.Option("--weekends/--skip-weekends",
                     help="Trade on Saturdays and Sundays too, or skip them."),
    ] = False,
    top_of_book: Annotated[
        bool,
        typer.Option("--top-of-book/--no-top-of-book",
                     help="Also write bid/ask rows whenever the best price or size changes."),
    ] = True,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite",
                     help="Replace shards of a different dataset already in OUT_ROOT (otherwise "
                     "that is an error and nothing is written)."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line.")] = (
        False
    ),
) -> None:
    """Generate a seeded synthetic market (L2 book, trades, auctions) as Parquet shards."""
    config = SynthConfig(
        n_securities=securities,
        n_days=days,
        start_date=start_date,
        seed=seed,
        scenario=scenario,
        events_per_day=events_per_day,
        session_start=session_start,
        session_seconds=session_seconds,
        opening_auction_seconds=opening_auction_seconds,
        closing_auction_seconds=closing_auction_seconds,
        depth_levels=depth_levels,
        skip_weekends=not weekends,
        top_of_book=top_of_book,
    )
    console = Console(highlight=False)
    started = time.perf_counter()
    dataset = generate_dataset(config, out_root, overwrite=overwrite)
    seconds = time.perf_counter() - started
    if not quiet:
        console.print(_table(dataset.shards, dataset.instruments))
    console.print(
        f"wrote {len(dataset.shards)} shards, {dataset.events:,} events "
        f"({config.scenario}, seed {config.seed}) to {out_root} in {seconds:.2f} s"
    )


def _table(shards: tuple[SynthShard, ...], instruments: tuple[Instrument, ...]) -> Table:
    ticks = {i.security: i.tick_size for i in instruments}
    table = Table(title="synthetic shards")
    for col in ("security", "date", "tick", "events", "trades", "file"):
        table.add_column(col, justify="right" if col in ("tick", "events", "trades") else "left")
    for s in shards:
        table.add_row(
            s.security, s.date, str(ticks.get(s.security, "")), f"{s.events:,}",
            f"{s.trades:,}", str(s.path),
        )
    return table

