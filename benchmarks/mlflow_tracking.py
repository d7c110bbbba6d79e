"""What MLflow tracking costs per trial: the MLflow tracker on a fresh local SQLite store.

Logs ``--trials`` fake trials the size of real ones (all 41 METRIC_NAMES aggregated and per
security for ``--securities`` securities, 6 params, a pruning rung) in batches of
``--batch`` through ``MlflowTracker``, in both modes:

* ``background`` (the default the sweep uses): the driver hands a batch over and returns;
  "driver ms/trial" is that hand-over, "mlflow ms/trial" the writes on the tracker's thread.
* ``inline``: the same writes on the caller's thread (what the driver would wait for).

Also prints the one-off costs (MLflow import + store creation + parent run; the report and
artifacts at the end) and, for scale, one raw ``MlflowClient`` child run done the naive way
(``log_metric`` per metric). Prints a table and a final JSON line.

    .venv/bin/python benchmarks/mlflow_tracking.py [--trials 200] [--securities 4] [--batch 50]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mmopt.config import TrackingConfig
from mmopt.metrics import METRIC_NAMES
from mmopt.report import write_report
from mmopt.tracking import SecurityMetrics, SweepSummary, TrialRecord
from mmopt.tracking.mlflow import MlflowTracker

T0 = 1_767_225_600.0


def fake_trial(number: int, n_securities: int) -> TrialRecord:
    metrics = tuple((name, float(number + i)) for i, name in enumerate(METRIC_NAMES))
    per_security = tuple(
        SecurityMetrics(f"SYN{s}", tuple((n, v + s) for n, v in metrics))
        for s in range(n_securities)
    )
    params = tuple((f"p{i}", 0.1 * (number + i)) for i in range(6))
    return TrialRecord(
        number=number,
        state="COMPLETE",
        params=params,
        strategy_params=params,
        values=(float(number),),
        metrics=metrics,
        per_security=per_security,
        constraints=(-1.0,),
        intermediate=((2, float(number) / 2),),
        n_shards=8,
        duration_s=0.5,
        started_at=T0 + number,
    )


def sweep_info(run_dir: Path) -> object:
    from mmopt.cli._hydra import compose
    from mmopt.config import from_hydra
    from mmopt.tracking import SweepInfo

    run = from_hydra(compose(["tracking=mlflow"]))
    return SweepInfo(
        run=run,
        config_id=run.config_id,
        config_yaml="bench: true\n",
        study_name="bench",
        storage_url=None,
        data_root="-",
        data_fingerprint="-",
        securities=(),
        dates=(),
        n_shards=8,
        holdout_dates=(),
        directions=("maximize",),
        objective_names=("score",),
        code_version="bench",
        run_dir=str(run_dir),
        resumed=False,
        n_existing_trials=0,
        started_at=T0,
    )


def run_mode(background: bool, args: argparse.Namespace, info_for: object) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        tracker = MlflowTracker(
            TrackingConfig(name="mlflow", experiment="bench"), run_dir, background=background,
            report_writer=write_report,
        )
        records = [fake_trial(i, args.securities) for i in range(args.trials)]
        began = time.perf_counter()
        tracker.start(info_for(run_dir))  # type: ignore[operator]
        tracker.flush()
        start_s = time.perf_counter() - began
        driver_s = 0.0
        began = time.perf_counter()
        for i in range(0, len(records), args.batch):
            t = time.perf_counter()
            tracker.log_trials(records[i : i + args.batch])
            driver_s += time.perf_counter() - t
        tracker.flush()
        wall_s = time.perf_counter() - began
        t = time.perf_counter()
        tracker.finish(SweepSummary("finished", args.trials, 0, 0, 1.0, (records[-1],), None, ()))
        finish_s = time.perf_counter() - t
        stats = tracker.stats()
    n = args.trials
    return {
        "driver_ms_per_trial": 1e3 * driver_s / n,
        "mlflow_ms_per_trial": stats.ms_per_trial,
        "mlflow_cpu_ms_per_trial": stats.cpu_ms_per_trial,
        "wall_ms_per_trial": 1e3 * wall_s / n,
        "start_s": start_s,
        "finish_s": finish_s,
    }


def naive_ms(args: argparse.Namespace) -> float:
    """One child run with one ``log_metric`` call per metric (what batching avoids)."""
    from mlflow import MlflowClient

    with tempfile.TemporaryDirectory() as tmp:
        client = MlflowClient(tracking_uri=f"sqlite:///{tmp}/mlflow.db")
        eid = client.create_experiment("naive")
        record = fake_trial(0, args.securities)
        began = time.perf_counter()
        run_id = client.create_run(eid).info.run_id
        for name, value in record.metrics:
            client.log_metric(run_id, name, value)
        for sec in record.per_security:
            for name, value in sec.metrics:
                client.log_metric(run_id, f"sec.{sec.security}.{name}", value)
        client.set_terminated(run_id)
        return 1e3 * (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--securities", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    metrics_per_trial = len(METRIC_NAMES) * (1 + args.securities) + 5
    results = {
        "background": run_mode(True, args, sweep_info),
        "inline": run_mode(False, args, sweep_info),
    }
    naive = naive_ms(args)
    print(f"{args.trials} trials, ~{metrics_per_trial} metrics each, batches of {args.batch}")
    header = (
        f"{'mode':<11}{'driver ms/trial':>16}{'mlflow ms/trial':>16}{'start s':>9}{'finish s':>9}"
    )
    print(header)
    for mode, r in results.items():
        print(
            f"{mode:<11}{r['driver_ms_per_trial']:>16.3f}{r['mlflow_ms_per_trial']:>16.1f}"
            f"{r['mlflow_cpu_ms_per_trial']:>13.1f}"
            f"{r['start_s']:>9.2f}{r['finish_s']:>9.2f}"
        )
    print(f"naive log_metric per metric: {naive:.0f} ms for one trial")
    print(
        json.dumps(
            {
                "bench": "mlflow_tracking",
                "trials": args.trials,
                "securities": args.securities,
                "metrics_per_trial": metrics_per_trial,
                "driver_ms_per_trial": round(results["background"]["driver_ms_per_trial"], 4),
                "mlflow_ms_per_trial": round(results["background"]["mlflow_ms_per_trial"], 2),
                "mlflow_cpu_ms_per_trial": round(
                    results["background"]["mlflow_cpu_ms_per_trial"], 2
                ),
                "inline_ms_per_trial": round(results["inline"]["mlflow_ms_per_trial"], 2),
                "start_s": round(results["background"]["start_s"], 2),
                "naive_ms_per_trial": round(naive, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
