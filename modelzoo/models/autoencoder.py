"""Image autoencoders: the tutorial's dense model and a convolutional one.

Both builders return a compiled model whose `encoder` and `decoder` are
sub-models (`model.get_layer("encoder")`), and both track, next to the loss,
the other of the two usual reconstruction losses (mean squared error or
binary cross-entropy) as a metric, so runs with either loss can be compared.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras

from modelzoo.errors import ConfigError
from modelzoo.models._compile import compile_model


def autoencoder(
    *,
    input_shape: Sequence[int] = (784,),
    latent_dim: int = 64,
    hidden_units: Sequence[int] = (),
    activation: str = "relu",
    output_activation: str = "sigmoid",
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss="mse",
    metrics: Sequence | None = None,
    name: str = "autoencoder",
) -> keras.Model:
    """Build the tutorial's dense autoencoder, compiled.

    The encoder maps the flattened input through `Dense` layers of
    `hidden_units` to a `latent_dim` code; the decoder mirrors it back to the
    input size with `output_activation`. The defaults are the tutorial's
    `784 -> Dense(64, relu) -> Dense(784, sigmoid)`, 101,200 parameters, trained
    with mean squared error on inputs scaled to [0, 1]. An `input_shape` of
    more than one axis, such as `(28, 28, 1)`, is flattened on the way in and
    restored on the way out.

    The encoder and decoder are sub-models, available as
    `model.get_layer("encoder")` and `model.get_layer("decoder")`.

    Args:
        input_shape: Shape of one example without the batch axis.
        latent_dim: Size of the code.
        hidden_units: Units of hidden layers between input and code; the
            decoder uses them in reverse order.
        activation: Activation of the hidden layers and of the code.
        output_activation: Activation of the reconstruction; keep `"sigmoid"`
            for inputs in [0, 1].
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Reconstruction loss passed to `compile`.
        metrics: Metrics passed to `compile`; `None` adds the reconstruction
            loss that `loss` is not (see `reconstruction_metrics`).
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` whose output has the shape of its input.

    Example:

    ```python
    model = modelzoo.build("autoencoder", latent_dim=32)
    codes = model.get_layer("encoder").predict(images)
    ```
    """
    input_shape = tuple(input_shape)
    size = math.prod(input_shape)

    encoder_inputs = keras.Input(shape=input_shape, name="input")
    x = encoder_inputs
    if len(input_shape) > 1:
        x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"encoder_dense{index}")(x)
    code = keras.layers.Dense(latent_dim, activation=activation, name="code")(x)
    encoder = keras.Model(encoder_inputs, code, name="encoder")

    decoder_inputs = keras.Input(shape=(latent_dim,), name="code")
    x = decoder_inputs
    for index, units in enumerate(reversed(tuple(hidden_units)), start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"decoder_dense{index}")(x)
    x = keras.layers.Dense(
        size, activation=output_activation, dtype="float32", name="reconstruction"
    )(x)
    if len(input_shape) > 1:
        x = keras.layers.Reshape(input_shape, name="reshape")(x)
    decoder = keras.Model(decoder_inputs, x, name="decoder")

    inputs = keras.Input(shape=input_shape, name="input")
    model = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss=loss,
        metrics=reconstruction_metrics(loss) if metrics is None else metrics,
    )


def conv_autoencoder(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (32, 32),
    kernel_size: int = 3,
    latent_dim: int | None = None,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss="binary_crossentropy",
    metrics: Sequence | None = None,
    name: str = "conv_autoencoder",
) -> keras.Model:
    """Build a convolutional autoencoder for images, compiled.

    Each encoder block is a `Conv2D` with stride 2, so it halves height and
    width. The decoder mirrors the blocks with stride-2 `Conv2DTranspose`
    layers and ends with a `Conv2D` back to the input's channels. With the
    defaults, a 28x28x1 image becomes a 7x7x32 code (28,353 parameters),
    trained with binary cross-entropy on inputs scaled to [0, 1].

    Args:
        input_shape: `(height, width, channels)`; height and width must be
            divisible by `2 ** len(filters)`.
        filters: Filters of each encoder block; the decoder uses them in
            reverse order.
        kernel_size: Kernel size of every convolution.
        latent_dim: `None` keeps the spatial code of the last encoder block.
            An integer adds a `Dense` bottleneck of this size, so the encoder
            returns a flat vector.
        activation: Activation of the hidden layers.
        output_activation: Activation of the reconstruction.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Reconstruction loss passed to `compile`.
        metrics: Metrics passed to `compile`; `None` adds the reconstruction
            loss that `loss` is not.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` with `encoder` and `decoder` sub-models.
    """
    input_shape = tuple(input_shape)
    filters = tuple(filters)
    code_height, code_width = check_conv_geometry(input_shape, filters)

    encoder_inputs = keras.Input(shape=input_shape, name="input")
    x = encoder_inputs
    x = conv_encoder_stack(x, filters, kernel_size, activation)
    if latent_dim is not None:
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(latent_dim, activation=activation, name="code")(x)
    encoder = keras.Model(encoder_inputs, x, name="encoder")

    decoder_inputs = keras.Input(shape=encoder.output_shape[1:], name="code")
    x = decoder_inputs
    if latent_dim is not None:
        x = keras.layers.Dense(code_height * code_width * filters[-1], activation=activation,
                               name="decoder_dense")(x)
        x = keras.layers.Reshape((code_height, code_width, filters[-1]), name="reshape")(x)
    for index, count in enumerate(reversed(filters), start=1):
        x = keras.layers.Conv2DTranspose(count, kernel_size, strides=2, padding="same",
                                         activation=activation, name=f"decoder_deconv{index}")(x)
    x = keras.layers.Conv2D(input_shape[-1], kernel_size, padding="same",
                            activation=output_activation, dtype="float32",
                            name="reconstruction")(x)
    decoder = keras.Model(decoder_inputs, x, name="decoder")

    inputs = keras.Input(shape=input_shape, name="input")
    model = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss=loss,
        metrics=reconstruction_metrics(loss) if metrics is None else metrics,
    )


_MSE_NAMES = ("mse", "mean_squared_error")
_BCE_NAMES = ("bce", "binary_crossentropy")


def reconstruction_metrics(loss) -> list:
    """Return the reconstruction metrics to track next to `loss`.

    Mean squared error as loss gets binary cross-entropy as a metric and the
    other way round. Any other loss, such as a `keras.losses.Loss` instance,
    gets both.
    """
    mse = keras.metrics.MeanSquaredError(name="mse")
    bce = keras.metrics.BinaryCrossentropy(name="binary_crossentropy")
    loss_name = loss.lower() if isinstance(loss, str) else None
    if loss_name in _MSE_NAMES:
        return [bce]
    if loss_name in _BCE_NAMES:
        return [mse]
    return [mse, bce]


def check_conv_geometry(input_shape: tuple, filters: tuple) -> tuple[int, int]:
    """Check an image shape against stride-2 blocks; return the code's height and width."""
    if len(input_shape) != 3:
        raise ConfigError(
            f"input_shape must be (height, width, channels); received {input_shape}. "
            "For 28x28 grayscale images use (28, 28, 1)."
        )
    if not filters:
        raise ConfigError("filters must list at least one encoder block, for example [32, 32].")
    factor = 2 ** len(filters)
    height, width = input_shape[0], input_shape[1]
    if height % factor or width % factor:
        raise ConfigError(
            f"input_shape {input_shape} does not fit {len(filters)} stride-2 blocks: height "
            f"and width must be divisible by {factor}. Use fewer entries in filters or "
            "pad the images."
        )
    return height // factor, width // factor


def conv_encoder_stack(x, filters: Sequence[int], kernel_size: int, activation: str):
    """Apply one stride-2 `Conv2D` per entry of `filters`, named `encoder_conv<i>`."""
    for index, count in enumerate(filters, start=1):
        x = keras.layers.Conv2D(count, kernel_size, strides=2, padding="same",
                                activation=activation, name=f"encoder_conv{index}")(x)
    return x
