"""Bad input and configuration fail before training with a message naming the value and the fix."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import modelzoo
from modelzoo.checks import (
    check_arrays,
    check_dataset,
    check_labels,
    ends_in_sigmoid,
    standardize_images,
)
from modelzoo.data import load_dataset, make_image_pipeline, split_dataset
from modelzoo.errors import ConfigError, DataNotFoundError, InputError, KerasVersionError

from modelzoo.cli import train_main


@pytest.fixture(scope="module")
def cnn_model():
    return modelzoo.build("cnn")


@pytest.fixture(scope="module")
def real_images(mnist_arrays):
    return mnist_arrays.x_train[:256], mnist_arrays.y_train[:256]


# 1. Image shapes.

def test_missing_channel_axis_is_added(real_images):
    images, _ = real_images
    result = standardize_images(images, (28, 28, 1))

    assert result.shape == (256, 28, 28, 1)
    np.testing.assert_array_equal(result[..., 0], images / np.float32(255))


def test_channels_first_is_transposed(real_images):
    images, _ = real_images
    channels_first = images[:, np.newaxis, :, :]

    result = standardize_images(channels_first, (28, 28, 1))

    assert result.shape == (256, 28, 28, 1)
    np.testing.assert_array_equal(result, standardize_images(images, (28, 28, 1)))


@pytest.mark.parametrize("shape", [(256, 784), (256, 28, 28, 1, 1), (256, 1, 28, 27)])
def test_other_shapes_show_received_and_expected(real_images, shape):
    images = np.zeros(shape, dtype=np.uint8)

    with pytest.raises(InputError) as raised:
        standardize_images(images, (28, 28, 1))

    assert f"shape {shape}" in str(raised.value)
    assert "expects (N, 28, 28, 1)" in str(raised.value)
    assert "Reshape the data" in str(raised.value)


def test_dataset_with_wrong_input_shape_is_rejected(real_images, cnn_model):
    images, labels = real_images
    flat = tf.data.Dataset.from_tensor_slices(
        (images.reshape(-1, 784).astype("float32") / 255, labels)).batch(32)

    with pytest.raises(InputError) as raised:
        check_dataset(flat, cnn_model)

    assert "(batch, 784)" in str(raised.value)
    assert "(batch, None, 28, 28, 1)" not in str(raised.value)
    assert "expects (batch, 28, 28, 1)" in str(raised.value)


# 2. Pixel scaling and autoencoder targets.

def test_uint8_pixels_scaled_to_unit_range(real_images):
    images, _ = real_images

    result = standardize_images(images, (28, 28, 1))

    assert result.dtype == np.float32
    assert result.min() == 0.0
    assert result.max() == 1.0


def test_integer_pixels_beyond_255_rejected():
    pixels = np.arange(4 * 28 * 28, dtype=np.int32).reshape(4, 28, 28)

    with pytest.raises(InputError, match=r"integers in 0\.\.3135.*Scale them to floats in \[0, 1\]"):
        standardize_images(pixels, (28, 28, 1))


def test_float_pixels_not_scaled_twice(real_images):
    images, labels = real_images
    scaled = images.astype("float32") / 255

    dataset = make_image_pipeline(scaled, labels, batch_size=256, shuffle=False, seed=0)
    batch, _ = next(iter(dataset))

    np.testing.assert_allclose(batch.numpy()[..., 0], scaled, rtol=1e-6)


def test_autoencoder_targets_outside_unit_range_rejected(real_images):
    images, _ = real_images
    model = modelzoo.build("autoencoder")
    unscaled = images.reshape(-1, 784).astype("float32")  # 0..255, never divided
    dataset = tf.data.Dataset.from_tensor_slices((unscaled, unscaled)).batch(64)

    with pytest.raises(InputError) as raised:
        check_dataset(dataset, model, unit_range_targets=True)

    assert "[0, 255]" in str(raised.value)
    assert "sigmoid" in str(raised.value)
    assert "divide 0..255 pixels by 255" in str(raised.value)


@pytest.mark.parametrize("input_shape", [(784,), (28, 28, 1)])
def test_sigmoid_output_found_behind_reshape(input_shape):
    assert ends_in_sigmoid(modelzoo.build("autoencoder", input_shape=input_shape))
    assert not ends_in_sigmoid(modelzoo.build("autoencoder", input_shape=input_shape,
                                              output_activation="linear"))


def test_autoencoder_arrays_get_scaled_targets(real_images):
    images, _ = real_images
    model = modelzoo.build("autoencoder")

    x, y = check_arrays(model, images)

    assert x.shape == (256, 784)
    assert y.max() <= 1.0
    assert y.min() >= 0.0


# 3. Labels against the model.

def test_one_based_labels_rejected(real_images, cnn_model):
    _, labels = real_images

    with pytest.raises(InputError) as raised:
        check_labels(labels + 1, cnn_model)

    message = str(raised.value)
    assert "1..10" in message
    assert "0..9" in message
    assert "subtract 1" in message


def test_one_hot_labels_with_sparse_loss_rejected(real_images, cnn_model):
    _, labels = real_images

    with pytest.raises(InputError) as raised:
        check_labels(keras.utils.to_categorical(labels, 10), cnn_model)

    assert "look one-hot" in str(raised.value)
    assert "loss='categorical_crossentropy'" in str(raised.value)
    assert "numpy.argmax" in str(raised.value)


def test_integer_labels_with_categorical_loss_rejected(real_images):
    _, labels = real_images
    model = modelzoo.build("cnn", loss="categorical_crossentropy")

    with pytest.raises(InputError) as raised:
        check_labels(labels, model)

    assert "shape (256,)" in str(raised.value)
    assert "one-hot labels of shape (N, 10)" in str(raised.value)
    assert "keras.utils.to_categorical" in str(raised.value)


def test_label_mismatch_in_dataset_caught_before_fit(real_images, cnn_model):
    images, labels = real_images
    dataset = make_image_pipeline(images, labels + 1, batch_size=64, shuffle=False, seed=0)

    with pytest.raises(InputError, match="subtract 1"):
        check_dataset(dataset, cnn_model, split="train")


def test_valid_labels_pass(real_images, cnn_model):
    images, labels = real_images
    dataset = make_image_pipeline(images, labels, batch_size=64, shuffle=False, seed=0)

    assert check_dataset(dataset, cnn_model) == 256


# 4. Data sets too small for the request.

def test_fewer_examples_than_one_batch(data_dir):
    with pytest.raises(InputError) as raised:
        load_dataset("mnist", data_dir=data_dir, train_subset=50, batch_size=128)

    message = str(raised.value)
    assert "45 training examples (of 50" in message
    assert "batch_size=128" in message
    assert "validation_fraction=0.1" in message


def test_fraction_leaving_no_training_data(data_dir):
    with pytest.raises(InputError) as raised:
        load_dataset("mnist", data_dir=data_dir, train_subset=10, validation_fraction=0.99,
                     batch_size=1)

    assert "validation_fraction=0.99 of 10 examples leaves no training examples" in str(raised.value)


def test_fraction_rounding_to_no_validation(data_dir):
    with pytest.raises(InputError, match="rounds to 0 validation examples"):
        load_dataset("mnist", data_dir=data_dir, train_subset=300, validation_fraction=0.001,
                     batch_size=32)


def test_empty_idx_files_rejected(tmp_path):
    header_images = (0x00000803).to_bytes(4, "big") + b"\0\0\0\0" + (28).to_bytes(4, "big") * 2
    header_labels = (0x00000801).to_bytes(4, "big") + b"\0\0\0\0"
    for prefix in ("train", "t10k"):
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(header_images)
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(header_labels)

    with pytest.raises(InputError, match="has no training examples: the file or split is empty"):
        load_dataset("mnist", data_dir=tmp_path, source="local", verify_checksums=False)


# 5. Validation split of any tf.data source.

def _indices(dataset):
    return [int(index) for index, _ in dataset.as_numpy_iterator()]


@pytest.mark.parametrize("known_cardinality", [True, False])
def test_split_dataset_disjoint_complete_fixed(real_images, known_cardinality):
    images, labels = real_images
    indexed = tf.data.Dataset.from_tensor_slices((np.arange(256), images))
    if not known_cardinality:
        indexed = indexed.filter(lambda index, image: True)  # cardinality becomes unknown
        assert int(indexed.cardinality()) == tf.data.UNKNOWN_CARDINALITY

    train, validation = split_dataset(indexed, 0.25, seed=3)
    train_ids, validation_ids = _indices(train), _indices(validation)
    again_train, again_validation = split_dataset(indexed, 0.25, seed=3)

    assert len(validation_ids) == 64
    assert not set(train_ids) & set(validation_ids)
    assert sorted(train_ids + validation_ids) == list(range(256))
    assert _indices(again_train) == train_ids
    assert _indices(again_validation) == validation_ids


def test_split_dataset_rejects_infinite(real_images):
    images, _ = real_images
    with pytest.raises(ConfigError, match="repeats forever"):
        split_dataset(tf.data.Dataset.from_tensor_slices(images).repeat(), 0.1, seed=0)


# 7. Checkpoint path suffixes (range checks of other keys are in test_config.py).

@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["callbacks.model_checkpoint.filepath=best.h5"], "ending in '.keras'"),
        (["callbacks.model_checkpoint.filepath=ckpt"], "ending in '.keras'"),
        (["callbacks.model_checkpoint.save_weights_only=true",
          "callbacks.model_checkpoint.filepath=best.keras"], "ending in '.weights.h5'"),
    ],
)
def test_checkpoint_suffix_rejected_up_front(overrides, expected):
    with pytest.raises(ConfigError) as raised:
        modelzoo.load_config("cnn", overrides=overrides)

    assert "'callbacks.model_checkpoint.filepath'" in str(raised.value)
    assert expected in str(raised.value)


def test_valid_checkpoint_path_accepted():
    config = modelzoo.load_config("cnn", overrides=[
        "callbacks.model_checkpoint.enabled=true",
        "callbacks.model_checkpoint.filepath=checkpoints/epoch{epoch:02d}.keras",
    ])
    assert config.callbacks.model_checkpoint.filepath.endswith(".keras")


# 8. Device.

def test_gpu_request_without_gpu_exits_2(tmp_path, data_dir, capsys):
    status = train_main(["cnn", "--device", "gpu", "--data-dir", str(data_dir),
                         "--output-dir", str(tmp_path)])

    stderr = capsys.readouterr().err
    assert status == 2
    assert "TensorFlow sees no GPU" in stderr
    assert "Visible devices: /physical_device:CPU:0" in stderr
    assert "use --device cpu or --device auto" in stderr
    assert "Traceback" not in stderr


# 9. No network and no local copy, for every data set that downloads.

@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_every_download_fails_clearly_offline(tmp_path, isolated_home, monkeypatch, dataset):
    from modelzoo.data import mnist as mnist_module

    # A closed port on loopback plays the unreachable download server.
    monkeypatch.setattr(mnist_module, "TFDS_DOWNLOAD_HOST", ("127.0.0.1", 9))

    with pytest.raises(DataNotFoundError) as raised:
        mnist_module.load_image_arrays(dataset, data_dir=tmp_path, source="tfds")

    assert f"{dataset} was not found and could not be downloaded" in str(raised.value)
    assert "127.0.0.1 failed" in str(raised.value)
    assert "--data-dir" in str(raised.value)


# 14. tf_keras (Keras 2) objects and TF_USE_LEGACY_KERAS.

def test_tf_keras_optimizer_rejected():
    import tf_keras

    with pytest.raises(KerasVersionError) as raised:
        modelzoo.build("cnn", optimizer=tf_keras.optimizers.Adam(), learning_rate=None)

    message = str(raised.value)
    assert "tf_keras" in message
    assert "Adam" in message
    assert "keras>=3.15" in message


def test_tf_keras_model_rejected():
    import tf_keras

    legacy = tf_keras.Sequential([tf_keras.layers.Dense(1, input_shape=(3,))])

    with pytest.raises(KerasVersionError, match=r"model .*Sequential is a tf_keras \(Keras 2\) object"):
        check_arrays(legacy, np.zeros((2, 3)), np.zeros((2, 1)))


def test_legacy_keras_env_rejected_by_builder(monkeypatch):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")

    with pytest.raises(KerasVersionError) as raised:
        modelzoo.build("cnn")

    assert "TF_USE_LEGACY_KERAS=1" in str(raised.value)
    assert "keras>=3.15" in str(raised.value)
    assert "unset TF_USE_LEGACY_KERAS" in str(raised.value)


def test_legacy_keras_env_cli_exits_2(tmp_path, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")

    status = train_main(["cnn", "--data-dir", str(data_dir), "--output-dir", str(tmp_path)])

    stderr = capsys.readouterr().err
    assert status == 2
    assert "error: TF_USE_LEGACY_KERAS=1 is set" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "cnn").exists()
