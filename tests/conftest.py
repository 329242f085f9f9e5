"""Shared fixtures: the real data directory and small real MNIST batches.

Tests read real data from `$MODELZOO_DATA_DIR`, which `make test` sets to
`../shared/data` when the variable is unset.
"""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    value = os.environ.get("MODELZOO_DATA_DIR")
    if not value:
        pytest.fail(
            "MODELZOO_DATA_DIR is not set. Point it at a folder holding mnist/ "
            "(the four IDX files), or run the tests with `make test`."
        )
    path = Path(value)
    if not (path / "mnist").is_dir():
        pytest.fail(f"MODELZOO_DATA_DIR={path} has no mnist/ folder with the IDX files.")
    return path


@pytest.fixture(scope="session")
def mnist_arrays(data_dir):
    from modelzoo.data.mnist import load_image_arrays

    return load_image_arrays("mnist", data_dir=data_dir, source="local")


@pytest.fixture(scope="session")
def mnist_batch(mnist_arrays):
    """512 real training images scaled to [0, 1] with their labels."""
    images = mnist_arrays.x_train[:512].astype("float32")[..., None] / 255.0
    labels = mnist_arrays.y_train[:512].astype("int32")
    return images, labels


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A HOME without Keras or TFDS caches, and no MODELZOO_DATA_DIR."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv("MODELZOO_DATA_DIR", raising=False)
    return tmp_path


def losses_fall(model, x, y, steps=5):
    """Train `steps` real steps on one batch; return (loss before, loss after)."""
    before = float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
    for _ in range(steps):
        model.train_on_batch(x, y)
    after = float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
    return before, after


@pytest.fixture(scope="session")
def cnn_run(tmp_path_factory, data_dir):
    """A real run directory of the CNN: one epoch on 2,000 MNIST images."""
    import modelzoo

    output = tmp_path_factory.mktemp("runs")
    result = modelzoo.train_model(
        "cnn", data_dir=str(data_dir), epochs=1, batch_size=64, output_dir=str(output),
        data__train_subset=2000, data__test_subset=300, training__verbose=0,
        callbacks__tensorboard=False,
    )
    return result.run_dir
