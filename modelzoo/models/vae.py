"""A convolutional variational autoencoder built from registered Keras layers.

The model is functional: `encoder -> KLDivergence -> Sampling -> decoder`.
`Sampling` and `KLDivergence` are registered Keras serializables (package
`modelzoo`) with a complete `get_config()`, so a saved `.keras` file loads in
a fresh interpreter after `import modelzoo`, with Keras's safe mode on.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
from keras import ops

from modelzoo.models._compile import compile_model
from modelzoo.models.autoencoder import (
    check_conv_geometry,
    conv_encoder_stack,
    reconstruction_metrics,
)


@keras.saving.register_keras_serializable(package="modelzoo")
class Sampling(keras.layers.Layer):
    """Reparameterized draw `z = mean + exp(log_var / 2) * epsilon`, `epsilon ~ N(0, I)`.

    The layer draws only in training. At inference it returns `mean`, so
    `predict` and `evaluate` are deterministic. Call it on
    `[z_mean, z_log_var]`.

    Args:
        seed: Seed of the layer's `keras.random.SeedGenerator`; `None` draws
            a random one.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="modelzoo")
class KLDivergence(keras.layers.Layer):
    """Add `weight * KL(N(mean, exp(log_var)) || N(0, I))` to the model's losses.

    The KL divergence is summed over the latent axis and averaged over the
    batch. The layer returns its inputs `[z_mean, z_log_var]` unchanged.

    Args:
        weight: Factor of the KL term in the total loss.
    """

    def __init__(self, weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        divergence = -0.5 * ops.sum(
            1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1
        )
        self.add_loss(self.weight * ops.mean(divergence))
        return z_mean, z_log_var

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


def vae(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int = 2,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    hidden_units: int = 16,
    beta: float = 1.0,
    activation: str = "relu",
    seed: int | None = None,
    optimizer="adam",
    learning_rate: float | None = 1e-3,
    loss="binary_crossentropy",
    metrics: Sequence | None = None,
    name: str = "vae",
) -> keras.Model:
    """Build a convolutional variational autoencoder, compiled.

    The encoder has stride-2 `Conv2D` blocks and a `Dense(hidden_units)`
    layer, then two `Dense(latent_dim)` heads, `z_mean` and `z_log_var`. The
    decoder mirrors it with `Conv2DTranspose` blocks and a sigmoid `Conv2D`.

    The training loss is the negative evidence lower bound per input value:
    `loss` (binary cross-entropy, a mean over pixels) plus
    `beta * KL / number of input values`. Dividing the KL term by the input
    size keeps the two terms at the ratio of the summed ELBO.

    Sub-models: `model.get_layer("encoder")` maps images to
    `[z_mean, z_log_var]`; `model.get_layer("decoder")` maps latent vectors
    to images, so `decoder.predict(numpy.random.normal(size=(n, latent_dim)))`
    draws samples from the prior.

    Args:
        input_shape: `(height, width, channels)`; height and width must be
            divisible by `2 ** len(filters)`.
        latent_dim: Size of the latent space; 2 lets the trainer draw a
            latent scatter plot.
        filters: Filters of each encoder block; the decoder reverses them.
        kernel_size: Kernel size of every convolution.
        hidden_units: Units of the dense layer before the latent heads.
        beta: Weight of the KL term; 1 is the standard VAE, larger values
            give a beta-VAE.
        activation: Activation of the hidden layers.
        seed: Seed of the sampling layer.
        optimizer: Optimizer name or `keras.optimizers.Optimizer` instance.
        learning_rate: Learning rate when `optimizer` is a name.
        loss: Reconstruction loss passed to `compile`.
        metrics: Metrics passed to `compile`; `None` adds the reconstruction
            loss that `loss` is not.
        name: Name of the returned model.

    Returns:
        A compiled `keras.Model` whose output has the shape of its input.
    """
    input_shape = tuple(input_shape)
    filters = tuple(filters)
    code_height, code_width = check_conv_geometry(input_shape, filters)

    encoder_inputs = keras.Input(shape=input_shape, name="input")
    x = encoder_inputs
    x = conv_encoder_stack(x, filters, kernel_size, activation)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hidden_units, activation=activation, name="encoder_dense")(x)
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(x)
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var], name="encoder")

    decoder_inputs = keras.Input(shape=(latent_dim,), name="z")
    x = keras.layers.Dense(code_height * code_width * filters[-1], activation=activation,
                           name="decoder_dense")(decoder_inputs)
    x = keras.layers.Reshape((code_height, code_width, filters[-1]), name="reshape")(x)
    for index, count in enumerate(reversed(filters), start=1):
        x = keras.layers.Conv2DTranspose(count, kernel_size, strides=2, padding="same",
                                         activation=activation, name=f"decoder_deconv{index}")(x)
    x = keras.layers.Conv2D(input_shape[-1], kernel_size, padding="same", activation="sigmoid",
                            dtype="float32", name="reconstruction")(x)
    decoder = keras.Model(decoder_inputs, x, name="decoder")

    inputs = keras.Input(shape=input_shape, name="input")
    z_mean, z_log_var = encoder(inputs)
    z_mean, z_log_var = KLDivergence(beta / math.prod(input_shape), name="kl_divergence")(
        [z_mean, z_log_var]
    )
    z = Sampling(seed, name="sampling")([z_mean, z_log_var])
    model = keras.Model(inputs, decoder(z), name=name)
    return compile_model(
        model, optimizer=optimizer, learning_rate=learning_rate, loss=loss,
        metrics=reconstruction_metrics(loss) if metrics is None else metrics,
    )
