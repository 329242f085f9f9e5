"""The shared trainer: one code path from a config to a run directory.

`Trainer(config).run()` builds the model from the registry, loads the data
through `tf.data`, picks the device, seeds every random generator, trains
with Keras's `fit`, evaluates on the test split and writes the run directory:

    runs/<model>/<timestamp>/
        config.yaml     the resolved config
        model.keras     the trained model (best weights when early stopping)
        history.csv     one row per epoch, rewritten atomically after each epoch
        metrics.json    test metrics, epochs, timing, device and versions
        curves.png      loss and metric curves
        reconstructions.png, samples.png, latent.png
                        reconstruction models only, see modelzoo.reconstruction
        errors.png, reconstructions.png
                        anomaly detectors only, see modelzoo.anomaly
        evaluation.json, confusion_matrix.png, misclassified.png
                        test evaluation of classifiers
        report.html     config, metrics and every plot on one page
        train.log       the log of the run
        tensorboard/    TensorBoard event files
        backup/         the last completed epoch, removed when the run finishes

A run stopped by SIGINT, SIGTERM or a kill continues from `backup/` with
`Trainer(config, resume_dir=run_dir)` or `python -m modelzoo.train MODEL
--resume RUN_DIR`; see `modelzoo.resume`.

The `distribution` section picks a `tf.distribute` strategy (see
`modelzoo.distribute`). The model is built, compiled, restored and trained
inside its scope. In a multi-worker run only the chief writes the run
directory; every other worker writes to a temporary directory that is
removed when it ends.
"""

from __future__ import annotations

import dataclasses
import logging
import logging.handlers
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import numpy
import tensorflow as tf

from modelzoo.checks import check_dataset, check_keras_object, check_legacy_keras_env, ends_in_sigmoid
from modelzoo.config import SHORTCUTS, Config, load_config
from modelzoo.data import load_dataset
from modelzoo.data.datasets import is_sequence_dataset
from modelzoo.data.run_files import check_model_fits_data, write_dataset_files
from modelzoo.distribute import Distribution, create_distribution
from modelzoo.errors import ConfigError
from modelzoo.models import build, get_spec
from modelzoo.plots import plot_history
from modelzoo.precision import precision_policy, resolve_precision
from modelzoo.resume import (
    BACKUP_DIR_NAME,
    RunBackup,
    StopOnSignals,
    TrainingInterrupted,
    advance_shuffle,
    check_resumable,
    read_state,
    remove_backup,
)
from modelzoo.runs import create_run_dir, save_model_atomic, write_atomic, write_json
from modelzoo.timing import TrainingTimer

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        model: The trained `keras.Model`.
        history: Metric name to one value per epoch.
        metrics: The content of `metrics.json`.
        run_dir: The run directory; `None` on a non-chief worker of a
            multi-worker run, which writes none.
        info: The `DatasetInfo` of the data trained on.
    """

    model: Any
    history: dict[str, list[float]]
    metrics: dict[str, Any]
    run_dir: Path | None
    info: Any


class Trainer:
    """Train a registered model as a `Config` describes.

    Example:

    ```python
    config = modelzoo.load_config("cnn", training__epochs=2)
    result = modelzoo.Trainer(config).run()
    ```
    """

    def __init__(self, config: Config, *, resume_dir: str | Path | None = None):
        self.config = config
        self.distribution: Distribution | None = None  # the strategy of the last run
        self.test_data = None  # the test split of the last run, set by run()
        self.anomaly_data = None  # the AnomalyData of the last anomaly detection run
        self.resume_dir = Path(resume_dir) if resume_dir is not None else None

    def run(self) -> TrainResult:
        """Train, evaluate and write the run directory; return a `TrainResult`.

        Raises:
            TrainingInterrupted: SIGINT or SIGTERM arrived during training;
                the run directory contains a backup of the last completed epoch.
        """
        config = self.config
        run_started = time.perf_counter()
        check_legacy_keras_env()
        if self.resume_dir is not None:
            check_resumable(self.resume_dir)
        # Log lines are buffered until the run directory exists, so train.log is
        # complete, and no directory is created for a run that fails to load data.
        log_buffer = logging.handlers.MemoryHandler(capacity=10_000, flushLevel=logging.CRITICAL + 1)
        _attach_handler(log_buffer)
        log_handler = None
        worker_dir = None
        try:
            # Strategies and logical CPU devices must exist before TensorFlow
            # initialises its devices, so this comes before any other op.
            distribution = create_distribution(config.distribution, config.training.device)
            self.distribution = distribution
            set_seed(config.training.seed, deterministic=config.training.deterministic)
            batch_size = config.training.batch_size
            _check_global_batch(batch_size, distribution)
            precision, precision_reason = resolve_precision(config.training.precision,
                                                            distribution.devices[0])
            logger.info("Precision: %s (%s)", precision, precision_reason)
            # Layers read the global policy when they are created, so the model keeps it.
            with distribution.scope(), precision_policy(precision):
                model = self.build_model()
            splits = self.load_data(model)
            self._set_schedule(model, splits.info.num_train)
            self.test_data = splits.test
            self.check_data(model, splits)
            check_model_fits_data(model, splits.info, task=get_spec(config.model.name).task)
            self._check_callbacks(has_validation=splits.validation is not None)

            if not distribution.is_chief:
                worker_dir = Path(tempfile.mkdtemp(
                    prefix=f"modelzoo-{distribution.cluster.task_type}"
                    f"{distribution.cluster.task_index}-"))
                run_dir = worker_dir
            elif self.resume_dir is not None:
                run_dir = self.resume_dir
            else:
                run_dir = create_run_dir(config.output.dir, config.model.name)
            log_handler = _file_log_handler(run_dir / "train.log")
            log_buffer.setTarget(log_handler)
            log_buffer.flush()
            logging.getLogger().removeHandler(log_buffer)
            _attach_handler(log_handler)
            if distribution.is_chief:
                logger.info("Run directory: %s", run_dir)
                if self.resume_dir is None:
                    write_atomic(run_dir / "config.yaml", _resolved_config(config).to_yaml())
            else:
                logger.info("Non-chief worker: writing to the temporary directory %s, removed "
                            "at the end; the chief writes the run directory", run_dir)

            # A non-chief worker restores the chief's backup and writes its own
            # into its temporary directory.
            restore_dir = (self.resume_dir / BACKUP_DIR_NAME
                           if self.resume_dir is not None else run_dir / BACKUP_DIR_NAME)
            timer = TrainingTimer(started=run_started)
            callbacks = self._callbacks(run_dir)
            backup = RunBackup(
                run_dir,
                early_stopping=_find(callbacks, keras.callbacks.EarlyStopping),
                reduce_lr=_find(callbacks, keras.callbacks.ReduceLROnPlateau),
                restore_dir=restore_dir,
            )
            # RunBackup goes last so that it saves the other callbacks' state.
            callbacks += [timer, _EpochLogger(config.training.epochs), backup]

            epochs = config.training.epochs
            state = read_state(restore_dir)
            if state is not None:
                logger.info("Resuming %s after epoch %d of %d", self.resume_dir or run_dir,
                            state["epoch"], epochs)
                if distribution.name != "multi_worker":
                    # fit_distributed skips the shuffles of its distributed dataset itself.
                    advance_shuffle(splits.train, state["epoch"])
                if state.get("stopped_early"):
                    # Run no epoch; EarlyStopping still restores its best weights at the end.
                    epochs = state["epoch"]
            plan = self._plan_epochs(splits.train)
            device_text = ", ".join(distribution.devices)
            logger.info(
                "Training %s for up to %d epoch(s), global batch size %d (%g per replica, "
                "%d replica(s)), on %s, %d step(s) per call of the training function%s",
                config.model.name, config.training.epochs, batch_size,
                batch_size / distribution.replicas, distribution.replicas, device_text,
                plan.steps_per_execution,
                "; one epoch per call, one iterator for all epochs" if plan.repeats else "",
            )
            # The directory that --resume takes is the chief's run directory. A
            # non-chief worker has its path only when it was started with --resume.
            resume_hint = run_dir if distribution.is_chief else self.resume_dir
            started = time.perf_counter()
            with distribution.scope():
                try:
                    with StopOnSignals(resume_hint):
                        self._fit(model, splits, plan, epochs=epochs, callbacks=callbacks)
                except TrainingInterrupted as interrupted:
                    logger.warning(
                        "Training stopped by %s after %d completed epoch(s). Resume with: "
                        "python -m modelzoo.train %s --resume %s",
                        interrupted.signal_name, backup.completed_epochs, config.model.name,
                        resume_hint or "CHIEF_RUN_DIR",
                    )
                    raise
                wall_time = time.perf_counter() - started
                logger.info(
                    "Training took %s s from the first step to the end of the last epoch (%s); "
                    "the first step ended %s s after the run started",
                    timer.training_time(),
                    "validation included" if splits.validation is not None else "no validation",
                    timer.time_to_first_step(),
                )
                test_values = self._evaluate(model, splits.test)
            logger.info(
                "Test metrics: %s",
                ", ".join(f"{name}={value:.4f}" for name, value in test_values.items()),
            )

            history_values = backup.history_by_metric()
            metrics = {
                **{f"test_{name}": float(value) for name, value in test_values.items()},
                "epochs_run": len(backup.history),
                "best_epoch": _best_epoch(history_values, config),
                "wall_time_seconds": round(wall_time, 3),
                "train_time_seconds": timer.training_time(),
                "time_to_first_step_seconds": timer.time_to_first_step(),
                "epoch_seconds": [round(value, 3) for value in timer.epoch_seconds],
                "epoch_train_seconds": [round(value, 3) for value in timer.train_seconds],
                "train_samples_per_second": timer.samples_per_second(splits.info.num_train),
                "device": device_text,
                "precision": precision,
                "distribution": distribution.to_dict(batch_size),
                "dataset": splits.info.to_dict(),
                "model": config.model.name,
                "parameters": int(model.count_params()),
                "seed": config.training.seed,
                "versions": _versions(),
            }
            if not distribution.is_chief:
                logger.info("Non-chief worker done; the chief writes the outputs")
                return TrainResult(model, history_values, metrics, None, splits.info)
            if distribution.name != "none":
                # Keras 3.15's predict_on_batch on a MirroredStrategy model returned
                # one row per replica for each example, so evaluation, plots and the
                # saved model come from a one-device copy under every strategy.
                model = self._local_copy(model, precision)
            result = TrainResult(model, history_values, metrics, run_dir, splits.info)
            self.write_outputs(result)
            self.write_evaluation(result, splits.test)
            remove_backup(run_dir)
            logger.info("Wrote %s", run_dir)
            return result
        finally:
            for handler in (log_buffer, log_handler):
                if handler is not None:
                    logging.getLogger().removeHandler(handler)
                    handler.close()
            if worker_dir is not None:
                shutil.rmtree(worker_dir, ignore_errors=True)

    def _fit(self, model: keras.Model, splits, plan: EpochPlan, *, epochs: int,
             callbacks: list) -> None:
        """Train under the current strategy scope: `fit`, or the multi-worker loop."""
        if self.distribution.name == "multi_worker":
            from modelzoo.distributed_fit import build_for_training, fit_distributed

            build_for_training(model, next(iter(splits.train.take(1))))
            fit_distributed(model, self.distribution, splits.train, validation=splits.validation,
                            epochs=epochs, callbacks=callbacks)
            return
        model.steps_per_execution = plan.steps_per_execution
        model.fit(
            plan.dataset,
            steps_per_epoch=plan.steps_per_epoch,
            validation_data=splits.validation,
            epochs=epochs,
            callbacks=callbacks,
            verbose=self.config.training.verbose,
            shuffle=False,  # the tf.data pipeline already shuffles each epoch
        )

    def _steps_per_execution(self) -> int:
        """Return the training steps per call of the training function under this strategy.

        Only a one-device run uses `training.steps_per_execution`. Under
        `MirroredStrategy`, Keras 3.15's loop of several steps per call failed
        with "You must feed a value for placeholder tensor" (seen with 2 CPU
        devices), and the `multi_worker` loop runs one step per call.
        """
        if self.distribution.name != "none":
            return 1
        return self.config.training.steps_per_execution

    def _plan_epochs(self, train) -> EpochPlan:
        """Return the epoch plan of `train`. The multi-worker loop does not use it."""
        if self.distribution.name == "multi_worker":
            return EpochPlan(train, None, 1)
        return plan_epochs(train, self._steps_per_execution())

    def _evaluate(self, model: keras.Model, test) -> dict[str, float]:
        if self.distribution.name == "multi_worker":
            from modelzoo.distributed_fit import evaluate_distributed

            return evaluate_distributed(model, self.distribution, test)
        return model.evaluate(test, verbose=0, return_dict=True)

    def _local_copy(self, model: keras.Model, precision: str) -> keras.Model:
        """Return a one-device copy of a distributed model, with its weights and optimizer state.

        The chief writes its outputs (predictions, plots, the saved model)
        from this copy, built under the same precision policy, so that
        nothing after training runs collective operations that the other
        workers would have to join.
        """
        with tf.device(self.distribution.devices[0]), precision_policy(precision):
            copy = self.build_model()
            copy.set_weights(model.get_weights())
            if copy.optimizer is not None and model.optimizer is not None:
                copy.optimizer.build(copy.trainable_variables)
                sources, targets = model.optimizer.variables, copy.optimizer.variables
                if len(sources) == len(targets):
                    for source, target in zip(sources, targets):
                        target.assign(source.numpy())
                else:
                    logger.warning("Optimizer state not copied to the saved model: %d "
                                   "variables, %d in the copy", len(sources), len(targets))
        return copy

    def build_model(self) -> keras.Model:
        """Build the configured model with the configured optimizer."""
        config = self.config
        model = build(
            config.model.name,
            optimizer=config.optimizer.name,
            learning_rate=config.optimizer.learning_rate,
            **config.model.args,
        )
        check_keras_object(model, role=f"model returned by the {config.model.name!r} builder")
        logger.info("Model %s: %s parameters", config.model.name, f"{model.count_params():,}")
        return model

    def _set_schedule(self, model: keras.Model, num_train: int) -> None:
        settings = self.config.optimizer
        if settings.schedule == "constant":
            return
        training = self.config.training
        steps_per_epoch = -(-num_train // training.batch_size)
        model.optimizer.learning_rate = one_cycle_schedule(
            settings.learning_rate, total_steps=steps_per_epoch * training.epochs,
            warmup_fraction=settings.warmup_fraction,
        )
        logger.info(
            "Learning rate: one cycle over %d steps, warm-up over the first %.0f%% to %g, "
            "then cosine decay", steps_per_epoch * training.epochs,
            100 * settings.warmup_fraction, settings.learning_rate,
        )

    def check_data(self, model: keras.Model, splits) -> None:
        """Check every split's shapes and labels (or targets) against `model` before training."""
        # Anomaly detectors are autoencoders too: their targets are their inputs.
        reconstruction = get_spec(self.config.model.name).task in (
            "reconstruction", "anomaly_detection")
        unit_range = reconstruction and ends_in_sigmoid(model)
        for name in ("train", "validation", "test"):
            dataset = getattr(splits, name)
            if dataset is not None:
                check_dataset(dataset, model, split=name, unit_range_targets=unit_range,
                              check_targets_as_labels=not reconstruction)

    def load_data(self, model: keras.Model):
        """Load the configured data set shaped for `model`; return its `DatasetSplits`."""
        config = self.config
        data = config.data
        task = get_spec(config.model.name).task
        if task == "anomaly_detection":
            return self._load_anomaly_data()
        return load_dataset(
            data.dataset,
            data_dir=data.data_dir,
            source=data.source,
            download=data.download,
            batch_size=config.training.batch_size,
            validation_fraction=data.validation_fraction,
            split_seed=data.split_seed,
            seed=config.training.seed,
            train_subset=data.train_subset,
            test_subset=data.test_subset,
            shuffle_buffer=data.shuffle_buffer,
            cache=data.cache,
            input_shape=model.input_shape[1:],
            targets="inputs" if task == "reconstruction" else "labels",
            noise=data.noise,
            noise_level=data.noise_level,
            options=data.sequence_options() if is_sequence_dataset(data.dataset) else None,
            verify_checksums=data.verify_checksums,
        )

    def write_outputs(self, result: TrainResult) -> None:
        """Write the model, metrics and plots of a finished run into its run directory."""
        output = self.config.output
        if get_spec(self.config.model.name).task == "anomaly_detection":
            self._add_anomaly_metrics(result)
        if output.save_model:
            save_model_atomic(result.model, result.run_dir / "model.keras")
        write_json(result.run_dir / "metrics.json", result.metrics)
        if output.plots:
            # Plot to a temporary name and rename, as for the other run files.
            temporary = result.run_dir / ".curves.tmp.png"
            plot_history(result.history, temporary)
            os.replace(temporary, result.run_dir / "curves.png")
            if get_spec(self.config.model.name).task == "reconstruction":
                self._write_reconstruction_plots(result)
        write_dataset_files(result.run_dir, result.info)

    def _load_anomaly_data(self):
        from modelzoo.anomaly import load_anomaly_data, make_anomaly_splits

        config = self.config
        data = config.data
        if data.noise is not None:
            raise ConfigError(
                f"data.noise={data.noise!r} is not supported for anomaly detection, whose "
                "threshold comes from clean training series. Set data.noise to null."
            )
        self.anomaly_data = load_anomaly_data(
            data.dataset, normal_class=config.anomaly.normal_class, data_dir=data.data_dir,
            download=data.download, verify_checksums=data.verify_checksums,
            validation_fraction=data.validation_fraction,
            split_seed=data.split_seed, znormalize=data.znormalize, ucr_mirror=data.ucr_mirror,
            train_subset=data.train_subset, test_subset=data.test_subset,
        )
        return make_anomaly_splits(self.anomaly_data, data.dataset,
                                   batch_size=config.training.batch_size,
                                   seed=config.training.seed,
                                   validation_fraction=data.validation_fraction)

    def _add_anomaly_metrics(self, result: TrainResult) -> None:
        from modelzoo.anomaly import evaluate_detector

        settings = self.config.anomaly
        result.metrics.update(evaluate_detector(
            result.model, self.anomaly_data, method=settings.threshold,
            quantile=settings.quantile, std_factor=settings.std_factor,
            run_dir=result.run_dir, plots=self.config.output.plots,
        ))

    def _write_reconstruction_plots(self, result: TrainResult) -> None:
        from modelzoo.data.mnist import load_image_arrays
        from modelzoo.reconstruction import write_reconstruction_plots

        data = self.config.data
        # The test split is not shuffled, so its labels are the first
        # `num_test` labels of the test arrays.
        arrays = load_image_arrays(data.dataset, data_dir=data.data_dir, source=data.source,
                                   download=data.download)
        write_reconstruction_plots(
            result.model, self.test_data, result.run_dir, noisy=data.noise is not None,
            labels=arrays.y_test[: result.info.num_test], class_names=result.info.class_names,
            seed=self.config.training.seed,
        )

    def write_evaluation(self, result: TrainResult, test) -> None:
        """Write a classifier's test evaluation and plots when `output.plots` is set, then `report.html`.

        Runs after every other output so that the report shows every PNG in
        the run directory.
        """
        from modelzoo.artifacts import CLASSIFICATION, task_of
        from modelzoo.evaluate import evaluate_model
        from modelzoo.report import write_report

        if self.config.output.plots and task_of(result.model) == CLASSIFICATION:
            evaluate_model(result.model, test, class_names=result.info.class_names,
                           output_dir=result.run_dir,
                           extra_metrics={"model": self.config.model.name,
                                          "dataset": result.info.name})
        write_report(result.run_dir)

    def _check_callbacks(self, *, has_validation: bool) -> None:
        settings = self.config.callbacks
        if settings.early_stopping.enabled:
            _require_validation(settings.early_stopping.monitor, has_validation,
                                "callbacks.early_stopping")
        if settings.reduce_lr_on_plateau.enabled:
            _require_validation(settings.reduce_lr_on_plateau.monitor, has_validation,
                                "callbacks.reduce_lr_on_plateau")
        checkpoint = settings.model_checkpoint
        if checkpoint.enabled and checkpoint.save_best_only:
            _require_validation(checkpoint.monitor, has_validation, "callbacks.model_checkpoint")

    def _callbacks(self, run_dir: Path) -> list:
        settings = self.config.callbacks
        callbacks: list = []
        early = settings.early_stopping
        if early.enabled:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=early.monitor,
                    patience=early.patience,
                    min_delta=early.min_delta,
                    restore_best_weights=early.restore_best_weights,
                    verbose=1,
                )
            )
        plateau = settings.reduce_lr_on_plateau
        if plateau.enabled:
            callbacks.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor=plateau.monitor,
                    factor=plateau.factor,
                    patience=plateau.patience,
                    min_lr=plateau.min_lr,
                    verbose=1,
                )
            )
        checkpoint = settings.model_checkpoint
        if checkpoint.enabled:
            path = run_dir / checkpoint.filepath
            path.parent.mkdir(parents=True, exist_ok=True)
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    str(path),
                    monitor=checkpoint.monitor,
                    save_best_only=checkpoint.save_best_only,
                    save_weights_only=checkpoint.save_weights_only,
                )
            )
        if settings.tensorboard:
            callbacks.append(_EpochTensorBoard(log_dir=str(run_dir / "tensorboard")))
        return callbacks


def train_model(model: str | Config = "cnn", *, overrides: list[str] | None = None,
                **kwargs) -> TrainResult:
    """Train a model with its default config and keyword overrides.

    Args:
        model: A registered model name, a YAML path or a `Config`.
        overrides: `"key.sub=value"` strings, as with `--set`.
        **kwargs: Either a short name (`epochs`, `batch_size`, `seed`,
            `device`, `dataset`, `data_dir`, `learning_rate`, `output_dir`)
            or a dotted key written with `__`, such as `data__train_subset`.

    Returns:
        A `TrainResult` with the model, history, metrics and run directory.
    """
    if isinstance(model, Config):
        config = model
    else:
        flat = {SHORTCUTS.get(key, key).replace(".", "__"): value for key, value in kwargs.items()}
        config = load_config(model, overrides=overrides, **flat)
    return Trainer(config).run()


@dataclasses.dataclass(frozen=True)
class EpochPlan:
    """The data set and step counts that `fit` trains on; see `plan_epochs`.

    Attributes:
        dataset: The data set to pass to `fit`.
        steps_per_epoch: The batches of one epoch, or `None` when the data
            set's cardinality is unknown.
        steps_per_execution: Training steps per call of the training function.
        repeats: Whether `dataset` repeats forever, so that one iterator
            serves every epoch.
    """

    dataset: Any
    steps_per_epoch: int | None
    steps_per_execution: int
    repeats: bool = False


def plan_epochs(dataset, steps_per_execution: int) -> EpochPlan:
    """Return how `fit` should take the batches of the finite training set `dataset`.

    Every epoch must take exactly one iterator's worth of batches, so that
    epoch N trains on the N-th order of the data set's reshuffle seed stream
    and `advance_shuffle` can move a resumed run to it. Without
    `steps_per_epoch`, Keras 3.15's `fit` creates two iterators per epoch
    over a data set of known size: one when the epoch ends, which it drops,
    and one when the next epoch starts. So `fit` gets
    `steps_per_epoch` whenever the data set's cardinality is finite; it then
    keeps the iterator it created at the end of one epoch for the next.

    When one call of the training function can hold a whole epoch (at most
    `steps_per_execution` batches), the data set also repeats, and each call
    trains exactly one epoch from one iterator that lasts the whole run.
    Creating an iterator costs milliseconds: 8 to 11 ms in probes of the
    ECG5000 anomaly config, whose epochs train in about 75 ms (2-core x86-64
    CPU, TensorFlow 2.21). On each repetition, a reshuffling `shuffle` or a
    rerandomizing `Dataset.random` draws from the same seed stream as a new
    iterator does, so the batches and their order stay the same.

    Larger data sets do not repeat. With an endless data set, Keras 3.15
    runs every call for the full `steps_per_execution` steps, so an epoch
    that is not a multiple of it would take batches of the next.
    """
    batches = int(dataset.cardinality())
    if batches <= 0:
        return EpochPlan(dataset, None, steps_per_execution)
    if batches <= steps_per_execution:
        return EpochPlan(dataset.repeat(), batches, batches, repeats=True)
    return EpochPlan(dataset, batches, steps_per_execution)


def one_cycle_schedule(peak: float, *, total_steps: int, warmup_fraction: float,
                       start_divisor: float = 25.0, final_fraction: float = 1e-3):
    """Return a one-cycle learning-rate schedule as a Keras `CosineDecay`.

    The rate rises linearly from `peak / start_divisor` to `peak` over the
    first `warmup_fraction` of `total_steps`, then falls along a cosine to
    `peak * final_fraction` at the last step. Unlike the original one-cycle
    policy, the momentum is not cycled. `CosineDecay` is a built-in Keras
    class, so `model.keras` files reload without custom objects.
    """
    warmup_steps = int(round(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / start_divisor,
        decay_steps=max(total_steps - warmup_steps, 1),
        alpha=final_fraction,
        warmup_target=peak,
        warmup_steps=warmup_steps,
    )


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python, NumPy, Keras and TensorFlow; optionally turn on op determinism.

    `tf.data` shuffles take their seed from the config separately. With
    `deterministic`, TensorFlow picks deterministic kernels or raises an
    error for ops that have none (mostly on GPUs).
    """
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        logger.info("TensorFlow op determinism is on")


def _check_global_batch(batch_size: int, distribution: Distribution) -> None:
    replicas = distribution.replicas
    if batch_size % replicas:
        lower = max(replicas, batch_size - batch_size % replicas)
        raise ConfigError(
            f"training.batch_size={batch_size} is the global batch, which must split evenly "
            f"over the {replicas} replicas of strategy {distribution.name!r}. Use a multiple "
            f"of {replicas}, such as {lower} or {lower + replicas}."
        )


def _find(callbacks: list, kind: type):
    return next((callback for callback in callbacks if isinstance(callback, kind)), None)


def _require_validation(monitor: str, has_validation: bool, key: str) -> None:
    if monitor.startswith("val_") and not has_validation:
        raise ConfigError(
            f"{key}.monitor is {monitor!r}, but data.validation_fraction is 0, so there is "
            f"no validation data. Set data.validation_fraction > 0, monitor 'loss', "
            f"or set {key}.enabled=false."
        )


def _resolved_config(config: Config) -> Config:
    """Return a copy of `config` with `data.data_dir` taken from the environment if unset.

    `config.yaml` then records where the data came from, so `evaluate`,
    `export` and `--resume` find it in a shell without `MODELZOO_DATA_DIR`.
    """
    from modelzoo.data.mnist import resolve_data_dir

    root = resolve_data_dir(config.data.data_dir)
    if config.data.data_dir is not None or root is None:
        return config
    return dataclasses.replace(config, data=dataclasses.replace(config.data, data_dir=str(root)))


def _best_epoch(history: dict[str, list[float]], config: Config) -> int | None:
    monitor = config.callbacks.early_stopping.monitor
    values = history.get(monitor)
    if not values:
        return None
    pick = max if "acc" in monitor else min
    return values.index(pick(values)) + 1


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def _file_log_handler(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    return handler


def _attach_handler(handler: logging.Handler) -> None:
    """Add `handler` to the root logger and let INFO records through to it."""
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


class _EpochTensorBoard(keras.callbacks.TensorBoard):
    """`keras.callbacks.TensorBoard` with its default `update_freq="epoch"`, minus per-batch work.

    Keras 3.15's TensorBoard calls `tf.summary.scalar` for every metric after
    every training batch, even when it writes only per epoch, and because it
    defines `on_train_batch_end`, Keras converts each batch's logs to Python
    numbers synchronously. This subclass keeps the base class's no-op batch
    hooks, so it supports neither batch-level summaries nor profiling, and it
    writes the training graph after the first epoch instead of the first batch.
    """

    on_train_batch_begin = keras.callbacks.Callback.on_train_batch_begin
    on_train_batch_end = keras.callbacks.Callback.on_train_batch_end

    def on_epoch_end(self, epoch, logs=None):
        # NOTE: these two private members exist in Keras 3.15's TensorBoard;
        # getattr skips the graph, rather than failing, on a version without them.
        if getattr(self, "_should_write_train_graph", False):
            self._write_keras_model_train_graph()
            self._should_write_train_graph = False
        super().on_epoch_end(epoch, logs)


class _EpochLogger(keras.callbacks.Callback):
    """Log one line per epoch with every metric and its duration."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # .4g keeps a lowered learning rate such as 4e-05 readable.
        values = ", ".join(f"{name}={float(value):.4g}" for name, value in (logs or {}).items())
        logger.info("Epoch %d/%d: %s (%.1f s)", epoch + 1, self.epochs, values,
                    time.perf_counter() - self._start)
