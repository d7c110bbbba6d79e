"""``mmopt data import``: vendor files (LOBSTER, CSV/Parquet + column map) -> Hive shards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mmopt.cli._apps import data_app
from mmopt.cli._import_progress import import_progress
from mmopt.data.importers import (
    ImportProgress,
    ImportReport,
    InstrumentOptions,
    LobsterOptions,
    import_lobster,
    import_tabular,
    load_tabular_config,
)
from mmopt.errors import ConfigError, DataError

__all__ = ["data_import"]

_LOB = "LOBSTER"
_CSV = "CSV / Parquet"
_INS = "Instrument (written to ROOT/instruments.csv)"


class ImportFormat(StrEnum):
    lobster = "lobster"
    csv = "csv"


class Levels(StrEnum):
    price = "price"
    rank = "rank"


class CrossTrades(StrEnum):
    drop = "drop"
    keep = "keep"


@data_app.command("import")
def data_import(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Input files or directories. lobster: message and/or orderbook files (or "
            "folders holding them), paired by name. csv: CSV (also .gz) or Parquet files of one "
            "layout each.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        ImportFormat,
        typer.Option(
            "--format",
            help="lobster: LOBSTER message+orderbook pairs. csv: CSV or Parquet quotes "
            "and/or trades read through a column map (--map / --col).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Data root to write ROOT/security=SEC/date=YYYY-MM-DD/part-0.parquet and "
            "ROOT/instruments.csv into (created if missing).",
            show_default=False,
        ),
    ],
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an existing shard that differs. Without it a different "
            "existing shard is an error; an identical one is left untouched.",
        ),
    ] = False,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="IANA time zone of the input times (and of the shard date for csv). "
            "Default: America/New_York for lobster, UTC for csv.",
            show_default=False,
        ),
    ] = None,
    security_prefix: Annotated[
        str,
        typer.Option(
            "--security-prefix",
            help="Prefix for the ticker in the file name, e.g. 'nasdaq.' gives "
            "security nasdaq.AAPL.",
            rich_help_panel=_LOB,
        ),
    ] = "",
    cross_trades: Annotated[
        CrossTrades,
        typer.Option(
            "--cross-trades",
            help="Type 6 messages (auction cross trades): drop them, or keep them "
            "as trades without an aggressor side.",
            rich_help_panel=_LOB,
        ),
    ] = CrossTrades.drop,
    top_of_book: Annotated[
        bool,
        typer.Option(
            "--top-of-book",
            help="Also write a bid/ask row whenever the best price or size changes.",
            rich_help_panel=_LOB,
        ),
    ] = False,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help="YAML column map: columns: {time: ..., bid: ..., price: ...} plus optional "
            "time_format, timezone, security, date, type_values, side_values, delimiter.",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    col: Annotated[
        list[str] | None,
        typer.Option(
            "--col",
            help="KEY=COLUMN, repeatable; overrides the map file. Keys: time, bid, ask, "
            "bid_size, ask_size, price, size, side, type, level, security, date, exch_time.",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    time_format: Annotated[
        str | None,
        typer.Option(
            "--time-format",
            help="auto, iso, s, ms, us, ns (epoch units) or a strftime pattern "
            "such as '%Y-%m-%d %H:%M:%S.%f' (without a date part it needs --date or a date "
            "column). Default: auto.",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    security: Annotated[
        str | None,
        typer.Option(
            "--security",
            help="Security of every row (else map a security column).",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Shard date YYYY-MM-DD of every row (else a date column, else the date of "
            "each time in --timezone).",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    levels: Annotated[
        Levels | None,
        typer.Option(
            "--levels",
            help="Depth rows (bid_level/ask_level): price = 'the size at this price is now q' "
            "(a rank in the level column is checked); rank = 'level k is now price P size q', "
            "converted into price-keyed updates with removals. Default: price.",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            help="CSV field separator. Default: ','.",
            rich_help_panel=_CSV,
            show_default=False,
        ),
    ] = None,
    tick_size: Annotated[
        float | None,
        typer.Option(
            "--tick-size",
            help="Price increment; quoted prices are checked against it. Default: "
            "inferred from the quoted prices.",
            rich_help_panel=_INS,
            show_default=False,
        ),
    ] = None,
    lot_size: Annotated[
        float | None,
        typer.Option(
            "--lot-size",
            help="Size increment. Default: 1 for lobster (shares), inferred from the "
            "sizes for csv.",
            rich_help_panel=_INS,
            show_default=False,
        ),
    ] = None,
    contract_type: Annotated[
        str, typer.Option("--contract-type", help="linear or inverse.", rich_help_panel=_INS)
    ] = "linear",
    contract_size: Annotated[
        float,
        typer.Option(
            "--contract-size",
            help="Quote currency per contract (inverse) or units per lot.",
            rich_help_panel=_INS,
        ),
    ] = 1.0,
    quote_currency: Annotated[
        str | None,
        typer.Option(
            "--quote-currency",
            help="Currency of prices. Default: USD for lobster, empty for csv.",
            rich_help_panel=_INS,
            show_default=False,
        ),
    ] = None,
    maker_fee_bps: Annotated[
        float,
        typer.Option(
            "--maker-fee-bps",
            help="Maker fee in basis points (negative = rebate).",
            rich_help_panel=_INS,
        ),
    ] = 0.0,
    taker_fee_bps: Annotated[
        float,
        typer.Option("--taker-fee-bps", help="Taker fee in basis points.", rich_help_panel=_INS),
    ] = 0.0,
) -> None:
    """Import vendor market data into the Hive layout, atomically, one shard per security-day.

    Inputs are streamed in chunks (memory stays bounded for any input size) and every row is
    checked before any shard is moved into --out; an interrupted import leaves nothing behind.
    Re-importing the same files gives byte-identical shards (existing identical shards are left
    untouched). Long imports show a progress bar with rows/s on stderr (summary lines every few
    seconds when stderr is not a terminal).
    """
    lobster = fmt is ImportFormat.lobster
    csv_only = {
        "--map": map_file,
        "--col": col,
        "--time-format": time_format,
        "--security": security,
        "--date": date,
        "--delimiter": delimiter,
        "--levels": levels,
    }
    lob_only = {
        "--security-prefix": security_prefix or None,
        "--cross-trades": None if cross_trades is CrossTrades.drop else cross_trades,
        "--top-of-book": top_of_book or None,
    }
    misplaced = [k for k, v in (csv_only if lobster else lob_only).items() if v]
    if misplaced:
        raise ConfigError(
            f"{misplaced[0]} applies to --format {'csv' if lobster else 'lobster'} only; remove it"
        )
    check_out_dir(out)
    instrument = InstrumentOptions(
        tick_size=tick_size,
        lot_size=1.0 if lobster and lot_size is None else lot_size,
        contract_type=contract_type,  # type: ignore[arg-type]  # checked by InstrumentOptions
        contract_size=contract_size,
        quote_currency=quote_currency if quote_currency is not None else ("USD" if lobster else ""),
        maker_fee_bps=maker_fee_bps,
        taker_fee_bps=taker_fee_bps,
    )
    if lobster:
        options = LobsterOptions(
            timezone=timezone or "America/New_York",
            security_prefix=security_prefix,
            cross_trades=cross_trades.value,
            top_of_book=top_of_book,
        )
        with _progress() as progress:
            report = import_lobster(
                inputs, out, options, instrument, overwrite=overwrite, progress=progress
            )
    else:
        config = load_tabular_config(
            map_file,
            col or (),
            time_format=time_format,
            timezone=timezone,
            security=security,
            date=date,
            delimiter=delimiter,
            levels=None if levels is None else levels.value,
        )
        with _progress() as progress:
            report = import_tabular(
                inputs, out, config, instrument, overwrite=overwrite, progress=progress
            )
    _print_report(report)


@contextmanager
def _progress() -> Iterator[ImportProgress]:
    progress = import_progress()
    try:
        yield progress
    except OSError as exc:  # the file system refused (full disk, permissions): say so plainly
        where = f" ({exc.filename})" if exc.filename else ""
        raise DataError(
            f"import stopped: {exc.strerror or exc}{where}; no partial shard is left behind; "
            "free space or fix the permissions of --out and run the import again"
        ) from None
    finally:
        progress.finish()


def check_out_dir(out: Path) -> None:
    """--out must be a directory we can create or write into; checked before any work."""
    path = out
    while not path.exists():
        if path.parent == path:
            break
        path = path.parent
    if path.exists() and not path.is_dir():
        what = "--out" if path == out else f"--out {out}: {path}"
        raise ConfigError(
            f"{what} is a file, not a directory; pass a directory for the data root (it is "
            "created if missing)"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--out {out}: cannot write into {path} (permission denied); pass a directory you "
            "can write to"
        )


def _print_report(report: ImportReport) -> None:
    for shard in report.shards:
        state = "unchanged" if shard.unchanged else "written"
        typer.echo(
            f"{shard.security} {shard.date}: {shard.n_events} events, {state} -> {shard.path}"
        )
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
