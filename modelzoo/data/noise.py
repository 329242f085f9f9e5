"""Input corruption for denoising autoencoders, applied inside `tf.data`.

Noise changes the inputs of each `(inputs, targets)` batch and never the
targets, so a model learns to map corrupted images to clean ones.
"""

from __future__ import annotations

import logging

from modelzoo.errors import ConfigError

logger = logging.getLogger(__name__)

NOISE_KINDS = ("gaussian", "masking")


def check_noise(noise: str | None, noise_level: float, targets: str) -> None:
    """Reject a noise setting that `corrupt_inputs` cannot apply."""
    if noise is None:
        return
    if noise not in NOISE_KINDS:
        raise ConfigError(
            f"Unknown noise {noise!r}. Use 'gaussian', 'masking', or null for clean inputs."
        )
    if targets != "inputs":
        raise ConfigError(
            f"data.noise={noise!r} needs a reconstruction model, whose targets are its "
            "inputs; this model is trained on labels. Set data.noise to null."
        )
    if noise == "gaussian" and not noise_level > 0:
        raise ConfigError(
            f"data.noise_level must be > 0 for gaussian noise (it is the standard "
            f"deviation); received {noise_level!r}. Try 0.3 for MNIST."
        )
    if noise == "masking" and not 0 < noise_level < 1:
        raise ConfigError(
            f"data.noise_level must be in (0, 1) for masking noise (it is the fraction of "
            f"values set to 0); received {noise_level!r}. Try 0.25."
        )


def corrupt_inputs(dataset, *, noise: str, noise_level: float, seed: int, fresh: bool):
    """Return `dataset` with noise added to the inputs of each `(inputs, targets)` element.

    Gaussian noise adds `noise_level * N(0, 1)` and clips the result to
    [0, 1], the range of the scaled images. Masking noise sets each value to
    0 with probability `noise_level`.

    Args:
        dataset: A `tf.data.Dataset` of `(inputs, targets)` pairs.
        noise: `"gaussian"` or `"masking"`.
        noise_level: Standard deviation, or the fraction of values masked.
        seed: Seed of the noise.
        fresh: `True` draws new noise on every pass (training). `False`
            draws the same noise on every pass, keyed by the element's
            position, so validation and test scores are comparable across
            epochs and runs.
    """
    import tensorflow as tf

    def corrupt(inputs, seed_pair):
        if noise == "gaussian":
            values = inputs + noise_level * tf.random.stateless_normal(
                tf.shape(inputs), seed=seed_pair, dtype=inputs.dtype
            )
            return tf.clip_by_value(values, 0.0, 1.0)
        keep = tf.random.stateless_uniform(tf.shape(inputs), seed=seed_pair) >= noise_level
        return inputs * tf.cast(keep, inputs.dtype)

    # Seeds of the stateless ops: (seed, position) for fixed noise; for fresh
    # noise, a seeded random stream draws one seed pair per element and pass.
    if fresh:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        seeds = seeds.batch(2, drop_remainder=True)
        dataset = tf.data.Dataset.zip((dataset, seeds))
    else:
        positions = tf.data.Dataset.counter()
        seeds = positions.map(lambda position: tf.stack([tf.constant(seed, tf.int64), position]))
        dataset = tf.data.Dataset.zip((dataset, seeds))

    def apply(pair, seed_pair):
        inputs, targets = pair
        return corrupt(inputs, seed_pair), targets

    logger.info("Adding %s noise (level %g) to the inputs, %s noise on every pass",
                noise, noise_level, "new" if fresh else "the same")
    return dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
