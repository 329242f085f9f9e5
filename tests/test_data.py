"""MNIST loading from real IDX files, tf.data splits and error messages."""

import gzip
import shutil

import numpy as np
import pytest

from modelzoo.data import load_dataset, split_indices
from modelzoo.data import mnist as mnist_module
from modelzoo.data.idx import IMAGES_MAGIC, read_idx
from modelzoo.data.mnist import FILE_NAMES, load_image_arrays
from modelzoo.errors import ConfigError, DataFormatError, DataNotFoundError

# Published per-class counts of the MNIST training and test splits, digits 0..9.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def copy_mnist(source_dir, target_dir, *, decompress=False):
    target_dir.mkdir(parents=True, exist_ok=True)
    for file_name in FILE_NAMES.values():
        source = source_dir / "mnist" / f"{file_name}.gz"
        if decompress:
            with gzip.open(source, "rb") as stream:
                (target_dir / file_name).write_bytes(stream.read())
        else:
            shutil.copy(source, target_dir / f"{file_name}.gz")
    return target_dir


def test_real_mnist_sizes_and_class_counts(mnist_arrays):
    assert mnist_arrays.x_train.shape == (60_000, 28, 28)
    assert mnist_arrays.x_test.shape == (10_000, 28, 28)
    assert np.bincount(mnist_arrays.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist_arrays.y_test).tolist() == TEST_COUNTS


def test_splits_scale_pixels_and_add_channel(data_dir):
    train, validation, test, info = load_dataset("mnist", data_dir=data_dir, batch_size=1000)
    images, labels = next(iter(train))

    assert images.shape == (1000, 28, 28, 1)
    assert images.dtype.name == "float32"
    assert float(np.min(images)) == 0.0
    assert float(np.max(images)) == 1.0
    assert labels.dtype.name == "int32"
    assert (info.num_train, info.num_validation, info.num_test) == (54_000, 6_000, 10_000)
    assert info.num_classes == 10
    assert sum(int(batch[1].shape[0]) for batch in test) == 10_000
    assert sum(int(batch[1].shape[0]) for batch in validation) == 6_000


def test_validation_split_is_disjoint_and_fixed():
    train, validation = split_indices(60_000, 0.1, seed=0)
    again_train, again_validation = split_indices(60_000, 0.1, seed=0)

    assert len(validation) == 6_000
    assert len(train) == 54_000
    assert np.intersect1d(train, validation).size == 0
    assert np.union1d(train, validation).size == 60_000
    np.testing.assert_array_equal(validation, again_validation)
    np.testing.assert_array_equal(train, again_train)


def test_validation_images_never_in_training(data_dir):
    splits = load_dataset("mnist", data_dir=data_dir, train_subset=3000, batch_size=2400,
                          validation_fraction=0.2, cache=False)
    train_images = np.concatenate([batch[0].numpy() for batch in splits.train])
    validation_images = np.concatenate([batch[0].numpy() for batch in splits.validation])
    train_rows = {row.tobytes() for row in train_images}

    assert len(train_images) == 2400
    assert len(validation_images) == 600
    assert not any(row.tobytes() in train_rows for row in validation_images)


def test_training_shuffle_follows_seed(data_dir):
    def first_labels(seed):
        splits = load_dataset("mnist", data_dir=data_dir, train_subset=2000, batch_size=64, seed=seed)
        return next(iter(splits.train))[1].numpy()

    np.testing.assert_array_equal(first_labels(1), first_labels(1))
    assert not np.array_equal(first_labels(1), first_labels(2))


def test_autoencoder_targets_equal_inputs(data_dir):
    splits = load_dataset("mnist", data_dir=data_dir, train_subset=500, batch_size=100,
                          input_shape=(784,), targets="inputs")
    inputs, targets = next(iter(splits.test))

    assert inputs.shape == (100, 784)
    np.testing.assert_array_equal(inputs.numpy(), targets.numpy())


def test_uncompressed_files_in_flat_folder(tmp_path, data_dir):
    folder = copy_mnist(data_dir, tmp_path / "flat", decompress=True)
    arrays = load_image_arrays("mnist", data_dir=folder, source="local")

    assert arrays.x_train.shape == (60_000, 28, 28)
    assert str(folder) in arrays.source


def test_fashion_mnist_from_system_package():
    folder = mnist_module.IMAGE_DATASETS["fashion_mnist"].system_dirs[0]
    if not (mnist_module.Path(folder) / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(f"{folder} is missing: install Debian's dataset-fashion-mnist (.ci/run does).")
    arrays = load_image_arrays("fashion_mnist", source="system")

    assert arrays.x_train.shape == (60_000, 28, 28)
    assert np.bincount(arrays.y_test).tolist() == [1000] * 10


def test_truncated_gzip_names_the_file(tmp_path, data_dir):
    folder = copy_mnist(data_dir, tmp_path / "mnist")
    damaged = folder / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[: 100_000])

    with pytest.raises(DataFormatError) as raised:
        load_image_arrays("mnist", data_dir=tmp_path, source="local")
    assert str(damaged) in str(raised.value)
    assert "not a valid gzip file" in str(raised.value)


def test_wrong_magic_number_is_reported(tmp_path, data_dir):
    folder = copy_mnist(data_dir, tmp_path / "mnist", decompress=True)
    # A labels file saved under the images name carries the labels magic number.
    shutil.copy(folder / "train-labels-idx1-ubyte", folder / "train-images-idx3-ubyte")

    with pytest.raises(DataFormatError, match="magic number 0x00000801; expected 0x00000803"):
        load_image_arrays("mnist", data_dir=tmp_path, source="local")


def test_size_disagreeing_with_header_is_reported(tmp_path, data_dir):
    folder = copy_mnist(data_dir, tmp_path / "mnist", decompress=True)
    path = folder / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-784])

    with pytest.raises(DataFormatError) as raised:
        read_idx(path, expected_magic=IMAGES_MAGIC)
    assert "shape (10000, 28, 28)" in str(raised.value)
    assert "7,839,216" in str(raised.value)


def test_partial_folder_lists_missing_files(tmp_path, data_dir):
    folder = copy_mnist(data_dir, tmp_path / "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()

    with pytest.raises(DataNotFoundError, match=r"missing: t10k-labels-idx1-ubyte\[\.gz\]"):
        load_image_arrays("mnist", data_dir=tmp_path, source="local")


def test_no_local_copy_and_no_network_fails_fast(tmp_path, isolated_home, monkeypatch):
    # A closed port on loopback plays the unreachable download server.
    monkeypatch.setattr(mnist_module, "TFDS_DOWNLOAD_HOST", ("127.0.0.1", 9))
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(DataNotFoundError) as raised:
        load_image_arrays("mnist", data_dir=empty)

    message = str(raised.value)
    # The probe failed, so TFDS and its multi-minute retry loop never ran.
    assert "download from 127.0.0.1 failed: ConnectionRefusedError" in message
    assert f"data directory {empty}" in message
    assert "Keras cache" in message
    assert "TFDS" in message
    assert "--data-dir" in message
    assert "MODELZOO_DATA_DIR" in message


def test_unknown_dataset_suggests_closest(data_dir):
    with pytest.raises(ConfigError, match="Did you mean 'mnist'"):
        load_dataset("mnsit", data_dir=data_dir)
