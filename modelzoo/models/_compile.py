"""Optimizer and compile helpers shared by every builder."""

from __future__ import annotations

from typing import Sequence

import keras

from modelzoo.checks import check_keras_object, check_legacy_keras_env
from modelzoo.errors import ConfigError


def make_optimizer(optimizer, learning_rate: float | None):
    """Return a Keras optimizer from a name or an instance.

    Args:
        optimizer: A name that `keras.optimizers.get` accepts (`"adam"`,
            `"sgd"`, `"adamw"`, ...) or a `keras.optimizers.Optimizer`.
        learning_rate: Learning rate for a named optimizer; `None` keeps the
            optimizer's default. Must be `None` when `optimizer` is an instance,
            because an instance already carries its learning rate.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if learning_rate is not None:
            raise ConfigError(
                f"learning_rate={learning_rate!r} was given together with an optimizer "
                f"instance ({type(optimizer).__name__}). Set the learning rate on the "
                "instance, or pass the optimizer by name."
            )
        return optimizer
    if not isinstance(optimizer, str):
        raise ConfigError(
            "optimizer must be a name such as 'adam' or a keras.optimizers.Optimizer; "
            f"received {optimizer!r} of type {type(optimizer).__name__}."
        )
    if learning_rate is not None and not learning_rate > 0:
        raise ConfigError(
            f"learning_rate must be > 0; received {learning_rate!r}."
        )
    config = {} if learning_rate is None else {"learning_rate": learning_rate}
    try:
        return keras.optimizers.get({"class_name": optimizer, "config": config})
    except ValueError as error:
        raise ConfigError(
            f"Unknown optimizer {optimizer!r}. Use a name from keras.optimizers, "
            "for example 'adam', 'adamw', 'sgd', 'rmsprop' or 'nadam'."
        ) from error


def compile_model(
    model: keras.Model,
    *,
    optimizer,
    learning_rate: float | None,
    loss,
    metrics: Sequence | None,
) -> keras.Model:
    """Compile `model` in place and return it.

    Raises:
        KerasVersionError: `TF_USE_LEGACY_KERAS` is set, or the optimizer,
            loss or a metric is a tf_keras (Keras 2) object.
    """
    check_legacy_keras_env()
    for role, value in (("optimizer", optimizer), ("loss", loss), *(("metric", metric) for metric in metrics or [])):
        check_keras_object(value, role=role)
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss=loss,
        metrics=list(metrics or []),
    )
    return model


def classification_head(x, num_classes: int):
    """Add a float32 sigmoid (2 classes) or softmax head to `x` and return it with its loss."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2; received {num_classes}.")
    if num_classes == 2:
        outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="probability")(x)
        return outputs, "binary_crossentropy"
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return outputs, "sparse_categorical_crossentropy"
