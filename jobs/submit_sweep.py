#!/usr/bin/env python3
"""Submit ``mmopt sweep`` to a Ray cluster as a Ray job.

The job's entrypoint runs on the head node as the sweep driver; it joins the cluster
(``executor.address=auto``), keeps the Optuna study in a shared database and logs to an MLflow
server, so any machine can resume the study or browse the results::

    python jobs/submit_sweep.py -- strategy=layered_grid study.n_trials=300
    python jobs/submit_sweep.py --dry-run -- data=binance   # print the command only

Defaults match docker/compose.yaml (override with the options or the environment variables
RAY_ADDRESS, MMOPT_STUDY_STORAGE, MMOPT_TRACKING_URI, MMOPT_DATA_ROOT). Everything after ``--``
is passed to ``mmopt sweep`` as Hydra overrides and wins over the defaults here.
Needs only the ``ray`` CLI on the submitting machine (``pip install "ray[default]"``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

JOBS = Path(__file__).resolve().parent
REPO = JOBS.parent

DEFAULTS = {
    "address": ("RAY_ADDRESS", "http://127.0.0.1:8265"),
    "storage": ("MMOPT_STUDY_STORAGE", "postgresql://mmopt:mmopt@postgres:5432/optuna"),
    "tracking_uri": ("MMOPT_TRACKING_URI", "http://mlflow:5000"),
    "data_root": ("MMOPT_DATA_ROOT", ""),
}


def _default(name: str) -> str:
    env, value = DEFAULTS[name]
    return os.environ.get(env, value)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Submit `mmopt sweep` to a Ray cluster (ray job submit).",
        epilog="Arguments after `--` are Hydra overrides for `mmopt sweep`.",
    )
    parser.add_argument("--address", default=_default("address"), help="Ray dashboard address")
    parser.add_argument("--storage", default=_default("storage"), help="Optuna storage URL")
    parser.add_argument("--tracking-uri", default=_default("tracking_uri"), help="MLflow server")
    parser.add_argument(
        "--data-root",
        default=_default("data_root"),
        help="data.root seen from the cluster nodes (a shared path or s3://...); empty = config's",
    )
    parser.add_argument("--runtime-env", default=str(JOBS / "runtime_env.yaml"))
    parser.add_argument("--working-dir", default=str(REPO), help="source tree shipped to the job")
    parser.add_argument("--submission-id", default=None, help="Ray job id (default: Ray's)")
    parser.add_argument("--no-wait", action="store_true", help="return once submitted")
    parser.add_argument("--dry-run", action="store_true", help="print the command, run nothing")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides after --")
    return parser.parse_args(argv)


def sweep_overrides(args: argparse.Namespace) -> list[str]:
    """The cluster settings as Hydra overrides; the user's own come last and win."""
    base = [
        "executor=ray",
        "executor.address=auto",
        f"study.storage={args.storage}",
        "tracking=mlflow",
        f"tracking.tracking_uri={args.tracking_uri}",
    ]
    if args.data_root:
        base.append(f"data.root={args.data_root}")
    return base + list(args.overrides)


def build_command(args: argparse.Namespace) -> list[str]:
    command = [
        "ray",
        "job",
        "submit",
        "--address",
        args.address,
        "--runtime-env",
        args.runtime_env,
        "--working-dir",
        args.working_dir,
    ]
    if args.submission_id:
        command += ["--submission-id", args.submission_id]
    if args.no_wait:
        command.append("--no-wait")
    return [*command, "--", "mmopt", "sweep", *sweep_overrides(args)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = build_command(args)
    print(shlex.join(command), flush=True)
    if args.dry_run:
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    raise SystemExit(main())
