"""Noise in the tf.data pipeline: it reaches the inputs and never the targets."""

import numpy as np
import pytest

import modelzoo
from modelzoo.data import load_dataset, make_image_pipeline


def first_batch(dataset):
    inputs, targets = next(iter(dataset))
    return np.asarray(inputs), np.asarray(targets)


def pipeline(mnist_arrays, *, shuffle=False, **kwargs):
    images = mnist_arrays.x_train[:256]
    labels = mnist_arrays.y_train[:256]
    return make_image_pipeline(images, labels, batch_size=256, shuffle=shuffle, seed=7,
                               targets="inputs", **kwargs)


def test_gaussian_noise_reaches_inputs_only(mnist_arrays):
    clean_inputs, clean_targets = first_batch(pipeline(mnist_arrays))
    inputs, targets = first_batch(pipeline(mnist_arrays, noise="gaussian", noise_level=0.3))

    np.testing.assert_array_equal(clean_inputs, clean_targets)
    np.testing.assert_array_equal(targets, clean_targets)
    assert inputs.shape == targets.shape
    assert inputs.min() >= 0.0
    assert inputs.max() <= 1.0
    # Clipping shrinks the noise only where pixels sit at 0 or 1, so pixels
    # with mid-range values show the full standard deviation.
    middle = (clean_targets > 0.3) & (clean_targets < 0.7)
    assert np.std(inputs[middle] - clean_targets[middle]) == pytest.approx(0.3, rel=0.15)


def test_masking_noise_zeroes_a_fraction(mnist_arrays):
    inputs, targets = first_batch(pipeline(mnist_arrays, noise="masking", noise_level=0.25))
    lit = targets > 0

    assert np.mean(inputs[lit] == 0) == pytest.approx(0.25, abs=0.02)
    np.testing.assert_array_equal(inputs[inputs > 0], targets[inputs > 0])
    assert targets[lit].min() > 0


def test_training_noise_changes_each_epoch(mnist_arrays):
    dataset = pipeline(mnist_arrays, shuffle=True, noise="gaussian", noise_level=0.3)
    first_inputs, first_targets = first_batch(dataset)
    second_inputs, second_targets = first_batch(dataset)
    noise_first = first_inputs - first_targets
    noise_second = second_inputs - second_targets

    assert not np.allclose(noise_first, noise_second)


def test_evaluation_noise_repeats_each_pass(mnist_arrays):
    dataset = pipeline(mnist_arrays, noise="masking", noise_level=0.5)
    first_inputs, _ = first_batch(dataset)
    second_inputs, _ = first_batch(dataset)

    np.testing.assert_array_equal(first_inputs, second_inputs)


def test_load_dataset_adds_noise_to_every_split(data_dir):
    splits = load_dataset("mnist", data_dir=data_dir, source="local", batch_size=64,
                          train_subset=600, test_subset=100, targets="inputs",
                          input_shape=(28, 28, 1), noise="gaussian", noise_level=0.2)

    # 540 training, 60 validation and 100 test examples: batches of 64, 60, 64.
    for split, size in ((splits.train, 64), (splits.validation, 60), (splits.test, 64)):
        inputs, targets = first_batch(split)
        assert inputs.shape == (size, 28, 28, 1)
        assert targets.shape == (size, 28, 28, 1)
        assert not np.array_equal(inputs, targets)


@pytest.mark.parametrize(
    "noise, level, targets, words",
    [
        ("salt", 0.1, "inputs", ["Unknown noise 'salt'", "'gaussian', 'masking'"]),
        ("gaussian", 0.0, "inputs", ["noise_level must be > 0", "received 0.0", "Try 0.3"]),
        ("masking", 1.5, "inputs", ["noise_level must be in (0, 1)", "received 1.5"]),
        ("gaussian", 0.3, "labels", ["needs a reconstruction model", "Set data.noise to null"]),
    ],
)
def test_invalid_noise_is_rejected(data_dir, noise, level, targets, words):
    with pytest.raises(modelzoo.ConfigError) as raised:
        load_dataset("mnist", data_dir=data_dir, source="local", train_subset=100,
                     targets=targets, noise=noise, noise_level=level)

    for word in words:
        assert word in str(raised.value)


def test_config_rejects_unknown_noise():
    with pytest.raises(modelzoo.ConfigError) as raised:
        modelzoo.load_config("conv_autoencoder", overrides=["data.noise=speckle"])

    assert "'data.noise' must be one of 'gaussian', 'masking'" in str(raised.value)
    assert "received 'speckle'" in str(raised.value)


def test_denoising_config_loads():
    config = modelzoo.load_config("denoising_autoencoder.yaml")

    assert config.model.name == "conv_autoencoder"
    assert config.data.noise == "gaussian"
    assert config.data.noise_level == 0.5
