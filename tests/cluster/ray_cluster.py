"""A Ray cluster on 127.0.0.1 for the cluster tests.

``python ray_cluster.py FOLDER PORT AGENT_PORT`` starts a head node (no CPUs: it runs the jobs'
drivers; the dashboard and job API on 127.0.0.1:PORT, its agent on AGENT_PORT rather than Ray's
fixed default) with its files in FOLDER, prints ``{"node_id": ..., "raylet_pid": ...,
"gcs_address": ...}``, then reads commands: ``add`` starts a worker node (its own raylet,
1 CPU) and prints the same line for it; ``remove NODE_ID`` stops what is left of a worker
node (after a test killed its raylet) and prints ``{"removed": NODE_ID}``; end of input shuts
the cluster down. Ray's own multi-node test cluster
(``ray.cluster_utils.Cluster``): ``ray start --address`` refuses to join a loopback-only head."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ray._private import ray_constants  # the process table of a test cluster node
from ray.cluster_utils import Cluster

LOOPBACK = "127.0.0.1"


def _describe(node: Any) -> str:
    raylet = node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0]
    return json.dumps({"node_id": node.node_id, "raylet_pid": raylet.process.pid,
                       "gcs_address": node.gcs_address})


def main(folder: str, port: int, agent_port: int) -> None:
    # RAY_TMPDIR=folder (set by the tests): Ray's default temp dir is folder/ray, where Cluster
    # writes the cluster's address rather than in the machine-wide default (shared by every
    # Ray on the machine). The head's temp dir is that same folder, as with `ray start
    # --head` (which writes the address in its temp dir): the job supervisor resolves its
    # driver's RAY_ADDRESS from the head's temp dir, else it took any Ray on the machine.
    temp_dir = Path(folder, "ray")
    temp_dir.mkdir(exist_ok=True)
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "node_ip_address": LOOPBACK, "include_dashboard": True,
        "dashboard_host": LOOPBACK, "dashboard_port": port, "temp_dir": str(temp_dir),
        "object_store_memory": 150 * 1024 * 1024, "dashboard_agent_listen_port": agent_port})
    print(_describe(cluster.head_node), flush=True)
    added = 0
    workers = {}
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "remove":
            cluster.remove_node(workers.pop(arg), allow_graceful=False)
            print(json.dumps({"removed": arg}), flush=True)
        elif command == "add":
            added += 1  # its own runtime_env folder, as on a machine of its own: nodes
            # sharing one unpack the job's working_dir over each other's (the driver's cwd)
            node = cluster.add_node(num_cpus=1, node_ip_address=LOOPBACK,
                                    runtime_env_dir_name=f"runtime_resources_node{added}")
            workers[node.node_id] = node
            print(_describe(node), flush=True)
    for node in list(workers.values()):  # a test cluster: no graceful stop needed
        cluster.remove_node(node, allow_graceful=False)
    cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
