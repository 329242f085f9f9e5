"""Autoencoders."""

from __future__ import annotations

import math
from typing import Sequence

import keras

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
    metrics: Sequence = (),
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
        metrics: Metrics passed to `compile`.
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
        model, optimizer=optimizer, learning_rate=learning_rate, loss=loss, metrics=metrics
    )
