"""Run-directory outputs of reconstruction models: image grids and VAE plots.

The trainer calls `write_reconstruction_plots` after training a model whose
registered task is `"reconstruction"`. It writes into the run directory:

    reconstructions.png   test images above their reconstructions (with the
                          noisy inputs in between for a denoising run)
    samples.png           VAE only: images decoded from the prior N(0, I)
    latent.png            VAE with a 2-D latent space only: test means
                          coloured by label
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from modelzoo.plots import plot_image_grid, plot_latent_scatter, plot_reconstructions

logger = logging.getLogger(__name__)


def is_variational(model) -> bool:
    """Return whether `model` contains a `Sampling` layer, as `vae` builds do."""
    from modelzoo.models.vae import Sampling

    return any(isinstance(layer, Sampling) for layer in model.layers)


def take_examples(dataset, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the first `count` `(inputs, targets)` of a batched dataset as NumPy arrays."""
    inputs, targets = [], []
    collected = 0
    for batch_inputs, batch_targets in dataset:
        inputs.append(np.asarray(batch_inputs))
        targets.append(np.asarray(batch_targets))
        collected += len(inputs[-1])
        if collected >= count:
            break
    if not inputs:
        raise ValueError("The dataset is empty, so there is nothing to reconstruct.")
    return np.concatenate(inputs)[:count], np.concatenate(targets)[:count]


def write_reconstruction_plots(
    model,
    test_data,
    run_dir: str | Path,
    *,
    noisy: bool = False,
    labels: np.ndarray | None = None,
    class_names=(),
    count: int = 10,
    seed: int = 0,
) -> list[Path]:
    """Write the reconstruction grid and, for a VAE, the sample grid and latent scatter.

    Args:
        model: A trained reconstruction model with a `decoder` sub-model.
        test_data: Batched `tf.data.Dataset` of `(inputs, targets)`, in the
            order of `labels`.
        run_dir: Folder to write into.
        noisy: The inputs are corrupted (denoising run), so draw them too.
        labels: Class of every test example, for the latent scatter; `None`
            skips the scatter.
        class_names: Legend names of the classes.
        count: Images per row of the grids.
        seed: Seed of the prior samples.

    Returns:
        The paths written.
    """
    run_dir = Path(run_dir)
    inputs, targets = take_examples(test_data, count)
    reconstructions = model.predict(inputs, verbose=0)
    written = [
        plot_reconstructions(
            targets, reconstructions, run_dir / "reconstructions.png",
            noisy_inputs=inputs if noisy else None,
            title=f"{model.name}: test images and reconstructions",
        )
    ]

    if is_variational(model):
        decoder = model.get_layer("decoder")
        latent_dim = decoder.input_shape[-1]
        prior = np.random.default_rng(seed).normal(size=(count * count, latent_dim))
        samples = decoder.predict(prior.astype("float32"), verbose=0)
        written.append(plot_image_grid(samples, run_dir / "samples.png", columns=count,
                                       title=f"{model.name}: decoded samples from N(0, I)"))
        if latent_dim == 2 and labels is not None:
            encoder = model.get_layer("encoder")
            means = np.concatenate(
                [np.asarray(encoder.predict_on_batch(batch_targets)[0])
                 for _, batch_targets in test_data]
            )
            labels = np.asarray(labels)[: len(means)]
            written.append(plot_latent_scatter(
                means, labels, run_dir / "latent.png", class_names=class_names,
                title=f"{model.name}: latent means of {len(means)} test images",
            ))
    for path in written:
        logger.info("Wrote %s", path)
    return written
