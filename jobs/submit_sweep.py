#!/usr/bin/env python3
"""Submit ``mmopt sweep`` to a Ray cluster as a Ray job.

The job's entrypoint runs on the head node as the sweep driver; it joins the cluster (the
head's GCS address given with ``--gcs-address``, else ``executor.address=auto``), keeps the
Optuna study in a shared database and logs to an MLflow server, so any machine can resume the
study or browse the results::

    python jobs/submit_sweep.py -- strategy=layered_grid study.n_trials=300
    python jobs/submit_sweep.py --dry-run -- data=binance   # print the command only

Defaults match docker/compose.yaml (override with the options or the environment variables
RAY_ADDRESS, MMOPT_RAY_GCS_ADDRESS, MMOPT_STUDY_STORAGE, MMOPT_TRACKING_URI, MMOPT_DATA_ROOT).
Everything after ``--`` is passed to ``mmopt sweep`` as Hydra overrides and wins over the
defaults here.
Needs only the ``ray`` CLI on the submitting machine (``pip install "ray[default]"``).

Passwords never go on a command line (neither ``ray job submit``'s nor the job's): a storage
URL or tracking URI that carries one is referenced in the entrypoint as
``'study.storage=${oc.env:MMOPT_STUDY_STORAGE}'`` (resolved by mmopt's config on the cluster)
and its value reaches the job's environment either through a private copy of the runtime
environment file (``--secrets ship``, the default; mode 0600, deleted once submitted) or not at
all (``--secrets cluster``: the Ray head already has the variables set, e.g. in compose.yaml).
Everything printed has passwords masked.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

JOBS = Path(__file__).resolve().parent
REPO = JOBS.parent
sys.path.insert(0, str(REPO))  # mmopt.redact from this checkout (no install needed)

from mmopt.redact import has_secret, mask_secrets  # noqa: E402

DEFAULTS = {
    "address": ("RAY_ADDRESS", "http://127.0.0.1:8265"),
    "storage": ("MMOPT_STUDY_STORAGE", "postgresql+psycopg2://mmopt:mmopt@postgres:5432/optuna"),
    "tracking_uri": ("MMOPT_TRACKING_URI", "http://mlflow:5000"),
    "data_root": ("MMOPT_DATA_ROOT", ""),
    "gcs_address": ("MMOPT_RAY_GCS_ADDRESS", ""),
}


# the setting -> the Hydra key it fills and the variable that carries it when it has a password
SECRET_KEYS = {
    "storage": ("study.storage", "MMOPT_STUDY_STORAGE"),
    "tracking_uri": ("tracking.tracking_uri", "MMOPT_TRACKING_URI"),
}


def _default(name: str) -> str:
    env, value = DEFAULTS[name]
    return os.environ.get(env, value)


def check_gcs_address(value: str) -> str:
    """HOST:PORT (the GCS, not the dashboard's http:// URL), or empty for ``auto``."""
    if not value:
        return value
    host, sep, port = value.rpartition(":")
    if "://" in value or not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"--gcs-address {value!r}: expected HOST:PORT of the Ray head's GCS (the "
            "`--port` of `ray start --head`, 6379 by default), not the dashboard's URL")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Submit `mmopt sweep` to a Ray cluster (ray job submit).",
        epilog="Arguments after `--` are Hydra overrides for `mmopt sweep`.",
    )
    parser.add_argument("--address", default=_default("address"), help="Ray dashboard address")
    parser.add_argument(
        "--gcs-address",
        default=_default("gcs_address"),
        type=check_gcs_address,
        help="the head's GCS address HOST:PORT (`ray start --head --port`), joined by the "
        "job's driver as executor.address; empty = auto (the cluster Ray's job supervisor "
        "found on the head, which can be another Ray when several run on that machine)",
    )
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
    parser.add_argument(
        "--secrets",
        choices=("ship", "cluster"),
        default="ship",
        help="URLs with a password: ship them in a private copy of the job's runtime env "
        "(default), or read them from MMOPT_STUDY_STORAGE / MMOPT_TRACKING_URI already set "
        "on the Ray head (cluster)",
    )
    parser.add_argument(
        "--numba-cache-dir",
        default=os.environ.get("MMOPT_NUMBA_CACHE_DIR", ""),
        help="NUMBA_CACHE_DIR of the job's workers (a folder every node reaches, e.g. shared "
        "storage or the image's warmed cache); empty = jobs/runtime_env.yaml's",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the command, run nothing")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides after --")
    return parser.parse_args(argv)


def secret_env(args: argparse.Namespace) -> dict[str, str]:
    """The settings that must not go on a command line: environment variable -> value."""
    out = {}
    for name, (_, env) in SECRET_KEYS.items():
        value = getattr(args, name)
        if has_secret(value) or args.secrets == "cluster":
            out[env] = value
    return out


def _setting(args: argparse.Namespace, name: str) -> str:
    key, env = SECRET_KEYS[name]
    if env in secret_env(args):  # resolved by mmopt's config from the job's environment
        return f"{key}=${{oc.env:{env}}}"
    return f"{key}={getattr(args, name)}"


def sweep_overrides(args: argparse.Namespace) -> list[str]:
    """The cluster settings as Hydra overrides; the user's own come last and win."""
    base = [
        "executor=ray",
        f"executor.address={args.gcs_address or 'auto'}",
        _setting(args, "storage"),
        "tracking=mlflow",
        _setting(args, "tracking_uri"),
    ]
    if args.data_root:
        base.append(f"data.root={args.data_root}")
    return base + list(args.overrides)


def build_command(args: argparse.Namespace, runtime_env: str | None = None) -> list[str]:
    """``ray job submit ...``; ``runtime_env`` replaces ``--runtime-env`` (the private copy)."""
    command = [
        "ray",
        "job",
        "submit",
        "--address",
        args.address,
        "--runtime-env",
        runtime_env or args.runtime_env,
        "--working-dir",
        args.working_dir,
    ]
    if args.submission_id:
        command += ["--submission-id", args.submission_id]
    if args.no_wait:
        command.append("--no-wait")
    return [*command, "--", "mmopt", "sweep", *sweep_overrides(args)]


@contextlib.contextmanager
def private_runtime_env(args: argparse.Namespace) -> Iterator[str | None]:
    """A copy of the runtime env file plus the secrets to ship and the numba cache folder
    (mode 0600), removed on exit; None when there is nothing to add."""
    shipped = secret_env(args) if args.secrets == "ship" else {}
    if args.numba_cache_dir:
        shipped["NUMBA_CACHE_DIR"] = args.numba_cache_dir
    if not shipped:
        yield None
        return
    env = yaml.safe_load(Path(args.runtime_env).read_text()) or {}
    env["env_vars"] = {**env.get("env_vars", {}), **shipped}
    with tempfile.TemporaryDirectory(prefix="mmopt-job-") as folder:
        path = Path(folder) / "runtime_env.yaml"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(env, sort_keys=False))
        yield str(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    secrets = secret_env(args)
    if args.dry_run:
        print(mask_secrets(shlex.join(build_command(args))), flush=True)
        for env, value in secrets.items():
            where = "shipped in the job's runtime env" if args.secrets == "ship" else (
                "read from the Ray head's environment")
            print(f"# {env}={mask_secrets(value)} ({where})", flush=True)
        return 0
    with private_runtime_env(args) as runtime_env:
        command = build_command(args, runtime_env)
        print(mask_secrets(shlex.join(command)), flush=True)
        return subprocess.call(command)


if __name__ == "__main__":
    raise SystemExit(main())
