"""Recurrent sequence classifiers."""

from __future__ import annotations

from typing import Sequence

import keras

from modelzoo.models._compile import classification_head, compile_model


def lstm(
    *,
    input_shape: Sequence[int | None] = (500, 1),
    num_classes: int = 2,
    units: Sequence[int] = (128, 64),
    bidirectional: bool = False,
    dropout: float = 0.0,
    mask_value: float | None = None,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss=None,
    metrics: Sequence = ("accuracy",),
    name: str = "lstm",
) -> keras.Model:
    """Build the tutorial's stacked LSTM classifier, compiled.

    One `LSTM` layer per entry of `units`; every layer but the last returns
    sequences. With `num_classes=2` the head is `Dense(1, sigmoid)` trained with
    binary cross-entropy on 0/1 labels. With more classes it is a softmax over
    `num_classes` trained with sparse categorical cross-entropy. The defaults
    (`LSTM(128) -> LSTM(64) -> Dense(1)`) have 116,033 parameters for one
    feature per step, whatever the sequence length.

    On a GPU with the TensorFlow backend, Keras runs each LSTM with the cuDNN
    kernel as long as the layer keeps its default activations and has no
    recurrent dropout. `dropout` here is applied between layers, so it keeps
    cuDNN. A `mask_value` keeps cuDNN only while the mask is right-padded.
    `units` and `bidirectional` keep it too. The only option of this builder
    that disables it is a `mask_value` whose padding is not at the end of
    the sequence (modelzoo's loaders always pad at the end).

    Args:
        input_shape: `(sequence_length, num_features)`; the length may be `None`.
        num_classes: Number of classes, 2 or more.
        units: Units of each stacked LSTM layer.
        bidirectional: Wrap each LSTM in `keras.layers.Bidirectional`.
        dropout: Dropout rate after each LSTM layer; 0 disables it.
        mask_value: Steps whose features all equal this value are masked.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Loss passed to `compile`; `None` picks the one matching the head.
        metrics: Metrics passed to `compile`.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` that maps sequences to class probabilities.

    Example:

    ```python
    model = modelzoo.build("lstm", input_shape=(28, 28), num_classes=10)
    ```
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2; received {num_classes}.")
    if not units:
        raise ValueError("units must name at least one LSTM layer; received an empty list.")

    inputs = keras.Input(shape=tuple(input_shape), name="sequence")
    x = inputs
    if mask_value is not None:
        x = keras.layers.Masking(mask_value=mask_value, name="masking")(x)
    for index, layer_units in enumerate(units, start=1):
        layer = keras.layers.LSTM(
            layer_units, return_sequences=index < len(units), name=f"lstm{index}"
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional{index}")
        x = layer(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{index}")(x)

    outputs, default_loss = classification_head(x, num_classes)

    model = keras.Model(inputs, outputs, name=name)
    return compile_model(
        model,
        optimizer=optimizer,
        learning_rate=learning_rate,
        loss=loss or default_loss,
        metrics=metrics,
    )
