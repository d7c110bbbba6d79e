"""``mmopt backtest``: overrides, errors before work, the per-shard table, --record."""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

import mmopt.cli.backtest as bt
from mmopt.cli import main
from mmopt.cli._hydra import compose
from mmopt.config import EngineSettings, from_hydra
from mmopt.config._shards import SYNTH_STAMP
from mmopt.engine._records import FILL_DTYPE, ORDER_EVENT_DTYPE

TINY = ["data.generate.n_securities=2", "data.generate.n_days=1",
        "data.generate.events_per_day=3000", "data.generate.session_seconds=600"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["backtest", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def engine_available() -> bool:
    engine = importlib.import_module("mmopt.engine")
    strategies = importlib.import_module("mmopt.strategies")
    return hasattr(engine, "run_backtest") and hasattr(strategies, "get_strategy")


needs_engine = pytest.mark.skipif(not engine_available(),
                                  reason="mmopt.engine.run_backtest / strategies not there yet")


# --- errors before any work ------------------------------------------------------------------


def test_bad_value_exits_2_before_any_work(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    root = tmp_path / "never"
    code, _, err = run_cli(capsys, f"data.root={root}", "search.params.gamma.low=5")
    assert code == 2
    assert err.startswith("error: search.params.gamma: low (5.0) > high (1.0)")
    assert not root.exists()  # nothing generated


def test_bad_override_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "strategy=nope")
    assert code == 2 and "error: override 'strategy=nope'" in err


def test_misspelt_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--recrod", "x", "strategy=price_follow")
    assert code == 2 and err.startswith("error: unknown option '--recrod' (fix: see --help")


def test_record_given_twice_differently(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, f"record={tmp_path / 'a'}", "--record", str(tmp_path / "b"))
    assert code == 2 and "error: record: given twice" in err


def test_missing_data_root_is_a_data_error(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_engine(monkeypatch)
    code, _, err = run_cli(capsys, "data=parquet", f"data.root={tmp_path / 'none'}")
    assert code == 2 and "data root does not exist" in err


# --- the table and --record, with a stand-in engine (pins the CLI's own logic) ---------------


@dataclasses.dataclass(frozen=True)
class FakeEngineConfig:
    record_orders: bool = False

    def describe(self) -> str:
        return "fake/queue"

    def fees_in_config(self) -> bool:
        return True


@dataclasses.dataclass(frozen=True)
class FakeResult:
    net_pnl: float
    fees: float
    n_fills: int
    n_submitted: int
    max_abs_position: float
    position: float
    fills: np.ndarray
    order_events: np.ndarray | None


def _fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    calls: list[tuple[int, bool]] = []

    def run_engine(events: np.ndarray, instrument: Any, strategy: Any, params: Any,
                   config: FakeEngineConfig) -> FakeResult:
        k = len(calls) + 1
        calls.append((len(events), config.record_orders))
        fills = np.zeros(k, FILL_DTYPE)
        fills["ts_ns"] = events["ts_ns"][:k]
        orders = np.zeros(2 * k, ORDER_EVENT_DTYPE) if config.record_orders else None
        return FakeResult(1.5 * k, 0.25 * k, k, 10 * k, float(k), -float(k), fills, orders)

    monkeypatch.setattr(bt, "_run_engine", run_engine)
    monkeypatch.setattr(bt, "_shard_metrics", lambda *args: None)
    monkeypatch.setattr(bt, "build_strategy", lambda cfg: (cfg, cfg.params_dict()))
    monkeypatch.setattr(EngineSettings, "build", lambda self: FakeEngineConfig())
    return calls


def test_table_rows_totals_and_record(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_engine(monkeypatch)
    root, rec = tmp_path / "syn", tmp_path / "rec"
    code, out, err = run_cli(capsys, "strategy=price_follow", f"data.root={root}", *TINY,
                             "--record", str(rec))
    assert code == 0, err
    assert (root / SYNTH_STAMP).is_file()  # generated on first use
    assert [c[1] for c in calls] == [True, True]  # record=... asks the engine for order events
    lines = [line for line in out.splitlines() if line.startswith("│")]
    assert len(lines) == 3
    assert "1.5" in lines[0] and "0.25" in lines[0] and "-1" in lines[0]
    total = lines[2].split("│")
    events = f"{sum(c[0] for c in calls):,}"
    assert [c.strip() for c in total[1:10]] == ["total", "2 shards", events, "4.5", "0.75", "3",
                                                "30", "", ""]
    fills = pq.read_table(rec / "fills.parquet").to_pandas()
    assert len(fills) == 3 and fills["security"].nunique() == 2
    assert list(fills.columns[:2]) == ["security", "date"]
    assert set(FILL_DTYPE.names or ()) <= set(fills.columns)
    assert pq.read_table(rec / "order_events.parquet").num_rows == 6
    saved = json.loads((rec / "config.json").read_text())
    assert saved["config"]["strategy"]["name"] == "price_follow"
    # a second run reuses the generated data (the stamp matches): the same shards and events
    code2, out2, _ = run_cli(capsys, "strategy=price_follow", f"data.root={root}", *TINY)
    rows2 = [x.split("│")[1:4] for x in out2.splitlines() if x.startswith("│ SYN")]
    assert code2 == 0 and rows2 == [x.split("│")[1:4] for x in lines[:2]]


def test_changed_generator_settings_on_existing_root_fail(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_engine(monkeypatch)
    root = tmp_path / "syn"
    assert run_cli(capsys, f"data.root={root}", "strategy=price_follow", *TINY)[0] == 0
    code, _, err = run_cli(capsys, f"data.root={root}", "strategy=price_follow", *TINY,
                           "data.generate.seed=99")
    assert code == 2 and "error: data.root:" in err and "other data.generate settings" in err


def test_filters_select_shards(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _fake_engine(monkeypatch)
    run = from_hydra(compose(["strategy=price_follow", f"data.root={tmp_path}", *TINY,
                              "data.securities=[SYN01]"]))
    outcomes = bt.run_backtests(run)
    assert [o.security for o in outcomes] == ["SYN01"] and len(calls) == 1


# --- the real engine -------------------------------------------------------------------------


@needs_engine
def test_end_to_end_on_tiny_synthetic_shards(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    code, out, err = run_cli(capsys, "strategy=price_follow", f"data.root={tmp_path / 'syn'}",
                             *TINY, "engine.step_ms=100", f"record={rec}")
    assert code == 0, err
    run = from_hydra(compose(["strategy=price_follow", f"data.root={tmp_path / 'syn'}", *TINY]))
    outcomes = bt.run_backtests(run)
    assert len(outcomes) == 2 and "total" in out
    for o in outcomes:
        assert o.max_abs_position <= 10 * o.result.instrument.lot_size + 1e-9  # max_position
        assert o.fills == len(o.result.fills)
    fills = pq.read_table(rec / "fills.parquet")
    assert fills.num_rows == sum(o.fills for o in outcomes)
    assert pq.read_table(rec / "order_events.parquet").num_rows > 0


@needs_engine
@pytest.mark.slow
def test_end_to_end_on_a_binance_shard(capsys: pytest.CaptureFixture[str],
                                       binance_root: Path) -> None:
    code, out, err = run_cli(capsys, "strategy=price_follow", "data=binance",
                             f"data.root={binance_root}", "data.securities=[binance-spot.BTCUSDT]",
                             "data.dates=[2024-08-08]", "strategy.params.refill_interval_s=5")
    assert code == 0, err
    assert "binance-spot.BTCUSDT" in out and "USDT" in out


def test_metrics_and_kpi_tables(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from mmopt.data import Instrument
    from mmopt.engine._records import EQUITY_DTYPE
    from mmopt.metrics import OrderCounts, compute_shard_metrics

    instrument = Instrument("X", tick_size=0.01, lot_size=1.0, quote_currency="USDT")
    equity = np.zeros(3, EQUITY_DTYPE)
    equity["ts_ns"] = [0, 60_000_000_000, 120_000_000_000]
    equity["mid"] = 100.0
    equity["equity"] = [0.0, 2.0, 1.5]
    equity["cash"] = equity["equity"]
    metrics = compute_shard_metrics(np.zeros(0, FILL_DTYPE), equity, OrderCounts(submitted=4),
                                    instrument, 10.0)
    outcome = bt.ShardOutcome("X", "2024-01-02", "USDT", 10, 1.5, 0.0, 0, 4, 0.0, 0.0,
                              None, metrics)
    run = from_hydra(compose(["strategy=price_follow", "objective.lambda=0"]))
    console = Console(width=200)
    for table in bt.render_metrics([outcome], run):
        console.print(table)
    out = capsys.readouterr().out
    assert "objective net_pnl_cvar (maximize)" in out and "KPI targets" in out
    row = next(line for line in out.splitlines() if "objective net_pnl_cvar" in line)
    assert row.split("│")[2].strip() == "1.5"  # net_pnl - 0 * cvar95
    kpi_rows = [line for line in out.splitlines() if line.startswith("│ USDT")]
    assert "FAIL" in next(line for line in kpi_rows if "fill_ratio" in line)  # 0 fills < 5 %
