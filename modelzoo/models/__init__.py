"""Model builders and the registry that names them.

Built-in models are registered here by import path, so `list_models()` and the
metadata need neither Keras nor TensorFlow. A builder module is imported on
the first `build()` of one of its models.

To add a model: write a keyword-only builder that returns a compiled
`keras.Model` in a module of this package, then add a `ModelSpec` below with
the parameter count of its default build (`tests/test_models.py` checks it).
"""

from modelzoo.models.registry import (
    ModelSpec,
    build,
    get_spec,
    list_models,
    register,
    register_model,
    unregister_model,
)

register(
    ModelSpec(
        name="cnn",
        builder="modelzoo.models.cnn:cnn",
        task="image_classification",
        input_shape=(28, 28, 1),
        dataset="mnist",
        params=225_034,
        description="The tutorial's two-block CNN for 28x28 grayscale digits.",
        config="cnn.yaml",
    )
)
register(
    ModelSpec(
        name="lstm",
        builder="modelzoo.models.lstm:lstm",
        task="sequence_classification",
        input_shape=(500, 1),
        dataset="ucr/FordA",
        params=116_033,
        description="The tutorial's stacked LSTM(128) -> LSTM(64) classifier.",
        config="lstm.yaml",
    )
)
register(
    ModelSpec(
        name="lstm_fcn",
        builder="modelzoo.models.sequence:lstm_fcn",
        task="sequence_classification",
        input_shape=(500, 1),
        dataset="ucr/FordA",
        params=40_577,
        description="LSTM-FCN hybrid: Conv1D/BatchNorm branch beside an LSTM on a pooled series.",
        config="lstm_fcn_forda.yaml",
    )
)
register(
    ModelSpec(
        name="fcn",
        builder="modelzoo.models.sequence:fcn",
        task="sequence_classification",
        input_shape=(500, 1),
        dataset="ucr/FordA",
        params=25_793,
        description="Fully convolutional network: three Conv1D/BatchNorm/ReLU blocks, global pooling.",
        config="fcn_forda.yaml",
    )
)
register(
    ModelSpec(
        name="text_lstm",
        builder="modelzoo.models.sequence:text_lstm",
        task="sequence_classification",
        input_shape=(200,),
        dataset="imdb",
        params=1_354_369,
        description="Embedding (masked) -> bidirectional LSTM text classifier.",
        config="lstm_imdb.yaml",
    )
)
register(
    ModelSpec(
        name="autoencoder",
        builder="modelzoo.models.autoencoder:autoencoder",
        task="reconstruction",
        input_shape=(784,),
        dataset="mnist",
        params=101_200,
        description="The tutorial's dense 784 -> 64 -> 784 autoencoder.",
        config="autoencoder.yaml",
    )
)
register(
    ModelSpec(
        name="conv_autoencoder",
        builder="modelzoo.models.autoencoder:conv_autoencoder",
        task="reconstruction",
        input_shape=(28, 28, 1),
        dataset="mnist",
        params=28_353,
        description="Strided Conv2D encoder and Conv2DTranspose decoder for 28x28x1 images.",
        config="conv_autoencoder.yaml",
    )
)
register(
    ModelSpec(
        name="vae",
        builder="modelzoo.models.vae:vae",
        task="reconstruction",
        input_shape=(28, 28, 1),
        dataset="mnist",
        params=134_165,
        description="Convolutional variational autoencoder with a 2-D latent space.",
        config="vae.yaml",
    )
)
register(
    ModelSpec(
        name="sequence_autoencoder",
        builder="modelzoo.models.sequence_autoencoder:sequence_autoencoder",
        task="anomaly_detection",
        input_shape=(140, 1),
        dataset="ucr/ECG5000",
        params=9_505,
        description="Conv1D (or LSTM) series autoencoder; anomalies by reconstruction error.",
        config="ecg5000_anomaly.yaml",
    )
)

__all__ = [
    "ModelSpec",
    "build",
    "get_spec",
    "list_models",
    "register",
    "register_model",
    "unregister_model",
]
