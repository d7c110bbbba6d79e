"""Engine throughput before and after a change: an older checkout against this one, interleaved.

mmopt only (no hftbacktest): the touch quoter (``price_follow``, refill 0, min notional 0, 1 lot,
max 10 lots, risk-averse queue, 1 ms entry + 1 ms response latency) at 10 ms, 100 ms and 1 s
steps on

* the engine benchmark's synthetic stream (``mmopt.data.synth.generate_events``, seed
  20240808; it carries exchange times, so ``clocks=auto`` runs two clocks), and
* optionally real shards (``--shards security/date,...`` under ``--data``).

Three variants, each in its own fresh process so their numba caches and modules stay apart:
``base`` (the checkout given by ``--base``, e.g. a worktree of the commit before issue 8; run
without the ``clocks`` option, which it does not have), ``one clock`` (this checkout,
``engine.clocks=local``) and ``two clocks`` (this checkout, ``clocks=auto``). The variants run
one after another in each of ``--rounds`` rounds (so all of them see the same load), and each
run repeats ``--reps`` times; the table shows the best events/s over all runs, on process CPU
time (less sensitive to other jobs on the machine than wall time; both are printed in the JSON
lines). Also printed: kernel load time (``warm_up``), ``prepare_market`` time, and the peak RSS
of the process (VmHWM: the stream, the prepared market and one run). ``base`` and ``one clock``
must give the same fills where the book rules did not change (the synthetic stream); the
``fills`` column says whether they did. ``--paired`` (for a base that has the ``clocks`` option,
i.e. any commit since issue 8) runs the base with one clock and with two instead, compares each
variant with the base on the same clocks, and rotates the variants' order from round to round.

Run: ``.venv/bin/python benchmarks/engine_before_after.py --base ../bench_base [--events N]
[--rounds R] [--reps K] [--paired] [--shards binance-usdm.BTCUSDT/2024-08-08] [--data DIR]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
STEPS_MS = (10, 100, 1000)
SEED = 20240808
VARIANTS = (("base", "base"), ("one clock", "local"), ("two clocks", "auto"))
# --paired: the base with the same clocks as each variant (a base that has the clocks option)
PAIRED = (("base one clock", "local"), ("one clock", "local"), ("base two clocks", "auto"),
          ("two clocks", "auto"))

_CHILD = """
import dataclasses, hashlib, json, sys, time
import numpy as np
from mmopt.data._schema import Instrument
from mmopt.engine import EngineConfig, prepare_market, run_backtest
from mmopt.strategies import PriceFollowParams, get_strategy, warm_up

events = np.load(sys.argv[1])
spec = json.loads(open(sys.argv[2]).read())
known = {f.name for f in dataclasses.fields(Instrument)}
instrument = Instrument(**{k: v for k, v in spec.items() if k in known})
clocks, reps, steps = sys.argv[3], int(sys.argv[4]), [int(s) for s in sys.argv[5].split(",")]
t0 = time.perf_counter()
warm_up("price_follow")
warm_s = time.perf_counter() - t0
t0 = time.perf_counter()
market = prepare_market(events, instrument)
prep_s = time.perf_counter() - t0
strategy = get_strategy("price_follow")
params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                           min_notional_before_quote=0.0)
extra = {} if clocks == "base" else {"clocks": clocks}
out = {"warm_s": warm_s, "prep_s": prep_s, "cpu_s": {}, "wall_s": {}, "fills": {}}
for step in steps:
    cfg = EngineConfig(step_ms=step, entry_latency_ns=1_000_000, response_latency_ns=1_000_000,
                       **extra)
    cpu, wall = [], []
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        res = run_backtest(market, None, strategy, params, cfg)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    out["cpu_s"][step] = min(cpu)
    out["wall_s"][step] = min(wall)
    f = res.fills
    key = (len(f), f["ts_ns"].tolist(), f["price"].tolist(), f["qty"].tolist(), res.position,
           res.balance, res.fees)
    out["fills"][step] = [len(f), hashlib.sha256(repr(key).encode()).hexdigest()[:12]]
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
out["peak_mb"] = int(hwm[0].split()[1]) / 1024 if hwm else float("nan")
print(json.dumps(out))
"""


def _save_stream(events: np.ndarray, instrument: Any, folder: Path, name: str) -> tuple[Path, Path]:
    ev_path = folder / f"{name}.npy"
    spec_path = folder / f"{name}.json"
    np.save(ev_path, events)
    spec_path.write_text(json.dumps(dataclasses.asdict(instrument)))
    return ev_path, spec_path


def _reference(clocks: str, paired: bool) -> str:
    """The base variant a variant is compared with."""
    if not paired:
        return "base"
    return "base one clock" if clocks == "local" else "base two clocks"


def _run_child(repo: Path, paths: tuple[Path, Path], clocks: str, reps: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(repo))
    steps = ",".join(str(s) for s in STEPS_MS)
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, str(paths[0]), str(paths[1]), clocks, str(reps), steps],
        capture_output=True, text=True, cwd=repo, env=env, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        raise SystemExit(f"{repo} ({clocks}) failed:\n{res.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _streams(args: argparse.Namespace, folder: Path) -> list[tuple[str, int, tuple[Path, Path]]]:
    from mmopt.data.synth import generate_events

    events, instrument = generate_events(args.events, seed=SEED)
    out = [(f"synth {len(events):,} rows", len(events),
            _save_stream(events, instrument, folder, "synth"))]
    for spec in (s for s in args.shards.split(",") if s):
        from mmopt.data import load_events

        security, date = spec.split("/")
        shard = load_events(args.data, security, date)
        ev = np.asarray(shard.events)
        out.append((f"{security} {date} ({len(ev):,} rows)", len(ev),
                    _save_stream(ev, shard.instrument, folder, security)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout of the older engine")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--shards", default="", help="security/date,... under --data")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "binance")
    ap.add_argument("--paired", action="store_true",
                    help="base with one and two clocks, each variant against its own")
    args = ap.parse_args(argv)
    base = args.base.resolve()
    if not (base / "mmopt" / "engine").is_dir():
        raise SystemExit(f"--base {base}: not a checkout of mmopt (no mmopt/engine in it)")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, n, paths in _streams(args, Path(tmp)):
            runs: dict[str, list[dict[str, Any]]] = {}
            variants = PAIRED if args.paired else VARIANTS
            for rnd in range(args.rounds):
                k = rnd % len(variants) if args.paired else 0
                for name, clocks in variants[k:] + variants[:k]:
                    repo = base if name.startswith("base") else REPO
                    got = _run_child(repo, paths, clocks, args.reps)
                    runs.setdefault(name, []).append(got)
                    meps = [n / got["cpu_s"][str(s)] / 1e6 for s in STEPS_MS]
                    print(f"  {label} round {rnd + 1} {name:15s}: "
                          + " / ".join(f"{m:.2f}" for m in meps) + " Mev/s (10 ms / 100 ms / 1 s)",
                          flush=True)
            print(f"\n{label}: best of {args.rounds} rounds x {args.reps} reps, Mev/s on CPU time")
            print(f"{'variant':15s} {'10 ms':>14s} {'100 ms':>14s} {'1 s':>14s} {'peak MB':>8s} "
                  f"{'prepare s':>9s} {'load s':>7s}  fills = base")
            for name, clocks in variants:
                ref = runs[_reference(clocks, args.paired)]
                best_base = {s: min(r["cpu_s"][str(s)] for r in ref) for s in STEPS_MS}
                rs = runs[name]
                cells = []
                line: dict[str, Any] = {"bench": "engine_before_after", "stream": label,
                                        "variant": name}
                for s in STEPS_MS:
                    cpu = min(r["cpu_s"][str(s)] for r in rs)
                    wall = min(r["wall_s"][str(s)] for r in rs)
                    m = n / cpu / 1e6
                    rel = best_base[s] / cpu - 1.0
                    cells.append(f"{m:6.2f} ({rel:+5.1%})" if not name.startswith("base")
                                 else f"{m:6.2f}")
                    line[f"meps_{s}ms"] = round(m, 3)
                    line[f"wall_meps_{s}ms"] = round(n / wall / 1e6, 3)
                peak = min(r["peak_mb"] for r in rs)
                prep = min(r["prep_s"] for r in rs)
                load = min(r["warm_s"] for r in rs)
                same = all(rs[0]["fills"][str(s)] == ref[0]["fills"][str(s)] for s in STEPS_MS)
                line.update(peak_mb=round(peak), prepare_s=round(prep, 3), fills_equal_base=same)
                print(f"{name:15s} " + " ".join(f"{c:>14s}" for c in cells)
                      + f" {peak:8.0f} {prep:9.2f} {load:7.2f}  {same}")
                lines.append(line)
            print()
    for line in lines:
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
