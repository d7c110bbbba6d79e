"""The sweep against what a user would do instead: hftbacktest + Optuna + a process pool.

Both sides tune ``avellaneda_stoikov`` on the same shards (the default embedded synthetic data:
4 securities x 2 days, 200 k events a day, or a subset with ``--securities`` / ``--dates``)
over the same search space (``conf/search/avellaneda_stoikov.yaml``), with the same sampler
and seed (TPE, seed 42, multivariate, constant liar, 10 startup trials), to ``--trials``
trials on ``--procs`` processes, maximising the net PnL summed over the shards (fees
included), deciding every 100 ms, 1 ms entry and response latency, risk-averse queue, no
partial fills, no quotes during the auctions:

* mmopt: ``mmopt sweep`` in a subprocess (``executor=ray executor.num_cpus=<procs>``, MLflow
  tracking on, pruning off unless ``--pruner median``, ``engine.decide_on_fill=false``, kernels
  loaded from the numba cache if one is there). Its wall time is the whole command, start to
  exit (Hydra, Ray start, data load, warm-up, trials, tracking, report).
* hftbacktest 2.4.4: the strategy written with its API (``benchmarks/_hbt_avellaneda_stoikov.py``),
  one ``HashMapMarketDepthBacktest`` per shard and trial, the shards converted once to
  hftbacktest's event arrays and saved as ``.npz`` (as its users prepare data; timed apart),
  an Optuna ask/tell loop keeping ``--procs`` trials in flight on a
  ``concurrent.futures.ProcessPoolExecutor`` (each worker loads the arrays and compiles the
  strategy once). Its wall time runs from creating the pool to the last trial told.

Printed: wall time to N trials and the best objective each found, and, as the last line,
``{"bench": "sweep_vs_hftbacktest", "ratio": <hftbacktest wall / mmopt wall>, ...}``. The two
objectives are the same quantity from two engines and two feature implementations (see
``_hbt_avellaneda_stoikov.py``): close, not equal.

Run: ``.venv/bin/python benchmarks/sweep_vs_hftbacktest.py [--trials 100] [--procs 2]
[--securities SYN00,SYN01] [--dates 2024-01-02] [--pruner none|median] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "conformance"))
sys.path.insert(0, str(REPO / "benchmarks"))

STUDY = "avellaneda_stoikov-synthetic"
STEP_NS = 100_000_000
LATENCY_NS = 1_000_000
OBJECTIVE = "[{name:net_pnl,expr:net_pnl,direction:maximize}]"


def _conf(path: str) -> dict[str, Any]:
    """One config file as plain values (dates stay strings, as Hydra gives them)."""
    out = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / path))
    assert isinstance(out, dict)
    return {str(k): v for k, v in out.items()}


def _tod_s(hhmmss: str) -> int:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return h * 3600 + m * 60 + s


def _make_data(root: Path) -> None:
    from mmopt.data.synth import SynthConfig, generate_dataset

    if not (root / "instruments.csv").exists():
        generate_dataset(SynthConfig.from_mapping(_conf("data/synthetic.yaml")["generate"]), root)


def _run_mmopt(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    overrides = [
        "executor=ray", f"executor.num_cpus={args.procs}", f"study.n_trials={args.trials}",
        f"study.pruner.name={args.pruner}", f"objective.objectives={OBJECTIVE}",
        "objective/kpi=none", "objective.use_constraints=false", "validation=none",
        "engine.decide_on_fill=false", f"run_dir={work / 'runs'}",
        f"data.root={work / 'data' / 'synthetic'}", f"hydra.run.dir={work / 'outputs'}",
    ]
    if args.securities:
        overrides.append(f"data.securities=[{args.securities}]")
    if args.dates:
        overrides.append(f"data.dates=[{args.dates}]")
    code = "import sys; from mmopt.cli import main; sys.argv[0] = 'mmopt'; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, "sweep", *overrides], cwd=work, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"mmopt sweep failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    phases = {}
    m = re.search(r"time: (.*?report \d+\.\d s)", proc.stdout + proc.stderr, re.S)
    if m:
        for name, sec in re.findall(r"([a-z][a-z -]*?) (\d+\.\d) s", m.group(1)):
            phases[name.strip()] = float(sec)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{work / 'runs' / 'optuna.db'}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return {"wall_s": wall, "phases": phases, "trials": len(done),
            "best": max(t.value for t in done if t.value is not None),
            "best_params": study.best_params}


# --- hftbacktest + Optuna + a process pool ---------------------------------------------------
_WORKER: dict[str, Any] = {}


def _worker_init(npz_paths: list[str], specs: list[dict[str, Any]], window: tuple[int, int]
                 ) -> None:
    from _hbt_avellaneda_stoikov import as_quoter

    _WORKER["data"] = [np.load(p)["data"] for p in npz_paths]
    _WORKER["specs"] = specs
    _WORKER["window"] = window
    _WORKER["loop"] = as_quoter


def _worker_trial(params: dict[str, float]) -> float:
    from _hbt_avellaneda_stoikov import param_vector
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest

    p = param_vector(params)
    total = 0.0
    for data, spec in zip(_WORKER["data"], _WORKER["specs"], strict=True):
        asset = (
            BacktestAsset().data(data).linear_asset(1.0)
            .constant_order_latency(LATENCY_NS, LATENCY_NS)
            .risk_adverse_queue_model().no_partial_fill_exchange()
            .trading_value_fee_model(spec["maker_fee_bps"] / 1e4, spec["taker_fee_bps"] / 1e4)
            .tick_size(spec["tick_size"]).lot_size(spec["lot_size"]).last_trades_capacity(0)
        )
        hbt = HashMapMarketDepthBacktest([asset])
        mid = _WORKER["loop"](hbt, p, spec["first_wait"], STEP_NS, *_WORKER["window"])
        sv = hbt.state_values(0)
        equity = sv.balance + sv.position * (0.0 if np.isnan(mid) else mid) - sv.fee
        hbt.close()
        total += equity
    return total


def _prepare_hbt(work: Path, root: Path, shards: list[tuple[str, str]]
                 ) -> tuple[list[str], list[dict[str, Any]]]:
    from hbt_oracle import to_hbt_events

    from mmopt.data.loader import load_events

    out_dir = work / "hbt"
    out_dir.mkdir(exist_ok=True)
    paths, specs = [], []
    for security, date in shards:
        shard = load_events(root, security, date)
        ins = shard.instrument
        hin = to_hbt_events(np.asarray(shard.events), ins)
        path = out_dir / f"{security}_{date}.npz"
        np.savez(path, data=hin.data)
        paths.append(str(path))
        specs.append({"tick_size": ins.tick_size, "lot_size": ins.lot_size,
                      "maker_fee_bps": ins.maker_fee_bps, "taker_fee_bps": ins.taker_fee_bps,
                      "first_wait": hin.first_local_ns + STEP_NS - hin.first_event_ns})
    return paths, specs


def _space() -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, p in _conf("search/avellaneda_stoikov.yaml")["params"].items():
        if p["type"] == "int":
            out[name] = IntDistribution(int(p["low"]), int(p["high"]), log=p.get("log", False))
        else:
            out[name] = FloatDistribution(float(p["low"]), float(p["high"]),
                                          log=p.get("log", False))
    return out


def _run_hbt(paths: list[str], specs: list[dict[str, Any]], args: argparse.Namespace
             ) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study_cfg = _conf("study/default.yaml")["sampler"]
    sampler = optuna.samplers.TPESampler(seed=study_cfg["seed"], multivariate=True,
                                         constant_liar=True,
                                         n_startup_trials=study_cfg["n_startup_trials"])
    study = optuna.create_study(direction="maximize", sampler=sampler)
    space = _space()
    sessions = _conf("sessions/synthetic.yaml")
    window = (_tod_s(sessions["open_auction_end"]), _tod_s(sessions["close_auction_start"]))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.procs, initializer=_worker_init,
                             initargs=(paths, specs, window)) as pool:
        running: dict[Future[float], Any] = {}
        asked = 0
        told = 0
        first_s = 0.0
        while told < args.trials:
            while asked < args.trials and len(running) < args.procs:
                trial = study.ask(space)
                running[pool.submit(_worker_trial, trial.params)] = trial
                asked += 1
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                study.tell(running.pop(fut), fut.result())
                told += 1
                if told == 1:  # worker start, data load and the strategy's compile included
                    first_s = time.perf_counter() - t0
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "first_trial_s": first_s, "trials": told, "best": study.best_value,
            "best_params": study.best_params}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--securities", default="", help="comma list (default: all four)")
    ap.add_argument("--dates", default="", help="comma list of YYYY-MM-DD (default: both)")
    ap.add_argument("--pruner", default="none", choices=("none", "median"),
                    help="mmopt's pruner (hftbacktest's loop has none)")
    ap.add_argument("--workdir", type=Path, help="keep data and runs here (default: a temp dir)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        work = (args.workdir or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        root = work / "data" / "synthetic"
        t0 = time.perf_counter()
        _make_data(root)
        from mmopt.data.catalog import open_catalog

        securities = [s for s in args.securities.split(",") if s]
        dates = [d for d in args.dates.split(",") if d]
        shards = [(s.security, s.date) for s in open_catalog(root).shards
                  if (not securities or s.security in securities)
                  and (not dates or s.date in dates)]
        if not shards:
            raise SystemExit("no shard matches --securities / --dates")
        print(f"data: {len(shards)} shards under {root} ({time.perf_counter() - t0:.1f} s)")
        t1 = time.perf_counter()
        paths, specs = _prepare_hbt(work, root, shards)
        prep_s = time.perf_counter() - t1
        print(f"hftbacktest: shards converted and saved as .npz in {prep_s:.1f} s (apart)",
              flush=True)
        hbt = _run_hbt(paths, specs, args)
        print(f"hftbacktest + Optuna + {args.procs} processes: {hbt['trials']} trials in "
              f"{hbt['wall_s']:.1f} s (first result after {hbt['first_trial_s']:.1f} s), best "
              f"net PnL {hbt['best']:.4g}", flush=True)
        ours = _run_mmopt(work, args)
        print(f"mmopt sweep (ray, {args.procs} CPUs): {ours['trials']} complete trials in "
              f"{ours['wall_s']:.1f} s (whole command; {ours['phases']}), best net PnL "
              f"{ours['best']:.4g}")
    ratio = hbt["wall_s"] / ours["wall_s"]
    print(f"\n{'':34s} {'wall s':>8s} {'trials':>7s} {'best net PnL':>13s}")
    print(f"{'hftbacktest + Optuna + pool':34s} {hbt['wall_s']:8.1f} {hbt['trials']:7d} "
          f"{hbt['best']:13.4g}")
    print(f"{'mmopt sweep':34s} {ours['wall_s']:8.1f} {ours['trials']:7d} {ours['best']:13.4g}")
    print(f"ratio (hftbacktest wall / mmopt wall): {ratio:.2f} (goal >= 10)")
    print(json.dumps({"bench": "sweep_vs_hftbacktest", "ratio": round(ratio, 2), "goal": 10,
                      "trials": args.trials, "procs": args.procs, "shards": len(shards),
                      "pruner": args.pruner, "mmopt_wall_s": round(ours["wall_s"], 2),
                      "mmopt_phases_s": ours["phases"], "mmopt_best": ours["best"],
                      "hbt_wall_s": round(hbt["wall_s"], 2), "hbt_best": hbt["best"],
                      "hbt_first_trial_s": round(hbt["first_trial_s"], 2),
                      "hbt_prepare_s": round(prep_s, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
