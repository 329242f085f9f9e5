"""Validation of the `distribution` settings and of the cluster a worker belongs to.

This module does not import TensorFlow, so that a bad `--worker-hosts`,
`--task-index` or `TF_CONFIG` is reported before TensorFlow starts and
before any worker blocks waiting for its peers.

A multi-worker cluster comes from one of three sources:

- `hosts`: `distribution.worker_hosts` and `distribution.task_index`
  (`--worker-hosts` and `--task-index`). Worker 0 is the chief.
- `tf_config`: the `TF_CONFIG` environment variable, in TensorFlow's format
  `{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker",
  "index": 0}}`. The chief is the `chief` task when the cluster has one,
  else worker 0.
- `slurm`: the Slurm job's environment. TensorFlow's `SlurmClusterResolver`
  expands the node list; task `SLURM_PROCID` 0 is the chief.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Mapping

from modelzoo.errors import ConfigError

# The task types that `MultiWorkerMirroredStrategy` trains with.
TRAINING_TASK_TYPES = ("chief", "worker")


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    """The cluster of a multi-worker run and this process's place in it.

    Attributes:
        source: `hosts`, `tf_config`, `slurm`, or `local` for a single worker
            without a cluster.
        cluster: Task type to `host:port` addresses; `None` for `slurm`
            (TensorFlow resolves the hosts) and `local`.
        task_type: `chief` or `worker`.
        task_index: Index of this process within its task type.
        num_workers: Number of training processes, the chief included.
    """

    source: str
    cluster: dict[str, list[str]] | None
    task_type: str
    task_index: int
    num_workers: int

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run directory."""
        if self.task_type == "chief":
            return True
        has_chief = bool(self.cluster and self.cluster.get("chief"))
        return self.task_type == "worker" and self.task_index == 0 and not has_chief

    def describe(self) -> str:
        """Return the role as one log phrase, such as `worker 1, non-chief, 2 worker(s), ...`."""
        role = "chief" if self.is_chief else "non-chief"
        return (f"{self.task_type} {self.task_index}, {role}, {self.num_workers} worker(s), "
                f"cluster from {self.source}")


def parse_host(value, *, key: str) -> tuple[str, int]:
    """Split a `host:port` address; IPv6 hosts are written in brackets, `[::1]:2222`."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{key} must contain 'host:port' strings; received {value!r}. "
            "Example: 127.0.0.1:2222."
        )
    text = value.strip()
    host, separator, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not separator or not host or (":" in host and not text.startswith("[")):
        raise ConfigError(
            f"{key}: {value!r} is not a 'host:port' address. Write it as 10.0.0.1:2222, "
            "node1:2222 or [::1]:2222."
        )
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(
            f"{key}: {value!r} has the port {port_text!r}; a port is an integer "
            "from 1 to 65535."
        )
    return host, int(port_text)


def parse_worker_hosts(text: str) -> list[str]:
    """Split the comma-separated value of `--worker-hosts` into addresses."""
    hosts = [item.strip() for item in text.split(",")]
    if not any(hosts):
        raise ConfigError(
            f"--worker-hosts {text!r} names no worker. Pass host:port of every worker, "
            "separated by commas, for example --worker-hosts 10.0.0.1:2222,10.0.0.2:2222."
        )
    return hosts


def check_distribution(settings) -> None:
    """Check the `distribution` section's keys against each other.

    Raises:
        ConfigError: A malformed `host:port`, a duplicate host, a task index
            out of range, or cluster keys that the strategy does not use.
    """
    hosts = settings.worker_hosts
    index = settings.task_index
    if hosts is not None:
        if not hosts:
            raise ConfigError(
                "distribution.worker_hosts is an empty list. List host:port of every "
                "worker, or leave it unset."
            )
        for host in hosts:
            parse_host(host, key="distribution.worker_hosts")
        duplicates = sorted({host for host in hosts if hosts.count(host) > 1})
        if duplicates:
            raise ConfigError(
                f"distribution.worker_hosts lists {', '.join(duplicates)} more than once; "
                "each worker needs its own host:port."
            )
    if index is not None and hosts is None:
        raise ConfigError(
            f"--task-index {index} (distribution.task_index) needs --worker-hosts "
            "(distribution.worker_hosts), the list it indexes. Pass both, or neither "
            "and set TF_CONFIG."
        )
    if hosts is not None and index is None:
        raise ConfigError(
            f"--worker-hosts lists {len(hosts)} worker(s) but --task-index "
            "(distribution.task_index) is not set. Pass this process's position in the "
            f"list, from 0 to {len(hosts) - 1}."
        )
    if hosts is not None and index >= len(hosts):
        raise ConfigError(
            f"--task-index {index} is out of range: --worker-hosts lists {len(hosts)} "
            f"worker(s), so the index must be from 0 to {len(hosts) - 1}."
        )
    if hosts is not None and settings.strategy != "multi_worker":
        raise ConfigError(
            f"--worker-hosts is set but distribution.strategy is {settings.strategy!r}. "
            "Pass --strategy multi_worker, or drop --worker-hosts and --task-index."
        )
    if hosts is not None and settings.cluster not in ("auto", "hosts"):
        raise ConfigError(
            f"--worker-hosts is set but distribution.cluster is {settings.cluster!r}, "
            "which reads the cluster elsewhere. Set distribution.cluster to 'hosts' or "
            "'auto', or drop --worker-hosts."
        )
    if settings.cluster == "hosts" and hosts is None:
        raise ConfigError(
            "distribution.cluster is 'hosts' but --worker-hosts (distribution.worker_hosts) "
            "is not set. Pass --worker-hosts and --task-index."
        )


def resolve_cluster(settings, environ: Mapping[str, str] | None = None) -> ClusterInfo | None:
    """Return this process's cluster for `multi_worker`, or None for other strategies.

    Raises:
        ConfigError: `TF_CONFIG` is not valid JSON or misses a key, a source
            that `distribution.cluster` requires is absent, or the task is
            not a training task.
    """
    if settings.strategy != "multi_worker":
        return None
    environ = os.environ if environ is None else environ
    source = settings.cluster
    if source == "auto":
        if settings.worker_hosts is not None:
            source = "hosts"
        elif environ.get("TF_CONFIG"):
            source = "tf_config"
        elif environ.get("SLURM_JOB_ID"):
            source = "slurm"
        else:
            return ClusterInfo("local", None, "worker", 0, 1)
    if source == "hosts":
        return ClusterInfo("hosts", {"worker": list(settings.worker_hosts)}, "worker",
                           settings.task_index, len(settings.worker_hosts))
    if source == "tf_config":
        return parse_tf_config(environ.get("TF_CONFIG"))
    return _slurm_cluster(environ)


def parse_tf_config(text: str | None) -> ClusterInfo:
    """Validate the JSON of `TF_CONFIG` and return the cluster it describes."""
    if not text:
        raise ConfigError(
            "distribution.cluster is 'tf_config' but the TF_CONFIG environment variable is "
            'not set. Set it, for example TF_CONFIG=\'{"cluster": {"worker": '
            '["10.0.0.1:2222", "10.0.0.2:2222"]}, "task": {"type": "worker", "index": 0}}\'.'
        )
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ConfigError(
            f"TF_CONFIG is not valid JSON ({error}): {text[:200]!r}. Write it as "
            '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
            '"index": 0}}.'
        ) from None
    if not isinstance(value, dict) or not isinstance(value.get("cluster"), dict):
        raise ConfigError(
            f"TF_CONFIG has no 'cluster' mapping: {text[:200]!r}. It needs "
            '"cluster": {"worker": ["host:port", ...]}.'
        )
    task = value.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ConfigError(
            f"TF_CONFIG has no 'task' with 'type' and 'index': {text[:200]!r}. Add "
            '"task": {"type": "worker", "index": N} for this process.'
        )

    cluster: dict[str, list[str]] = {}
    for task_type, hosts in value["cluster"].items():
        if not isinstance(hosts, list):
            raise ConfigError(
                f"TF_CONFIG cluster[{task_type!r}] must be a list of 'host:port' strings; "
                f"received {hosts!r}."
            )
        for host in hosts:
            parse_host(host, key=f"TF_CONFIG cluster[{task_type!r}]")
        cluster[task_type] = list(hosts)

    task_type, index = task["type"], task["index"]
    if task_type not in TRAINING_TASK_TYPES:
        raise ConfigError(
            f"TF_CONFIG task type {task_type!r} does not train with MultiWorkerMirroredStrategy, "
            f"which uses only {' and '.join(TRAINING_TASK_TYPES)} tasks."
        )
    hosts = cluster.get(task_type, [])
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(hosts):
        raise ConfigError(
            f"TF_CONFIG task index {index!r} is out of range: cluster[{task_type!r}] lists "
            f"{len(hosts)} address(es), so the index must be from 0 to {len(hosts) - 1}."
        )

    workers = sum(len(cluster.get(name, [])) for name in TRAINING_TASK_TYPES)
    return ClusterInfo("tf_config", cluster, task_type, index, workers)


def _slurm_cluster(environ: Mapping[str, str]) -> ClusterInfo:
    missing = [name for name in ("SLURM_JOB_ID", "SLURM_PROCID", "SLURM_NTASKS")
               if not environ.get(name)]
    if missing:
        raise ConfigError(
            f"distribution.cluster is 'slurm' but {', '.join(missing)} is not set, so this "
            "process is not a Slurm task. Start it with srun inside an sbatch job."
        )
    try:
        index = int(environ["SLURM_PROCID"])
        tasks = int(environ["SLURM_NTASKS"])
    except ValueError:
        raise ConfigError(
            f"SLURM_PROCID={environ['SLURM_PROCID']!r} and SLURM_NTASKS={environ['SLURM_NTASKS']!r} "
            "must be integers."
        ) from None
    return ClusterInfo("slurm", None, "worker", index, tasks)
