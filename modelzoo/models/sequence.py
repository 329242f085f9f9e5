"""Sequence classifiers beyond the tutorial's LSTM: long series and token text."""

from __future__ import annotations

from typing import Sequence

import keras

from modelzoo.models._compile import classification_head, compile_model


def lstm_fcn(
    *,
    input_shape: Sequence[int | None] = (500, 1),
    num_classes: int = 2,
    filters: Sequence[int] = (32, 64, 64),
    kernel_sizes: Sequence[int] = (7, 5, 3),
    lstm_units: int = 64,
    conv_pool: int = 2,
    lstm_pool: int = 4,
    dropout: float = 0.3,
    batch_norm_momentum: float = 0.9,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss=None,
    metrics: Sequence = ("accuracy",),
    name: str = "lstm_fcn",
) -> keras.Model:
    """Build an LSTM-FCN hybrid for long univariate or multivariate series, compiled.

    Two branches read the same series and their features are concatenated
    before the head:

    - a fully convolutional branch: one `Conv1D(f, k, padding="same")` ->
      `BatchNormalization` -> ReLU block per entry of `filters` and
      `kernel_sizes`, each followed by `MaxPooling1D(conv_pool)` when
      `conv_pool` > 1, then `GlobalAveragePooling1D`;
    - a recurrent branch: `AveragePooling1D(lstm_pool)` shortens the series
      (500 steps become 125 with the default 4), then `LSTM(lstm_units)`
      and `Dropout(dropout)`.

    The convolutions learn local shapes, and pooling between them widens
    their view. The LSTM reads the order of the whole series at a length it
    can learn from. On the 500-step FordA series it reached 0.93 test
    accuracy on a CPU in 30 epochs (see BENCHMARKS.md). The LSTM keeps its default activations
    and no recurrent dropout, so on a GPU it runs the cuDNN kernel.

    Args:
        input_shape: `(sequence_length, num_features)`; the length may be `None`.
        num_classes: Number of classes: a sigmoid head for 2, softmax above.
        filters: Filters of each convolution block.
        kernel_sizes: Kernel size of each block; same length as `filters`.
        lstm_units: Units of the LSTM branch; 0 leaves the branch out (a plain
            fully convolutional network).
        conv_pool: Max-pool size after each convolution block. The default 2
            halves the length per block, which makes an epoch on FordA about
            3x faster on a CPU than 1 (the original fully convolutional branch).
        lstm_pool: Pool size (and stride) before the LSTM; 1 keeps every step.
        dropout: Dropout rate after the LSTM; 0 disables it.
        batch_norm_momentum: Momentum of the moving statistics. Keras's 0.99
            takes hundreds of steps to forget its initial variance of 1, so
            for a few epochs inference-mode outputs stay near constant; 0.9
            follows the data within a few dozen steps.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Loss passed to `compile`; `None` picks the one matching the head.
        metrics: Metrics passed to `compile`.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` that maps series to class probabilities.

    Example:

    ```python
    model = modelzoo.build("lstm_fcn", input_shape=(140, 1), num_classes=5)
    ```
    """
    if len(filters) != len(kernel_sizes) or not filters:
        raise ValueError(
            f"filters and kernel_sizes must be non-empty and of the same length; received "
            f"{list(filters)} and {list(kernel_sizes)}."
        )
    if lstm_pool < 1 or conv_pool < 1:
        raise ValueError(
            f"lstm_pool and conv_pool must be >= 1; received {lstm_pool} and {conv_pool}."
        )

    inputs = keras.Input(shape=tuple(input_shape), name="sequence")
    x = inputs
    for index, (block_filters, kernel_size) in enumerate(zip(filters, kernel_sizes), start=1):
        x = keras.layers.Conv1D(block_filters, kernel_size, padding="same", name=f"conv{index}")(x)
        x = keras.layers.BatchNormalization(momentum=batch_norm_momentum, name=f"bn{index}")(x)
        x = keras.layers.Activation("relu", name=f"relu{index}")(x)
        if conv_pool > 1:
            x = keras.layers.MaxPooling1D(conv_pool, name=f"pool{index}")(x)
    features = [keras.layers.GlobalAveragePooling1D(name="global_pool")(x)]

    if lstm_units:
        y = inputs
        if lstm_pool > 1:
            y = keras.layers.AveragePooling1D(lstm_pool, name="lstm_pool")(y)
        y = keras.layers.LSTM(lstm_units, name="lstm")(y)
        if dropout:
            y = keras.layers.Dropout(dropout, name="lstm_dropout")(y)
        features.append(y)

    x = features[0] if len(features) == 1 else keras.layers.Concatenate(name="concat")(features)
    outputs, default_loss = classification_head(x, num_classes)
    model = keras.Model(inputs, outputs, name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate,
        loss=loss or default_loss, metrics=metrics,
    )


def fcn(
    *,
    input_shape: Sequence[int | None] = (500, 1),
    num_classes: int = 2,
    filters: Sequence[int] = (64, 64, 64),
    kernel_sizes: Sequence[int] = (3, 3, 3),
    batch_norm_momentum: float = 0.99,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss=None,
    metrics: Sequence = ("accuracy",),
    name: str = "fcn",
) -> keras.Model:
    """Build a fully convolutional network for time series classification, compiled.

    One `Conv1D(f, k, padding="same")` -> `BatchNormalization` -> ReLU block
    per entry of `filters` and `kernel_sizes`, at the full length of the
    series, then `GlobalAveragePooling1D` and the head. This is `lstm_fcn`
    with no LSTM branch and no pooling between the blocks. The defaults,
    three blocks of 64 filters of width 3, are those of the keras-io example
    "Timeseries classification from scratch", which tuned the fully
    convolutional network of arXiv:1611.06455 by random search. With
    `configs/fcn_forda.yaml` (150 epochs, batch 32) it reached 0.9636 test
    accuracy on FordA (see BENCHMARKS.md).

    Args:
        input_shape: `(sequence_length, num_features)`; the length may be `None`.
        num_classes: Number of classes: a sigmoid head for 2, softmax above.
        filters: Filters of each convolution block.
        kernel_sizes: Kernel size of each block; same length as `filters`.
        batch_norm_momentum: Momentum of the moving statistics. Keras's 0.99
            lags behind the data for the first few hundred steps, so
            inference-mode accuracy is poor for the first few epochs. It
            catches up well before the 150 epochs of the FordA config.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Loss passed to `compile`; `None` picks the one matching the head.
        metrics: Metrics passed to `compile`.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` that maps series to class probabilities.

    Example:

    ```python
    model = modelzoo.build("fcn", input_shape=(150, 1), num_classes=2)
    ```
    """
    return lstm_fcn(
        input_shape=input_shape, num_classes=num_classes, filters=filters,
        kernel_sizes=kernel_sizes, lstm_units=0, conv_pool=1,
        batch_norm_momentum=batch_norm_momentum, optimizer=optimizer,
        learning_rate=learning_rate, loss=loss, metrics=metrics, name=name,
    )


def text_lstm(
    *,
    input_shape: Sequence[int | None] = (200,),
    vocab_size: int = 20_000,
    num_classes: int = 2,
    embedding_dim: int = 64,
    units: int = 64,
    pooling: str = "average",
    dense_units: int = 64,
    dropout: float = 0.5,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss=None,
    metrics: Sequence = ("accuracy",),
    name: str = "text_lstm",
) -> keras.Model:
    """Build a token-sequence classifier, compiled.

    `Embedding(vocab_size, embedding_dim, mask_zero=True)` ->
    `Bidirectional(LSTM(units, return_sequences=True))` -> masked
    `GlobalAveragePooling1D` -> `Dropout` -> `Dense(dense_units, relu)` ->
    `Dropout` -> head. Inputs are integer token ids with 0 as padding (what
    `keras.layers.TextVectorization` produces); the mask makes the LSTM skip
    padding and the average count only real tokens. Right-padded input keeps
    the LSTM eligible for cuDNN on a GPU.

    Averaging the LSTM's output at every token lets a word early in a long
    review reach the head as directly as the last one. On IMDB it reached
    0.8743 test accuracy with 400 tokens per review, where the final states
    (`pooling="last"`) with 250 tokens reached 0.8562 (see BENCHMARKS.md).

    Args:
        input_shape: `(sequence_length,)` of token ids; the length may be `None`.
        vocab_size: Number of token ids, padding and out-of-vocabulary included.
        num_classes: Number of classes: a sigmoid head for 2, softmax above.
        embedding_dim: Size of each token's embedding.
        units: Units of each direction of the LSTM.
        pooling: `"average"` feeds the head the mean of the LSTM's outputs
            over unmasked tokens. `"last"` feeds it the final state of each
            direction.
        dense_units: Units of the hidden dense layer; 0 leaves it out.
        dropout: Dropout rate before the dense layer and the head; 0 disables it.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Loss passed to `compile`; `None` picks the one matching the head.
        metrics: Metrics passed to `compile`.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` that maps token ids to class probabilities.
    """
    if vocab_size < 3:
        raise ValueError(f"vocab_size must be >= 3 (padding, unknown, one word); received {vocab_size}.")
    if pooling not in ("last", "average"):
        raise ValueError(f"pooling must be 'last' or 'average'; received {pooling!r}.")
    inputs = keras.Input(shape=tuple(input_shape), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    every_step = pooling == "average"
    x = keras.layers.Bidirectional(
        keras.layers.LSTM(units, return_sequences=every_step), name="bidirectional")(x)
    if every_step:
        x = keras.layers.GlobalAveragePooling1D(name="average_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout1")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout2")(x)
    outputs, default_loss = classification_head(x, num_classes)
    model = keras.Model(inputs, outputs, name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate,
        loss=loss or default_loss, metrics=metrics,
    )
