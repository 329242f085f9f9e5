"""The training configuration: one schema, YAML files and command-line overrides.

A config is a tree of dataclasses. Every key a YAML file may set is a field
below, documented in its class docstring. Loading checks each key, type and
range, and rejects mistakes with the key path, the expected type or range and
a did-you-mean suggestion. This module does not import TensorFlow or Keras.

Precedence, lowest first: the defaults below, the YAML file, then
command-line flags and `--set key.sub=value` overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import types
import typing
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from modelzoo.errors import ConfigError


def _field(default=dataclasses.MISSING, *, factory=dataclasses.MISSING, minimum=None,
           maximum=None, exclusive_minimum=None, exclusive_maximum=None, choices=None):
    metadata = {
        "minimum": minimum,
        "maximum": maximum,
        "exclusive_minimum": exclusive_minimum,
        "exclusive_maximum": exclusive_maximum,
        "choices": choices,
    }
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class ModelConfig:
    """Model selection and builder arguments.

    Attributes:
        name: Registry name of the model (`modelzoo list` shows them).
        args: Keyword arguments passed to the builder, for example
            `{dropout: 0.25, filters: [32, 64]}`. The optimizer and learning
            rate come from the `optimizer` section, not from here.
    """

    name: str = "cnn"
    args: dict = _field(factory=dict)


@dataclasses.dataclass
class DataConfig:
    """Data source and split settings.

    Attributes:
        dataset: Data set name: `mnist` or `fashion_mnist`; or a sequence data
            set: `ucr/<Name>` (UCR archive, such as `ucr/FordA`),
            `sequential_mnist`, `imdb`, `npz:<path>` or `csv:<path>`.
        data_dir: Root folder with one sub-folder per data set, such as
            `<data_dir>/mnist/`. When unset, the `MODELZOO_DATA_DIR`
            environment variable is used.
        source: `auto` tries, in order, `data_dir`, copies already on the
            machine (Keras's cache, system packages, prepared TFDS data) and a
            TFDS download. `local`, `keras`, `system` and `tfds` use only
            that source.
        download: Allow the TFDS download when no local copy is found.
        validation_fraction: Fraction of the training split held out for
            validation. The held-out examples are chosen by a fixed
            permutation of `split_seed` and never overlap the training ones.
            0 disables validation.
        split_seed: Seed of the validation split; it stays fixed when
            `training.seed` changes, so runs are compared on the same split.
        train_subset: Use only this many training examples (before the
            validation split); unset uses all.
        test_subset: Use only the first this many test examples; unset uses all.
        shuffle_buffer: Shuffle buffer size in examples; unset shuffles the
            whole training set each epoch.
        cache: Kept so that older configs still load. It changes nothing,
            because every loader decodes its data once into in-memory arrays
            and the pipelines gather batches from them.
        noise: Corrupt the inputs (never the targets) of a reconstruction
            model, for a denoising autoencoder: `gaussian` adds
            `noise_level * N(0, 1)` and clips to [0, 1], `masking` sets a
            `noise_level` fraction of the values to 0. The training split
            gets new noise every epoch, validation and test the same noise
            every time. Unset trains on clean inputs.
        noise_level: Standard deviation (gaussian) or masked fraction
            (masking) of `noise`.
        znormalize: UCR data sets: scale each series to mean 0 and standard
            deviation 1 before training.
        frame_length: UCR data sets: fold every `frame_length` consecutive
            values into one step, so a series of T values becomes
            `(T / frame_length, frame_length)`; 1 keeps one value per step.
            A recurrent model then runs `frame_length` times fewer steps.
            T must be a multiple of `frame_length`.
        ucr_mirror: UCR data sets: base URL to download missing files from,
            as `<ucr_mirror>/<Name>/<Name>_TRAIN.tsv`. Unset uses
            `$MODELZOO_UCR_MIRROR`, else a public GitHub mirror (not reachable
            offline). Downloads are checked against shipped SHA-256 digests.
        sequence_steps: `sequential_mnist`: `rows` reads each image as 28
            steps of 28 pixels, `pixels` as 784 steps of 1 pixel.
        vocab_size: `imdb`: vocabulary size of the `TextVectorization` layer,
            including the padding and unknown-word ids.
        sequence_length: `imdb`: tokens kept per review (unset: 200). `npz:`
            and `csv:` files: pad or cut each sequence to this many steps
            (unset: the longest sequence).
        pad_value: `npz:` and `csv:` files: value written into every feature
            of a padded step. Pass the same value as the model's mask value
            (`model.args.mask_value` of `lstm`).
        test_fraction: `npz:` and `csv:` files without `x_test`: fraction of
            the examples held out as the test split.
        verify_checksums: Check the public MNIST, Fashion-MNIST and UCR files
            against the SHA-256 digests shipped in `modelzoo.data.checksums`
            the first time they are read. Set false for custom files that
            reuse the public names; `MODELZOO_SKIP_CHECKSUMS=1` does the same.
    """

    dataset: str = "mnist"
    data_dir: Optional[str] = None
    source: str = _field("auto", choices=("auto", "local", "keras", "system", "tfds"))
    download: bool = True
    validation_fraction: float = _field(0.1, minimum=0.0, exclusive_maximum=1.0)
    split_seed: int = _field(0, minimum=0)
    train_subset: Optional[int] = _field(None, minimum=1)
    test_subset: Optional[int] = _field(None, minimum=1)
    shuffle_buffer: Optional[int] = _field(None, minimum=1)
    cache: bool = True
    noise: Optional[str] = _field(None, choices=("gaussian", "masking"))
    noise_level: float = _field(0.0, minimum=0.0)
    znormalize: bool = False
    frame_length: int = _field(1, minimum=1)
    ucr_mirror: Optional[str] = None
    sequence_steps: str = _field("rows", choices=("rows", "pixels"))
    vocab_size: int = _field(20_000, minimum=3)
    sequence_length: Optional[int] = _field(None, minimum=1)
    pad_value: float = 0.0
    test_fraction: float = _field(0.2, exclusive_minimum=0.0, exclusive_maximum=1.0)

    def sequence_options(self) -> dict:
        """Return the settings that only the sequence data sets read."""
        return {
            "znormalize": self.znormalize,
            "frame_length": self.frame_length,
            "ucr_mirror": self.ucr_mirror,
            "sequence_steps": self.sequence_steps,
            "vocab_size": self.vocab_size,
            "sequence_length": self.sequence_length,
            "pad_value": self.pad_value,
            "test_fraction": self.test_fraction,
        }
    verify_checksums: bool = True


@dataclasses.dataclass
class OptimizerConfig:
    """The optimizer passed to the builder.

    Attributes:
        name: Any name `keras.optimizers.get` accepts: `adam`, `adamw`,
            `sgd`, `rmsprop`, `nadam`, ...
        learning_rate: Initial learning rate; with `schedule: one_cycle`, the
            peak rate.
        schedule: `constant` keeps `learning_rate` unless a callback changes
            it. `one_cycle` rises linearly from `learning_rate / 25` to
            `learning_rate` over the first `warmup_fraction` of all training
            steps (`training.epochs` full epochs), then falls along a cosine
            to `learning_rate / 1000`. It cannot be combined with
            `callbacks.reduce_lr_on_plateau`.
        warmup_fraction: `one_cycle`: fraction of the training steps spent
            rising to the peak.
    """

    name: str = "adam"
    learning_rate: float = _field(1e-3, exclusive_minimum=0.0)
    schedule: str = _field("constant", choices=("constant", "one_cycle"))
    warmup_fraction: float = _field(0.25, minimum=0.0, maximum=1.0)


@dataclasses.dataclass
class TrainingConfig:
    """How long and where to train.

    Attributes:
        epochs: Maximum number of epochs; early stopping may end sooner.
        batch_size: Examples per training step.
        seed: Seed of Python, NumPy, Keras and `tf.data` randomness.
        device: `auto` (a GPU when TensorFlow detects one, else the CPU), `cpu`
            or `gpu`.
        verbose: Keras progress output: 1 shows a progress bar, 2 one line
            per epoch, 0 nothing.
        precision: `float32`, or a Keras mixed-precision policy:
            `mixed_bfloat16` or `mixed_float16` compute in 16 bits with
            float32 weights, outputs and losses. `auto` picks
            `mixed_bfloat16` on a CPU with bf16 instructions (the
            `amx_bf16` or `avx512_bf16` flag in `/proc/cpuinfo`),
            `mixed_float16` on a CUDA GPU with tensor cores, else `float32`,
            and logs the reason. See `modelzoo.precision`.
        deterministic: Turn on TensorFlow op determinism
            (`tf.config.experimental.enable_op_determinism`). On the CPU, runs
            with the same seed repeat bit for bit without it. On a GPU it is
            needed for that. It makes some ops slower, and ops with no
            deterministic GPU kernel then raise an error.
        steps_per_execution: Training steps run by each call of the compiled
            training function (Keras's `steps_per_execution`), and likewise
            for validation and evaluation. Larger values cut the Python work
            between steps, which matters for small, fast models; batch-level
            callback hooks, the progress bar and a Ctrl-C then act once per
            call. Only one-device runs use it: under the `mirrored` and
            `multi_worker` strategies each call runs one step.
    """

    epochs: int = _field(10, minimum=1)
    batch_size: int = _field(128, minimum=1)
    seed: int = _field(42, minimum=0)
    device: str = _field("auto", choices=("auto", "cpu", "gpu"))
    verbose: int = _field(1, choices=(0, 1, 2))
    precision: str = _field("float32", choices=("auto", "float32", "mixed_bfloat16",
                                                "mixed_float16"))
    deterministic: bool = False
    steps_per_execution: int = _field(16, minimum=1)


@dataclasses.dataclass
class EarlyStoppingConfig:
    """`keras.callbacks.EarlyStopping` settings.

    Attributes:
        enabled: Stop when `monitor` stops improving.
        monitor: Metric to watch; needs validation data for `val_*`.
        patience: Epochs without improvement before stopping.
        min_delta: Smallest change that counts as an improvement.
        restore_best_weights: Restore the weights of the best epoch at the end,
            including when training ran all epochs.
    """

    enabled: bool = True
    monitor: str = "val_loss"
    patience: int = _field(3, minimum=0)
    min_delta: float = _field(0.0, minimum=0.0)
    restore_best_weights: bool = True


@dataclasses.dataclass
class ReduceLROnPlateauConfig:
    """`keras.callbacks.ReduceLROnPlateau` settings.

    Attributes:
        enabled: Lower the learning rate when `monitor` stops improving.
        monitor: Metric to watch.
        factor: Factor the learning rate is multiplied by.
        patience: Epochs without improvement before lowering it.
        min_lr: Lower bound of the learning rate.
    """

    enabled: bool = False
    monitor: str = "val_loss"
    factor: float = _field(0.5, exclusive_minimum=0.0, exclusive_maximum=1.0)
    patience: int = _field(2, minimum=0)
    min_lr: float = _field(1e-6, minimum=0.0)


@dataclasses.dataclass
class ModelCheckpointConfig:
    """`keras.callbacks.ModelCheckpoint` settings.

    Attributes:
        enabled: Save checkpoints during training.
        filepath: Path relative to the run directory; may contain `{epoch}`.
            Keras 3 requires the suffix `.keras`, or `.weights.h5` with
            `save_weights_only`; other suffixes are rejected when the config
            is loaded.
        monitor: Metric that decides the best checkpoint.
        save_best_only: Keep only the checkpoint with the best `monitor`.
        save_weights_only: Save only the weights (`.weights.h5`).
    """

    enabled: bool = False
    filepath: str = "checkpoints/best.keras"
    monitor: str = "val_loss"
    save_best_only: bool = True
    save_weights_only: bool = False


@dataclasses.dataclass
class CallbacksConfig:
    """Callbacks the trainer adds.

    Attributes:
        early_stopping: See `EarlyStoppingConfig`.
        reduce_lr_on_plateau: See `ReduceLROnPlateauConfig`.
        model_checkpoint: See `ModelCheckpointConfig`.
        tensorboard: Write TensorBoard logs to `<run_dir>/tensorboard/`.
    """

    early_stopping: EarlyStoppingConfig = _field(factory=EarlyStoppingConfig)
    reduce_lr_on_plateau: ReduceLROnPlateauConfig = _field(factory=ReduceLROnPlateauConfig)
    model_checkpoint: ModelCheckpointConfig = _field(factory=ModelCheckpointConfig)
    tensorboard: bool = True


@dataclasses.dataclass
class OutputConfig:
    """Output locations and files.

    Attributes:
        dir: Parent of the run directories; each run writes
            `<dir>/<model>/<timestamp>/`.
        save_model: Write `model.keras` into the run directory.
        plots: Write `curves.png` into the run directory.
    """

    dir: str = "runs"
    save_model: bool = True
    plots: bool = True


@dataclasses.dataclass
class AnomalyConfig:
    """Reconstruction-error anomaly detection, for models of task `anomaly_detection`.

    Attributes:
        normal_class: Archive label of the normal class, as text (`"1"` for
            ECG5000). The model trains on the training series of this class
            only; every other class counts as an anomaly in the test split.
        threshold: How the error threshold is chosen from the reconstruction
            errors of the normal training series: `quantile` takes their
            `quantile`, `mean_std` takes mean + `std_factor` standard
            deviations, `max` the largest error.
        quantile: Quantile for `threshold: quantile`.
        std_factor: Factor of the standard deviation for `threshold: mean_std`.
    """

    normal_class: str = "1"
    threshold: str = _field("quantile", choices=("quantile", "mean_std", "max"))
    quantile: float = _field(0.95, exclusive_minimum=0.0, maximum=1.0)
    std_factor: float = _field(3.0, minimum=0.0)


@dataclasses.dataclass
class DistributionConfig:
    """Training on several devices or machines with `tf.distribute`.

    `training.batch_size` is the global batch: each step consumes that many
    examples in total, split evenly over all replicas, so the batch per
    replica is `batch_size / replicas`. The learning rate is not scaled.
    See docs/scaling.md.

    Attributes:
        strategy: `auto` trains on one device, or with `MirroredStrategy`
            over all visible GPUs when TensorFlow detects two or more. `none`
            trains on one device (`training.device`). `mirrored` uses
            `MirroredStrategy` over all visible GPUs, or over the CPU's
            logical devices (see `cpu_devices`) when there is no GPU or
            `training.device` is `cpu`. `multi_worker` uses
            `MultiWorkerMirroredStrategy` across the processes of a cluster.
        cluster: Where `multi_worker` reads the cluster from. `auto` takes
            `worker_hosts` when set, else the `TF_CONFIG` environment variable
            when set, else Slurm when `SLURM_JOB_ID` is set, else trains as a
            single worker. `hosts`, `tf_config` and `slurm` use only that source.
        worker_hosts: `host:port` of every worker, the chief (task 0) first;
            the same list on every worker. Needs `task_index`.
        task_index: Index of this process in `worker_hosts`.
        slurm_port_base: First port that Slurm tasks listen on; task `i` of
            a node listens on `slurm_port_base + i`.
        cpu_devices: Split the first CPU into this many logical devices
            before TensorFlow initialises its devices, so that `mirrored`
            has several replicas on a machine without GPUs. Unset keeps one.
        timeout_seconds: Abort a collective operation (the gradient
            all-reduce of `multi_worker`) that has not finished in this
            many seconds, for example because a worker died. Unset waits
            forever. TensorFlow 2.21 documents this option
            (`tf.distribute.experimental.CommunicationOptions`) as a
            debugging aid that starts one thread per collective operation.
    """

    strategy: str = _field("auto", choices=("auto", "none", "mirrored", "multi_worker"))
    cluster: str = _field("auto", choices=("auto", "hosts", "tf_config", "slurm"))
    worker_hosts: Optional[list] = None
    task_index: Optional[int] = _field(None, minimum=0)
    slurm_port_base: int = _field(8888, minimum=1, maximum=65535)
    cpu_devices: Optional[int] = _field(None, minimum=1)
    timeout_seconds: Optional[float] = _field(None, exclusive_minimum=0.0)


@dataclasses.dataclass
class Config:
    """A complete training configuration; see each section's class."""

    model: ModelConfig = _field(factory=ModelConfig)
    data: DataConfig = _field(factory=DataConfig)
    optimizer: OptimizerConfig = _field(factory=OptimizerConfig)
    training: TrainingConfig = _field(factory=TrainingConfig)
    callbacks: CallbacksConfig = _field(factory=CallbacksConfig)
    output: OutputConfig = _field(factory=OutputConfig)
    anomaly: AnomalyConfig = _field(factory=AnomalyConfig)
    distribution: DistributionConfig = _field(factory=DistributionConfig)

    def to_dict(self) -> dict:
        """Return the config as plain dictionaries, ready for YAML."""
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        """Return the config as a YAML document."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def config_from_dict(data: dict | None) -> Config:
    """Validate a nested dictionary and return a `Config`."""
    config = _build(Config, data or {}, prefix="")
    check_checkpoint_path(config.callbacks.model_checkpoint)
    check_schedule(config)
    from modelzoo.cluster import check_distribution

    check_distribution(config.distribution)
    return config


def check_schedule(config: Config) -> None:
    """Reject a learning-rate schedule together with ReduceLROnPlateau, which would fight it."""
    schedule = config.optimizer.schedule
    if schedule != "constant" and config.callbacks.reduce_lr_on_plateau.enabled:
        raise ConfigError(
            f"optimizer.schedule is {schedule!r}, which sets the learning rate of every step, "
            "so callbacks.reduce_lr_on_plateau cannot change it. Set "
            "callbacks.reduce_lr_on_plateau.enabled=false or optimizer.schedule=constant."
        )


def check_checkpoint_path(settings: ModelCheckpointConfig) -> None:
    """Reject a checkpoint path whose suffix Keras 3's `ModelCheckpoint` rejects."""
    path = settings.filepath
    key = "callbacks.model_checkpoint.filepath"
    if settings.save_weights_only and not path.endswith(".weights.h5"):
        raise ConfigError(
            f"Config key {key!r} is {path!r}, but with save_weights_only=true Keras 3 "
            "needs a path ending in '.weights.h5', for example 'checkpoints/best.weights.h5'."
        )
    if not settings.save_weights_only and not path.endswith(".keras"):
        raise ConfigError(
            f"Config key {key!r} is {path!r}, but Keras 3 saves whole models only to "
            "paths ending in '.keras', for example 'checkpoints/best.keras'. Change the "
            "suffix, or set save_weights_only=true with a '.weights.h5' path."
        )


def read_yaml(path: str | Path) -> dict:
    """Read a config file with YAML's safe loader and return its mapping."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Config file not found: {path}. Check the path.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"Config file {path} is not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"Config file {path} must contain a mapping of sections "
            f"(model, data, training, ...); it contains a {type(data).__name__}."
        )
    return data


def default_config_path(model_name: str) -> Path | None:
    """Return the path of the default config of a registered model, if it has one."""
    from modelzoo.models import get_spec

    file_name = get_spec(model_name).config
    if file_name is None:
        return None
    resource = importlib.resources.files("modelzoo.configs").joinpath(file_name)
    return Path(str(resource))


def list_config_files() -> list[str]:
    """Return the names of the YAML configs that ship with the package."""
    folder = importlib.resources.files("modelzoo.configs")
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".yaml"))


def load_config(
    source: str | Path | dict | None = None,
    *,
    overrides: list[str] | None = None,
    **flat_overrides: Any,
) -> Config:
    """Load, override and validate a config.

    Args:
        source: A registered model name (its default config), a YAML path,
            the name of a shipped config file such as `"cnn.yaml"`, a
            dictionary, or `None` for the schema defaults.
        overrides: `"key.sub=value"` strings; each value is parsed as YAML,
            so `training.epochs=3` sets an integer.
        **flat_overrides: Dotted keys with `.` written as `__`, for Python
            callers: `load_config("cnn", training__epochs=3)`.

    Returns:
        The validated `Config`.
    """
    data = read_source(source)
    for key, value in flat_overrides.items():
        set_by_path(data, key.replace("__", "."), value)
    for item in overrides or []:
        key, value = parse_override(item)
        set_by_path(data, key, value)
    return config_from_dict(data)


def parse_override(item: str) -> tuple[str, Any]:
    """Split a `key.sub=value` string and parse the value as YAML."""
    key, separator, raw_value = item.partition("=")
    key = key.strip()
    if not separator or not key:
        raise ConfigError(
            f"Invalid override {item!r}: expected key.sub=value, "
            "for example --set training.epochs=3."
        )
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else None
    except yaml.YAMLError:
        value = raw_value
    return key, value


def set_by_path(data: dict, dotted_key: str, value: Any) -> None:
    """Set `data[a][b][c] = value` for `dotted_key` `"a.b.c"`, creating mappings."""
    parts = dotted_key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(
                f"Cannot set {dotted_key!r}: {part!r} contains the value {child!r}, not a section."
            )
        node = child
    node[parts[-1]] = value


def read_source(source) -> dict:
    """Return the raw config mapping of a model name, YAML path or dictionary."""
    if source is None:
        return {}
    if isinstance(source, dict):
        return _deep_copy(source)
    path = Path(source)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists() and path.name in list_config_files():
            path = Path(str(importlib.resources.files("modelzoo.configs").joinpath(path.name)))
        return read_yaml(path)
    config_path = default_config_path(str(source))
    if config_path is None:
        return {"model": {"name": str(source)}}
    data = read_yaml(config_path)
    data.setdefault("model", {})
    return data


def _deep_copy(value):
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def _build(cls, data, prefix: str):
    section = prefix.rstrip(".") or "config"
    if not isinstance(data, dict):
        raise ConfigError(
            f"Config key {section!r} must be a mapping of {cls.__name__} fields; "
            f"received {data!r}."
        )
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" Did you mean {prefix + close[0]!r}?" if close else ""
            raise ConfigError(
                f"Unknown config key {prefix + str(key)!r}.{hint} "
                f"Valid keys in {section!r}: {', '.join(fields)}."
            )
    values = {}
    for name, field in fields.items():
        if name not in data:
            continue
        key = f"{prefix}{name}"
        expected = hints[name]
        if dataclasses.is_dataclass(expected):
            values[name] = _build(expected, data[name], prefix=f"{key}.")
        else:
            value = _check_type(key, data[name], expected)
            _check_range(key, value, field.metadata)
            values[name] = value
    return cls(**values)


def _check_type(key: str, value: Any, expected) -> Any:
    origin = typing.get_origin(expected)
    if origin in (Union, types.UnionType):
        options = typing.get_args(expected)
        if value is None and type(None) in options:
            return None
        expected = next(option for option in options if option is not type(None))
        origin = typing.get_origin(expected)

    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected in (int, float) and isinstance(value, bool):
        matched = False
    elif origin is not None:
        matched = isinstance(value, origin)
    else:
        matched = isinstance(value, expected)
    if not matched:
        expected_name = getattr(expected, "__name__", str(expected))
        raise ConfigError(
            f"Config key {key!r} must be of type {expected_name}; "
            f"received {value!r} ({type(value).__name__})."
        )
    return value


def _check_range(key: str, value: Any, metadata) -> None:
    if value is None:
        return
    choices = metadata.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(
            f"Config key {key!r} must be one of {', '.join(map(repr, choices))}; "
            f"received {value!r}."
        )
    checks = (
        ("minimum", lambda bound: value >= bound, ">="),
        ("maximum", lambda bound: value <= bound, "<="),
        ("exclusive_minimum", lambda bound: value > bound, ">"),
        ("exclusive_maximum", lambda bound: value < bound, "<"),
    )
    for name, holds, symbol in checks:
        bound = metadata.get(name)
        if bound is not None and not holds(bound):
            raise ConfigError(
                f"Config key {key!r} must be {symbol} {bound}; received {value!r}. "
                f"Allowed range: {_describe_range(metadata)}."
            )


def _describe_range(metadata) -> str:
    parts = []
    if metadata.get("minimum") is not None:
        parts.append(f"{metadata['minimum']} <=")
    elif metadata.get("exclusive_minimum") is not None:
        parts.append(f"{metadata['exclusive_minimum']} <")
    parts.append("value")
    if metadata.get("maximum") is not None:
        parts.append(f"<= {metadata['maximum']}")
    elif metadata.get("exclusive_maximum") is not None:
        parts.append(f"< {metadata['exclusive_maximum']}")
    return " ".join(parts)


# Short names accepted by command-line flags and by `train_model(**kwargs)`,
# mapped to their full config keys.
SHORTCUTS = {
    "dataset": "data.dataset",
    "data_dir": "data.data_dir",
    "epochs": "training.epochs",
    "batch_size": "training.batch_size",
    "seed": "training.seed",
    "device": "training.device",
    "learning_rate": "optimizer.learning_rate",
    "output_dir": "output.dir",
    "strategy": "distribution.strategy",
    "worker_hosts": "distribution.worker_hosts",
    "task_index": "distribution.task_index",
}
