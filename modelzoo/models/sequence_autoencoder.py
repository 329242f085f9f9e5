"""Autoencoders for univariate or multivariate series, for reconstruction-error anomaly detection."""

from __future__ import annotations

from typing import Sequence

import keras

from modelzoo.errors import ConfigError
from modelzoo.models._compile import compile_model

KINDS = ("conv", "lstm")


def sequence_autoencoder(
    *,
    input_shape: Sequence[int] = (140, 1),
    kind: str = "conv",
    filters: Sequence[int] = (32, 16),
    kernel_size: int = 7,
    units: int = 64,
    dropout: float = 0.1,
    activation: str = "relu",
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss="mse",
    metrics: Sequence | None = None,
    name: str = "sequence_autoencoder",
) -> keras.Model:
    """Build an autoencoder for series of shape `(steps, channels)`, compiled.

    `kind="conv"`: stride-2 `Conv1D` blocks halve the length, stride-2
    `Conv1DTranspose` blocks restore it, and a linear `Conv1D` returns the
    channels. With the defaults, a `(140, 1)` ECG beat becomes a `(35, 16)`
    code (9,505 parameters).

    `kind="lstm"`: an `LSTM(units)` encodes the series into one vector, which
    `RepeatVector` copies to every step of an `LSTM(units)` decoder with a
    linear `Dense` output per step.

    The output is linear because UCR series are z-normalized, not bounded.
    Mean absolute error is tracked as a metric next to the loss.

    Args:
        input_shape: `(steps, channels)`. For `conv`, `steps` must be
            divisible by `2 ** len(filters)`; `lstm` needs a fixed `steps`.
        kind: `"conv"` or `"lstm"`.
        filters: `conv` only: filters of each encoder block; the decoder
            reverses them.
        kernel_size: `conv` only: kernel size of every convolution.
        units: `lstm` only: units of the encoder and decoder LSTMs.
        dropout: Dropout rate after the first encoder block (`conv`) or on
            the LSTM inputs (`lstm`).
        activation: Activation of the hidden convolutions.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Reconstruction loss passed to `compile`.
        metrics: Metrics passed to `compile`; `None` tracks `"mae"`.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` with `encoder` and `decoder` sub-models.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 2 or input_shape[0] is None:
        raise ConfigError(
            f"input_shape must be (steps, channels) with a fixed number of steps; received "
            f"{input_shape}. For ECG5000 use (140, 1)."
        )
    if kind == "conv":
        encoder, decoder = _conv_parts(input_shape, tuple(filters), kernel_size, dropout,
                                       activation)
    elif kind == "lstm":
        encoder, decoder = _lstm_parts(input_shape, units, dropout)
    else:
        raise ConfigError(f"Unknown kind {kind!r} for sequence_autoencoder; use 'conv' or 'lstm'.")

    inputs = keras.Input(shape=input_shape, name="input")
    model = keras.Model(inputs, decoder(encoder(inputs)), name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss=loss,
        metrics=[keras.metrics.MeanAbsoluteError(name="mae")] if metrics is None else metrics,
    )


def _conv_parts(input_shape, filters, kernel_size, dropout, activation):
    steps, channels = input_shape
    if not filters:
        raise ConfigError("filters must list at least one encoder block, for example [32, 16].")
    factor = 2 ** len(filters)
    if steps % factor:
        raise ConfigError(
            f"Series length {steps} does not fit {len(filters)} stride-2 blocks: it must be "
            f"divisible by {factor}. Use fewer entries in filters, or kind 'lstm'."
        )

    encoder_inputs = keras.Input(shape=input_shape, name="input")
    x = encoder_inputs
    for index, count in enumerate(filters, start=1):
        x = keras.layers.Conv1D(count, kernel_size, strides=2, padding="same",
                                activation=activation, name=f"encoder_conv{index}")(x)
        if index == 1 and dropout:
            x = keras.layers.Dropout(dropout, name="dropout")(x)
    encoder = keras.Model(encoder_inputs, x, name="encoder")

    decoder_inputs = keras.Input(shape=encoder.output_shape[1:], name="code")
    x = decoder_inputs
    for index, count in enumerate(reversed(filters), start=1):
        x = keras.layers.Conv1DTranspose(count, kernel_size, strides=2, padding="same",
                                         activation=activation, name=f"decoder_deconv{index}")(x)
    x = keras.layers.Conv1D(channels, kernel_size, padding="same", dtype="float32",
                            name="reconstruction")(x)
    return encoder, keras.Model(decoder_inputs, x, name="decoder")


def _lstm_parts(input_shape, units, dropout):
    steps, channels = input_shape
    encoder_inputs = keras.Input(shape=input_shape, name="input")
    code = keras.layers.LSTM(units, dropout=dropout, name="encoder_lstm")(encoder_inputs)
    encoder = keras.Model(encoder_inputs, code, name="encoder")

    decoder_inputs = keras.Input(shape=(units,), name="code")
    x = keras.layers.RepeatVector(steps, name="repeat")(decoder_inputs)
    x = keras.layers.LSTM(units, return_sequences=True, name="decoder_lstm")(x)
    x = keras.layers.TimeDistributed(keras.layers.Dense(channels, dtype="float32"),
                                     name="reconstruction")(x)
    return encoder, keras.Model(decoder_inputs, x, name="decoder")
