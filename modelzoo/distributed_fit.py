"""A training loop for `MultiWorkerMirroredStrategy`, in place of `Model.fit`.

Keras 3.15.1's `Model.fit` fails under `MultiWorkerMirroredStrategy` with
the TensorFlow backend (open upstream bug keras-team/keras#20585): its
symbolic build reads a `PerReplica` batch as a tensor, and its
`reduce_per_replica` reduces the scalar step logs with
`strategy.reduce("MEAN", value, axis=0)`, which fails with "Invalid
reduction dimension 0". `MirroredStrategy` takes another branch and trains
with `fit`.

This loop keeps everything else from Keras. Each replica runs the model's
own `train_step` and `test_step`, with the compiled loss, the optimizer
(which all-reduces the gradients across replicas) and the compiled metrics.
The metric results are read in cross-replica context, where the metrics'
`on_read` variables are summed over every replica of every worker. The
callbacks get the same calls as under `fit`, so `RunBackup` (a
`keras.callbacks.BackupAndRestore`) saves and restores epochs as in a
one-device run. Every worker must run the same callbacks, because reading
a metric is a collective operation that all workers join.
"""

from __future__ import annotations

import logging

import keras
import tensorflow as tf

from modelzoo.distribute import Distribution, distribute_dataset

logger = logging.getLogger(__name__)


def build_for_training(model: keras.Model, sample_batch) -> None:
    """Build the optimizer and the compiled loss and metrics of `model` from one local batch.

    Call it inside the strategy scope. `fit` builds them from the first
    batch of its iterator, which under `MultiWorkerMirroredStrategy` is a
    `PerReplica` value that the build cannot read. This function builds them
    from a plain batch, so no variable is created inside `strategy.run`.
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    # `_symbolic_build` is Keras's own build step of `fit` (Keras 3.15.1);
    # there is no public method that builds the compiled metrics.
    model._symbolic_build(data_batch=sample_batch)


def fit_distributed(model: keras.Model, distribution: Distribution, train, *, validation=None,
                    epochs: int, callbacks: list) -> keras.callbacks.History:
    """Train `model` like `Model.fit` with the strategy of `distribution`.

    Args:
        model: A compiled model created inside `distribution.scope()`.
        distribution: The multi-worker `Distribution`.
        train: The batched training `tf.data.Dataset`, global batch size.
        validation: The batched validation dataset, or None.
        epochs: Index of the last epoch, as `fit`'s `epochs`.
        callbacks: Keras callbacks; a `BackupAndRestore` among them may set
            the first epoch when it restores a backup.

    Returns:
        The `History` callback, as `fit` returns it.
    """
    strategy = distribution.strategy
    train_batches = distribute_dataset(distribution, train)
    validation_batches = (distribute_dataset(distribution, validation)
                          if validation is not None else None)
    callback_list = keras.callbacks.CallbackList(
        callbacks, add_history=True, add_progbar=False, model=model, epochs=epochs)

    @tf.function(reduce_retracing=True)
    def train_step(batch):
        strategy.run(model.train_step, args=(batch,))

    test_step = _make_test_step(model, strategy)
    model.stop_training = False
    callback_list.on_train_begin()
    # BackupAndRestore sets the first epoch when it restored a backup.
    initial_epoch = getattr(model, "_initial_epoch", None) or 0
    skip_shuffles(train_batches, initial_epoch)
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step, batch in enumerate(train_batches):
            callback_list.on_train_batch_begin(step)
            train_step(batch)
            callback_list.on_train_batch_end(step, {})
        logs = metric_results(model)
        if validation_batches is not None:
            callback_list.on_test_begin()
            validation_logs = _evaluate_batches(model, test_step, validation_batches)
            callback_list.on_test_end(validation_logs)
            logs.update({f"val_{name}": value for name, value in validation_logs.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break

    # As fit does: write the moving averages into the weights when the
    # optimizer keeps them (use_ema=True).
    if isinstance(model.optimizer, keras.optimizers.Optimizer):
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callback_list.on_train_end(logs)
    return next(callback for callback in callback_list.callbacks
                if isinstance(callback, keras.callbacks.History))


def evaluate_distributed(model: keras.Model, distribution: Distribution, dataset) -> dict:
    """Return `model`'s compiled loss and metrics on `dataset`, like `evaluate(return_dict=True)`.

    Each worker evaluates its share of the batches; the results cover every example once.
    """
    batches = distribute_dataset(distribution, dataset)
    return _evaluate_batches(model, _make_test_step(model, distribution.strategy), batches)


def metric_results(model: keras.Model) -> dict[str, float]:
    """Return the model's metric results summed over all replicas, as Python floats."""
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def skip_shuffles(batches, epochs: int) -> None:
    """Create and drop one iterator per completed epoch, as `resume.advance_shuffle` does."""
    for _ in range(epochs):
        iterator = iter(batches)
        del iterator


def _make_test_step(model: keras.Model, strategy):
    @tf.function(reduce_retracing=True)
    def test_step(batch):
        strategy.run(model.test_step, args=(batch,))

    return test_step


def _evaluate_batches(model: keras.Model, test_step, batches) -> dict[str, float]:
    model.reset_metrics()
    for batch in batches:
        test_step(batch)
    return metric_results(model)
