"""``mmopt backtest [OVERRIDES]``: one backtest per selected shard, a per-shard table and totals.

    mmopt backtest strategy=price_follow data=binance data.securities=[binance-spot.BTCUSDT] \\
        data.dates=[2024-08-08] strategy.params.refill_interval_s=5 --record runs/rec

The overrides are Hydra's (see ``conf/``); the config is validated before any data is read.
``--record DIR`` (or ``record=DIR``) writes every order action and fill to
``DIR/order_events.parquet`` and ``DIR/fills.parquet`` (with ``security`` and ``date`` columns)
and the resolved config to ``DIR/config.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from mmopt.cli._apps import HYDRA_CONTEXT, app
from mmopt.cli._hydra import compose
from mmopt.config import RunConfig, StrategyConfig, from_hydra, to_dict
from mmopt.config._shards import open_shards
from mmopt.errors import ConfigError, MmoptError

__all__ = ["ShardOutcome", "backtest_command", "build_strategy", "run_backtests"]

BACKTEST_HELP = (
    "Run the configured strategy over every selected shard (one security-day each) and print "
    "net PnL, fees, fills, orders and positions per shard and in total. Arguments are Hydra "
    "overrides, e.g. strategy=price_follow data=binance data.dates=[2024-08-08] "
    "strategy.params.refill_interval_s=5 engine.step_ms=10."
)


@dataclass(frozen=True, slots=True)
class ShardOutcome:
    """One shard's backtest, reduced to what the table shows (plus the records to save)."""

    security: str
    date: str
    currency: str
    events: int
    net_pnl: float
    fees: float
    fills: int
    orders: int
    max_abs_position: float
    final_position: float
    result: Any  # mmopt.engine.BacktestResult
    metrics: Any  # mmopt.metrics.ShardMetrics


def build_strategy(config: StrategyConfig) -> tuple[Any, Any]:
    """The registered Strategy and its validated params object for ``config``."""
    from mmopt.config._convert import prefix_error
    from mmopt.strategies import get_strategy

    strategy = get_strategy(config.name)
    params = config.params_dict()
    try:
        return strategy, strategy.params_type(**params)
    except (ConfigError, ValueError, TypeError) as exc:
        raise prefix_error("strategy.params", exc, tuple(params)) from None


def run_backtests(run: RunConfig, console: Console | None = None) -> list[ShardOutcome]:
    """Load each selected shard once and backtest it; the same numbers the table prints."""
    from mmopt.data.instruments import check_instrument_rows
    from mmopt.data.loader import load_shard

    strategy, params = build_strategy(run.strategy)
    engine_config = run.engine.build()
    if run.record is not None:
        engine_config = dataclasses.replace(engine_config, record_orders=True)
    catalog = open_shards(run.data)
    check_instrument_rows(catalog.root, catalog.securities,
                          fees_in_config=engine_config.fees_in_config())
    outcomes = []
    for ref in catalog:
        if console is not None:
            console.print(f"[dim]backtest {ref.key} ({strategy.name})[/dim]")
        shard = load_shard(ref)
        result = _run_engine(shard.events, shard.instrument, strategy, params, engine_config)
        if console is not None and getattr(result, "two_clocks", False):
            console.print(f"[dim]{ref.key}: two clocks (exchange / local time); local times "
                          f"shifted by {result.local_clock_shift_ns / 1e9:+.6f} s so the smallest "
                          f"feed latency is engine.feed_latency_base_ns[/dim]")
        try:
            metrics = _shard_metrics(result, run.strategy, shard.instrument, ref.date)
        except MmoptError as exc:  # the per-shard table still stands without the metrics
            metrics = None
            if console is not None:
                console.print(f"[yellow]metrics of {ref.key} unavailable: {exc}[/yellow]")
        outcomes.append(
            _outcome(ref.security, ref.date, len(shard), shard.instrument, result, metrics)
        )
    return outcomes


def _run_engine(events: np.ndarray, instrument: Any, strategy: Any, params: Any,
                config: Any) -> Any:
    from mmopt.engine import run_backtest

    return run_backtest(events, instrument, strategy, params, config)


def _shard_metrics(result: Any, strategy: StrategyConfig, instrument: Any, label: str) -> Any:
    """The sweep's own per-shard metrics (same position limit, same interval)."""
    from mmopt.metrics import OrderCounts, compute_shard_metrics
    from mmopt.search.objective import position_limit

    counts = OrderCounts(submitted=int(result.n_submitted), cancelled=int(result.n_cancelled),
                         rejected=int(result.n_rejected), filled=int(result.n_filled))
    limit = position_limit(strategy.params_dict(), instrument)
    acks = None if result.acks is None else result.acks["latency_ns"]
    return compute_shard_metrics(result.fills, result.equity, counts, instrument, limit,
                                 label=label, ack_latency_ns=acks)


def _outcome(security: str, date: str, events: int, instrument: Any, result: Any,
             metrics: Any = None) -> ShardOutcome:
    from mmopt.metrics.pnl import pnl_currency

    return ShardOutcome(
        security=security,
        date=date,
        currency=pnl_currency(instrument),
        events=events,
        net_pnl=float(result.net_pnl),
        fees=float(result.fees),
        fills=int(result.n_fills),
        orders=int(result.n_submitted),
        max_abs_position=float(result.max_abs_position),
        final_position=float(result.position),
        result=result,
        metrics=metrics,
    )


def render_outcomes(outcomes: Sequence[ShardOutcome], title: str) -> Table:
    """One row per shard, then one total row per PnL currency (never summed across them)."""
    table = Table(title=title, title_justify="left")
    table.add_column("security", overflow="fold")
    table.add_column("date", no_wrap=True, min_width=10)
    for name in ("events", "net PnL", "fees", "fills", "orders", "max |pos|", "final pos"):
        table.add_column(name, justify="right", overflow="fold")
    table.add_column("currency", overflow="fold")
    for o in outcomes:
        table.add_row(o.security, o.date, f"{o.events:,}", _money(o.net_pnl), _money(o.fees),
                      f"{o.fills:,}", f"{o.orders:,}", f"{o.max_abs_position:g}",
                      f"{o.final_position:g}", o.currency)
    table.add_section()
    for currency, group in _by_currency(outcomes).items():
        table.add_row(
            "[bold]total[/bold]", f"{len(group)} shard{'s' * (len(group) != 1)}",
            f"{sum(o.events for o in group):,}", _money(sum(o.net_pnl for o in group)),
            _money(sum(o.fees for o in group)), f"{sum(o.fills for o in group):,}",
            f"{sum(o.orders for o in group):,}",
            _max_position(group), "", currency,
        )
    return table


def _max_position(group: Sequence[ShardOutcome]) -> str:
    """Max |position| over shards of one security; blank across securities (other units)."""
    if len({o.security for o in group}) > 1:
        return ""
    return f"{max(o.max_abs_position for o in group):g}"


def _by_currency(outcomes: Sequence[ShardOutcome]) -> dict[str, list[ShardOutcome]]:
    groups: dict[str, list[ShardOutcome]] = {}
    for o in outcomes:
        groups.setdefault(o.currency, []).append(o)
    return groups


# The metrics the backtest prints (all of METRIC_NAMES go to the sweep's MLflow runs).
SHOWN_METRICS = (
    "net_pnl", "gross_pnl", "fees_paid", "rebates_earned", "notional", "fills",
    "orders_submitted", "fill_ratio", "cancel_ratio", "sharpe", "sortino", "max_drawdown",
    "cvar95", "round_trips", "hit_rate", "avg_round_trip_pnl", "rms_inventory_ratio",
    "spread_captured", "realised_spread_bps", "markout_1s_bps", "markout_10s_bps",
    "markout_60s_bps", "time_two_sided", "ack_latency_p50_ms", "ack_latency_p99_ms",
)


def render_metrics(outcomes: Sequence[ShardOutcome], run: RunConfig) -> list[Table]:
    """Pooled metrics, objective values and the KPI pass/fail table, one column per currency
    (PnL in different currencies is never added up)."""
    from mmopt.metrics import aggregate, kpi_table

    groups = {c: aggregate([o.metrics for o in g]) for c, g in _by_currency(outcomes).items()
              if all(o.metrics is not None for o in g)}
    if not groups:
        return []
    metrics = Table(title="metrics (pooled over shards)", title_justify="left")
    metrics.add_column("metric", no_wrap=True)
    for currency in groups:
        metrics.add_column(currency, justify="right", overflow="fold")
    values = {c: t.as_dict() for c, t in groups.items()}
    for name in SHOWN_METRICS:
        metrics.add_row(name, *(_money(v[name]) for v in values.values()))
    metrics.add_section()
    for spec in run.objective.objectives:
        metrics.add_row(f"objective {spec.name} ({spec.direction})",
                        *(_money(spec.evaluate(v)) for v in values.values()))
    kpi = Table(title="KPI targets", title_justify="left")
    kpi.add_column("currency", overflow="fold")
    for column in ("kpi", "value", "target", "pass"):
        kpi.add_column(column, justify="right" if column != "kpi" else "left")
    for currency, trial in groups.items():
        for row in kpi_table(trial, run.objective.kpi):
            kpi.add_row(currency, row.name, _money(row.value), f"{row.op} {row.target:g}",
                        "[green]pass[/green]" if row.passed else "[red]FAIL[/red]")
    return [metrics, kpi]


def _money(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and 1 <= abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.6g}"


def write_records(outcomes: Sequence[ShardOutcome], run: RunConfig, directory: Path) -> None:
    """``fills.parquet``, ``order_events.parquet`` (all shards, with security and date) and
    ``config.json`` under ``directory``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmopt.engine._records import FILL_DTYPE, ORDER_EVENT_DTYPE

    directory.mkdir(parents=True, exist_ok=True)
    for name, dtype, attr in (("fills", FILL_DTYPE, "fills"),
                              ("order_events", ORDER_EVENT_DTYPE, "order_events")):
        arrays = [_records_of(o.result, attr, dtype) for o in outcomes]
        sizes = [len(a) for a in arrays]
        merged = np.concatenate(arrays) if arrays else np.empty(0, dtype)
        columns: dict[str, Any] = {
            key: pa.array(np.repeat([getattr(o, key) for o in outcomes], sizes).astype(str),
                          pa.string()).dictionary_encode()
            for key in ("security", "date")
        }
        for field in dtype.names or ():
            columns[field] = merged[field]
        pq.write_table(pa.table(columns), directory / f"{name}.parquet")
    payload = {"config_id": run.config_id, "config": to_dict(run)}
    (directory / "config.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")


def _records_of(result: Any, attr: str, dtype: np.dtype) -> np.ndarray:
    records = getattr(result, attr, None)
    return np.empty(0, dtype) if records is None else np.asarray(records)


@app.command("backtest", help=BACKTEST_HELP, context_settings=HYDRA_CONTEXT)
def backtest_command(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="Hydra overrides: key=value, group=option, +key=value, ~key."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Write order events, fills and the config to this dir."),
    ] = None,
) -> None:
    run = from_hydra(compose(list(overrides or [])))
    if record is not None:
        if run.record is not None and Path(run.record) != record:
            raise ConfigError(
                f"record: given twice ({run.record!r} and --record {str(record)!r}); keep one"
            )
        run = dataclasses.replace(run, record=str(record))
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=160)
    err = Console(stderr=True)
    outcomes = run_backtests(run, console=err)
    title = (f"mmopt backtest · {run.strategy.name} · {run.data.name} · "
             f"{run.engine.build().describe()} · config {run.config_id}")
    console.print(render_outcomes(outcomes, title))
    for table in render_metrics(outcomes, run):
        console.print(table)
    if run.record is not None:
        write_records(outcomes, run, Path(run.record))
        console.print(f"recorded order events and fills of {len(outcomes)} shard(s) "
                      f"to {run.record}")
