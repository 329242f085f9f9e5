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
    convs_per_block: int = 1,
    padding: str = "valid",
    batch_norm: bool = False,
    random_translation: float = 0.0,
    random_rotation: float = 0.0,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss="sparse_categorical_crossentropy",
    metrics: Sequence = ("accuracy",),
    name: str = "cnn",
) -> keras.Model:
    """Build the tutorial's CNN for small grayscale images, compiled.

    One block per entry of `filters`: `convs_per_block` times
    `Conv2D(f, kernel_size, relu)`, then `MaxPooling2D(2)`. Then `Flatten`,
    `Dense(dense_units, relu)` and a softmax `Dense(num_classes)`. With the
    defaults it has 225,034 parameters and expects integer labels (sparse
    categorical cross-entropy).

    With `batch_norm`, every convolution and the hidden dense layer lose their
    bias and are followed by `BatchNormalization`, then the ReLU. The random
    augmentation layers come first and act only in training (`fit`);
    `evaluate` and `predict` see the images unchanged.

    Args:
        input_shape: Image shape without the batch axis, channels last.
        num_classes: Number of output classes.
        filters: Filters of each convolution block.
        kernel_size: Side of the square convolution kernels.
        dense_units: Units of the hidden dense layer.
        dropout: Dropout rate before each dense layer; 0 disables it.
        convs_per_block: Convolutions in each block before its pooling.
        padding: `"valid"` or `"same"` padding of the convolutions.
        batch_norm: Add batch normalization after each convolution and the
            hidden dense layer.
        random_translation: Shift training images by up to this fraction of
            their height and width (`keras.layers.RandomTranslation`, zero
            fill); 0 disables it.
        random_rotation: Rotate training images by up to this fraction of a
            full turn (`keras.layers.RandomRotation`, zero fill; 0.03 is
            about 11 degrees); 0 disables it.
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
    if convs_per_block < 1:
        raise ValueError(f"convs_per_block must be >= 1; received {convs_per_block}.")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    if random_translation:
        x = keras.layers.RandomTranslation(random_translation, random_translation,
                                           fill_mode="constant", name="random_translation")(x)
    if random_rotation:
        x = keras.layers.RandomRotation(random_rotation, fill_mode="constant",
                                        name="random_rotation")(x)
    for index, block_filters in enumerate(filters, start=1):
        for position in range(1, convs_per_block + 1):
            # The default single-conv blocks keep the layer names conv1, conv2, ...
            suffix = f"{index}" if convs_per_block == 1 else f"{index}_{position}"
            x = _conv_unit(x, block_filters, kernel_size, padding=padding,
                           batch_norm=batch_norm, name=f"conv{suffix}")
        x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout1")(x)
    if batch_norm:
        x = keras.layers.Dense(dense_units, use_bias=False, name="dense")(x)
        x = keras.layers.BatchNormalization(name="dense_bn")(x)
        x = keras.layers.Activation("relu", name="dense_relu")(x)
    else:
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


def _conv_unit(x, filters: int, kernel_size: int, *, padding: str, batch_norm: bool, name: str):
    if not batch_norm:
        return keras.layers.Conv2D(filters, kernel_size, padding=padding, activation="relu",
                                   name=name)(x)
    x = keras.layers.Conv2D(filters, kernel_size, padding=padding, use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)
