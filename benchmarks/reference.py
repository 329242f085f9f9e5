"""Reference models: the tutorial's models written inline with plain Keras.

The benchmark trains each of them with `model.fit` on NumPy arrays already
in memory, which is the baseline the modelzoo trainer is compared with. The
definitions below repeat the architectures of `modelzoo.models` layer for
layer, without importing them, so a regression in a builder shows up as a
ratio away from 1. Models without an inline definition here use the
registry's builder, so their ratio measures the trainer and the input
pipeline only.
"""

from __future__ import annotations

import keras


def plain_cnn(input_shape=(28, 28, 1), num_classes=10):
    """Return the tutorial's CNN: two Conv2D/MaxPooling2D blocks, Dense(128), softmax."""
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
    ])


def plain_lstm(input_shape=(500, 1), num_classes=2):
    """Return the tutorial's stacked LSTM(128) -> LSTM(64) with a sigmoid or softmax head."""
    if num_classes == 2:
        head = keras.layers.Dense(1, activation="sigmoid", dtype="float32")
    else:
        head = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.LSTM(128, return_sequences=True),
        keras.layers.LSTM(64),
        head,
    ])


def plain_autoencoder(input_shape=(784,), latent_dim=64):
    """Return the tutorial's dense autoencoder: 784 -> Dense(64, relu) -> Dense(784, sigmoid)."""
    size = 1
    for dimension in input_shape:
        size *= dimension
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(latent_dim, activation="relu"),
        keras.layers.Dense(size, activation="sigmoid", dtype="float32"),
        keras.layers.Reshape(input_shape),
    ])


def build_reference(config):
    """Return the compiled reference model for a modelzoo `Config`, and how it was built.

    Returns:
        `(model, origin)`, where `origin` is `"inline"` for the definitions
        in this module and `"registry builder"` otherwise.
    """
    import modelzoo

    name = config.model.name
    args = dict(config.model.args)
    inline = {
        "cnn": lambda: plain_cnn(tuple(args.get("input_shape", (28, 28, 1))),
                                 args.get("num_classes", 10)),
        "lstm": lambda: plain_lstm(tuple(args.get("input_shape", (500, 1))),
                                   args.get("num_classes", 2)),
        "autoencoder": lambda: plain_autoencoder(tuple(args.get("input_shape", (784,))),
                                                 args.get("latent_dim", 64)),
    }
    # Inline only where the config keeps the builder arguments the definitions repeat.
    inline_keys = {"cnn": {"input_shape", "num_classes"},
                   "lstm": {"input_shape", "num_classes"},
                   "autoencoder": {"input_shape", "latent_dim"}}
    if name in inline and set(args) <= inline_keys[name]:
        model = inline[name]()
        spec_model = modelzoo.build(name, **args)
        model.compile(
            optimizer=keras.optimizers.get({"class_name": config.optimizer.name,
                                            "config": {"learning_rate": config.optimizer.learning_rate}}),
            loss=spec_model.loss,
            metrics=_fresh_metrics(spec_model),
        )
        return model, "inline"
    model = modelzoo.build(name, optimizer=config.optimizer.name,
                           learning_rate=config.optimizer.learning_rate, **args)
    return model, "registry builder"


def _fresh_metrics(model) -> list:
    """Return fresh copies of the metrics `model` was compiled with (names stay names)."""
    compiled = getattr(model, "_compile_config", None)
    metrics = compiled.config.get("metrics") if compiled is not None else None
    return [
        metric if isinstance(metric, str) else metric.__class__.from_config(metric.get_config())
        for metric in metrics or []
    ]
