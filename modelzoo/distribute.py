"""`tf.distribute` strategies for the trainer: one device, mirrored, multi-worker.

`create_distribution` turns the `distribution` config section into a
`Distribution`: the strategy to build, compile and train under, the number
of replicas, and this process's role in a multi-worker cluster.
`training.batch_size` is the global batch, split over all replicas.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import tensorflow as tf

from modelzoo.cluster import ClusterInfo, resolve_cluster
from modelzoo.device import select_device
from modelzoo.errors import ConfigError, DeviceError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Distribution:
    """The strategy a run trains under and this process's role.

    Attributes:
        name: `none`, `mirrored` or `multi_worker`: the strategy in use,
            after `auto` is resolved.
        strategy: The `tf.distribute.Strategy`; the default strategy for `none`.
        device: The device of a one-device run, such as `/CPU:0`, else `None`.
        devices: The local devices that hold a replica.
        cluster: The multi-worker cluster, else `None`.
    """

    name: str
    strategy: tf.distribute.Strategy
    device: str | None
    devices: tuple[str, ...]
    cluster: ClusterInfo | None = None

    @property
    def replicas(self) -> int:
        """Number of replicas in sync over all workers."""
        return int(self.strategy.num_replicas_in_sync)

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run directory (always, without a cluster)."""
        return self.cluster is None or self.cluster.is_chief

    def scope(self):
        """Return the context in which variables are created: the strategy scope or the device."""
        if self.name == "none":
            return tf.device(self.device)
        return self.strategy.scope()

    def to_dict(self, global_batch_size: int) -> dict:
        """Return the JSON-ready summary written to `metrics.json`."""
        values = {
            "strategy": self.name,
            "replicas": self.replicas,
            "workers": self.cluster.num_workers if self.cluster else 1,
            "devices": list(self.devices),
            "global_batch_size": global_batch_size,
            # The trainer rejects a global batch that the replicas do not divide.
            "per_replica_batch_size": global_batch_size // self.replicas,
        }
        if self.cluster is not None:
            values["cluster_source"] = self.cluster.source
        return values


def configure_cpu_devices(count: int | None) -> None:
    """Split the first physical CPU into `count` logical devices.

    Raises:
        ConfigError: TensorFlow has already initialised its devices in this
            process, after which the split cannot change.
    """
    if count is None:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as error:
        raise ConfigError(
            f"distribution.cpu_devices={count} cannot be applied because TensorFlow has "
            f"already initialised its devices in this process ({error}). Set it in a fresh "
            "process, before any TensorFlow operation runs, for example from the command line."
        ) from None
    logger.info("Split %s into %d logical CPU devices", cpu.name, count)


def create_distribution(settings, device_request: str = "auto") -> Distribution:
    """Create the strategy that `settings` (a `DistributionConfig`) describes.

    Call it before any other TensorFlow operation of the process:
    `MultiWorkerMirroredStrategy` and `cpu_devices` must come before
    TensorFlow initialises its devices.

    Raises:
        ConfigError: Invalid cluster settings (see `modelzoo.cluster`).
        DeviceError: `training.device` is `gpu` but no GPU is visible.
    """
    cluster = resolve_cluster(settings)
    name = settings.strategy
    if name != "multi_worker" and os.environ.get("TF_CONFIG"):
        logger.warning(
            "TF_CONFIG is set, but distribution.strategy is %r, so it is ignored and this "
            "process trains alone. Pass --strategy multi_worker to train in its cluster.", name)
    configure_cpu_devices(settings.cpu_devices)
    if name == "multi_worker":
        # Listing logical devices initialises TensorFlow's runtime, after
        # which collective ops can no longer be configured, so this comes first.
        try:
            strategy = tf.distribute.MultiWorkerMirroredStrategy(
                cluster_resolver=_cluster_resolver(cluster, settings),
                communication_options=tf.distribute.experimental.CommunicationOptions(
                    timeout_seconds=settings.timeout_seconds),
            )
        except RuntimeError as error:
            raise ConfigError(
                f"MultiWorkerMirroredStrategy could not be created ({error}): TensorFlow has "
                "already run operations in this process. Start each worker as a fresh "
                "process, for example with python -m modelzoo.train."
            ) from None
        devices = tuple(strategy.extended.worker_devices)
        distribution = Distribution("multi_worker", strategy, None, devices, cluster)
        logger.info("Worker role: %s", cluster.describe())
    else:
        distribution = _local_distribution(name, device_request)
    logger.info("Strategy %s: %d replica(s) in sync on %s", distribution.name,
                distribution.replicas, ", ".join(distribution.devices))
    return distribution


def _local_distribution(name: str, device_request: str) -> Distribution:
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 and device_request != "cpu" else "none"
        logger.info("Strategy auto: %s (%d GPU(s) visible)", name, len(gpus))
    if name == "none":
        device = select_device(device_request)
        return Distribution("none", tf.distribute.get_strategy(), device, (device,))
    devices = _mirrored_devices(device_request, gpus)
    return Distribution("mirrored", tf.distribute.MirroredStrategy(devices=list(devices)), None,
                        devices)


def _mirrored_devices(device_request: str, gpus: list[str]) -> tuple[str, ...]:
    if device_request == "gpu" and not gpus:
        raise DeviceError(
            "--device gpu with --strategy mirrored needs a GPU, but TensorFlow sees none. "
            "Use --device cpu with distribution.cpu_devices to mirror over CPU devices."
        )
    if gpus and device_request != "cpu":
        return tuple(gpus)
    cpus = tuple(device.name for device in tf.config.list_logical_devices("CPU"))
    if len(cpus) == 1:
        logger.warning(
            "Strategy mirrored on one CPU device: one replica. Set "
            "distribution.cpu_devices to split the CPU into several devices."
        )
    return cpus


def _cluster_resolver(cluster: ClusterInfo, settings):
    resolvers = tf.distribute.cluster_resolver
    if cluster.source == "slurm":
        # NOTE: not yet run inside a Slurm job; the tests cover only the
        # checks of the Slurm variables in modelzoo.cluster.
        return resolvers.SlurmClusterResolver(port_base=settings.slurm_port_base)
    if cluster.source == "local":
        logger.warning("Strategy multi_worker without a cluster (no --worker-hosts, TF_CONFIG "
                       "or Slurm job): training as a single worker")
        return None
    # modelzoo.cluster has parsed TF_CONFIG already. Both sources become one
    # ClusterSpec, so the strategy gets exactly the cluster that was validated.
    return resolvers.SimpleClusterResolver(
        tf.train.ClusterSpec(cluster.cluster), task_type=cluster.task_type,
        task_id=cluster.task_index, rpc_layer="grpc",
    )


def distribute_dataset(distribution: Distribution, dataset, *, from_files: bool = False):
    """Return `dataset` split over the replicas of `distribution`, with explicit sharding.

    Every modelzoo loader decodes its files into memory and builds the
    pipeline with `from_tensor_slices`, so there are no files to split
    between workers, and the trainer passes `from_files=False`. The policy
    is then DATA: each worker runs the same seeded pipeline and keeps its
    own share of every global batch, so no two workers see the same example
    in one epoch. Pass `from_files=True` for your own pipeline that reads
    many files (`TFRecordDataset` over `list_files`): the policy is then
    FILE, each worker reads a disjoint set of files, and there must be at
    least as many files as workers.
    """
    policy = tf.data.experimental.AutoShardPolicy
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy.FILE if from_files else policy.DATA
    return distribution.strategy.experimental_distribute_dataset(dataset.with_options(options))
