"""Trainer outputs of reconstruction models: extra metrics and PNG grids."""

import json

import numpy as np
import pytest
import tensorflow as tf

import modelzoo
from modelzoo.reconstruction import write_reconstruction_plots
from modelzoo.plots import plot_latent_scatter, plot_reconstructions


def train(model_name, tmp_path, data_dir, *extra):
    config = modelzoo.load_config(
        model_name,
        overrides=[f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "training.epochs=1",
                   "data.train_subset=500", "data.test_subset=200", "training.verbose=0",
                   "callbacks.tensorboard=false", *extra],
    )
    return modelzoo.Trainer(config).run()


def assert_png(path):
    assert path.is_file()
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_denoising_run_writes_grid_and_metrics(tmp_path, data_dir):
    result = train("denoising_autoencoder.yaml", tmp_path, data_dir)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())

    assert_png(result.run_dir / "reconstructions.png")
    assert not (result.run_dir / "samples.png").exists()
    assert metrics["test_loss"] > 0
    assert metrics["test_mse"] > 0
    assert metrics["test_mse"] < metrics["test_loss"]


def test_vae_run_writes_samples_and_latent_scatter(tmp_path, data_dir):
    result = train("vae", tmp_path, data_dir)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())

    for name in ("reconstructions.png", "samples.png", "latent.png", "curves.png"):
        assert_png(result.run_dir / name)
    assert "test_mse" in metrics
    reloaded = modelzoo.load_model(result.run_dir / "model.keras")
    assert reloaded.get_layer("decoder").input_shape == (None, 2)


def test_vae_without_2d_latent_skips_scatter(tmp_path, mnist_batch):
    images, labels = mnist_batch
    dataset = tf.data.Dataset.from_tensor_slices((images[:64], images[:64])).batch(32)
    written = write_reconstruction_plots(modelzoo.build("vae", latent_dim=4), dataset, tmp_path,
                                         labels=labels[:64], count=8)

    assert [path.name for path in written] == ["reconstructions.png", "samples.png"]
    for path in written:
        assert_png(path)


def test_dense_autoencoder_grid_from_flat_vectors(tmp_path, mnist_batch):
    images, _ = mnist_batch
    flat = images[:8].reshape(8, 784)
    path = plot_reconstructions(flat, flat * 0.5, tmp_path / "grid.png", noisy_inputs=flat)

    assert_png(path)


def test_reconstruction_grid_rejects_count_mismatch(tmp_path, mnist_batch):
    images, _ = mnist_batch
    with pytest.raises(ValueError, match=r"same number of images; received \[8, 5\]"):
        plot_reconstructions(images[:8], images[:5], tmp_path / "grid.png")


def test_latent_scatter_rejects_3d_codes(tmp_path):
    with pytest.raises(ValueError, match=r"codes of shape \(count, 2\); received \(10, 3\)"):
        plot_latent_scatter(np.zeros((10, 3)), np.zeros(10), tmp_path / "latent.png")
