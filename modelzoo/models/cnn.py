"""Convolutional image classifiers."""

from __future__ import annotations

from typing import Sequence

import keras

from modelzoo.models._compile import compile_model


def cnn(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    dense_units: int = 128,
    dropout: float = 0.0,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss="sparse_categorical_crossentropy",
    metrics: Sequence = ("accuracy",),
    name: str = "cnn",
) -> keras.Model:
    """Build the tutorial's CNN for small grayscale images, compiled.

    One block per entry of `filters`: `Conv2D(f, kernel_size, relu)` followed by
    `MaxPooling2D(2)`. Then `Flatten`, `Dense(dense_units, relu)` and a softmax
    `Dense(num_classes)`. With the defaults it has 225,034 parameters and
    expects integer labels (sparse categorical cross-entropy).

    Args:
        input_shape: Image shape without the batch axis, channels last.
        num_classes: Number of output classes.
        filters: Filters of each convolution block.
        kernel_size: Side of the square convolution kernels.
        dense_units: Units of the hidden dense layer.
        dropout: Dropout rate before each dense layer; 0 disables it.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Loss passed to `compile`. Use `"categorical_crossentropy"` for
            one-hot labels.
        metrics: Metrics passed to `compile`.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` that maps images to class probabilities.

    Example:

    ```python
    model = modelzoo.build("cnn", dropout=0.25, learning_rate=5e-4)
    model.fit(images, labels, epochs=1)
    ```
    """
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for index, block_filters in enumerate(filters, start=1):
        x = keras.layers.Conv2D(
            block_filters, kernel_size, activation="relu", name=f"conv{index}"
        )(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout1")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout2")(x)
    # The softmax stays float32 under mixed precision, so losses stay stable.
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)

    model = keras.Model(inputs, outputs, name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=metrics
    )
