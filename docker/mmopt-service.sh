#!/bin/sh
# The long-running services of an mmopt cluster, one command each, configured by environment
# variables: docker/compose.yaml runs them in the image (installed as /usr/local/bin/mmopt-service)
# and a test or a bare machine can run the same lines with `sh docker/mmopt-service.sh NAME`.
#
#   ray-head     ray start --head (the job driver runs here; RAY_NUM_CPUS=0 keeps trials off it)
#                RAY_PORT (6379), RAY_DASHBOARD_HOST (0.0.0.0), RAY_DASHBOARD_PORT (8265),
#                RAY_NUM_CPUS (0)
#   ray-worker   ray start --address=RAY_HEAD_ADDRESS (host:port, required); RAY_NUM_CPUS (all)
#                both: RAY_OBJECT_STORE_MEMORY (bytes; Ray's default when unset)
#   mlflow       mlflow server --serve-artifacts; MLFLOW_BACKEND_STORE_URI (required, read by
#                mlflow itself so its password stays off the command line), MLFLOW_HOST
#                (0.0.0.0), MLFLOW_PORT (5000), MLFLOW_WORKERS (2), MLFLOW_ARTIFACTS_DESTINATION
#                (/mlartifacts), MLFLOW_ALLOWED_HOSTS (mlflow, localhost and 127.0.0.1, any port);
#                waits up to MLFLOW_WAIT_S (120) seconds for a database backend store to accept
#                connections first
#
# Extra arguments after NAME go to the command as they are.
set -eu
usage="usage: mmopt-service ray-head|ray-worker|mlflow [extra arguments]"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
service="$1"
shift
# Ray's object store lives in /dev/shm, which containers keep small: RAY_OBJECT_STORE_MEMORY
# (bytes) sizes it to fit, or Ray falls back to slower disk with a warning.
object_store=""
if [ -n "${RAY_OBJECT_STORE_MEMORY:-}" ]; then
    object_store="--object-store-memory=$RAY_OBJECT_STORE_MEMORY"
fi
case "$service" in
    ray-head)
        exec ray start --head --port="${RAY_PORT:-6379}" \
            --dashboard-host="${RAY_DASHBOARD_HOST:-0.0.0.0}" \
            --dashboard-port="${RAY_DASHBOARD_PORT:-8265}" \
            --num-cpus="${RAY_NUM_CPUS:-0}" $object_store --disable-usage-stats --block "$@"
        ;;
    ray-worker)
        : "${RAY_HEAD_ADDRESS:?set RAY_HEAD_ADDRESS to the Ray head (host:port, e.g. ray-head:6379)}"
        if [ -n "${RAY_NUM_CPUS:-}" ]; then
            set -- --num-cpus="$RAY_NUM_CPUS" "$@"
        fi
        exec ray start --address="$RAY_HEAD_ADDRESS" $object_store --disable-usage-stats --block "$@"
        ;;
    mlflow)
        : "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI (e.g. postgresql+psycopg2://user:password@postgres:5432/mlflow)}"
        export MLFLOW_BACKEND_STORE_URI
        # the database may still be starting (compose starts services in order, not when ready)
        python - <<'PY'
import os
import sys
import time

import sqlalchemy

from mmopt.redact import mask_secrets

uri = os.environ["MLFLOW_BACKEND_STORE_URI"]
if uri.split(":", 1)[0].split("+", 1)[0] not in {"postgresql", "mysql", "mssql"}:
    sys.exit(0)  # a file or sqlite store: nothing to wait for
deadline = time.monotonic() + float(os.environ.get("MLFLOW_WAIT_S", "120"))
while True:
    try:
        with sqlalchemy.create_engine(uri).connect():
            break
    except sqlalchemy.exc.OperationalError as error:
        if time.monotonic() > deadline:
            sys.exit(f"mmopt-service: the MLflow backend store {mask_secrets(uri)} is not "
                     f"reachable: {mask_secrets(str(error.orig))}")
        time.sleep(1)
PY
        exec mlflow server --host "${MLFLOW_HOST:-0.0.0.0}" --port "${MLFLOW_PORT:-5000}" \
            --workers "${MLFLOW_WORKERS:-2}" \
            --serve-artifacts --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION:-/mlartifacts}" \
            --allowed-hosts "${MLFLOW_ALLOWED_HOSTS:-mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*}" \
            "$@"
        ;;
    *)
        echo "mmopt-service: unknown service '$service'; $usage" >&2
        exit 2
        ;;
esac
