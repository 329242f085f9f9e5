"""The Python training API on a real MNIST subset."""

import keras
import pytest
import numpy as np

import modelzoo


def test_train_model_returns_history_metrics_and_reloadable_model(tmp_path, data_dir, mnist_batch):
    result = modelzoo.train_model(
        "cnn", data_dir=str(data_dir), epochs=2, batch_size=64, output_dir=str(tmp_path),
        data__train_subset=3000, data__test_subset=1000, training__verbose=0,
    )

    assert result.run_dir.parent == tmp_path / "cnn"
    assert len(result.history["loss"]) == 2
    assert result.history["loss"][1] < result.history["loss"][0]
    assert result.metrics["test_accuracy"] > 0.85
    assert result.info.num_test == 1000

    images, _ = mnist_batch
    reloaded = keras.models.load_model(result.run_dir / "model.keras")
    np.testing.assert_array_equal(
        result.model.predict(images, verbose=0), reloaded.predict(images, verbose=0)
    )


def test_second_run_gets_new_directory(tmp_path, data_dir):
    config = modelzoo.load_config(
        "autoencoder",
        overrides=[f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "training.epochs=1",
                   "data.train_subset=500", "data.test_subset=200", "training.verbose=0",
                   "callbacks.tensorboard=false", "output.plots=false"],
    )
    first = modelzoo.Trainer(config).run().run_dir
    second = modelzoo.Trainer(config).run().run_dir

    assert first != second
    assert (first / "metrics.json").is_file()
    assert (second / "metrics.json").is_file()


def test_early_stopping_without_validation_is_rejected(tmp_path, data_dir):
    config = modelzoo.load_config(
        "cnn", overrides=[f"data.data_dir={data_dir}", f"output.dir={tmp_path}",
                          "data.validation_fraction=0", "data.train_subset=500"],
    )
    try:
        modelzoo.Trainer(config).run()
    except modelzoo.ConfigError as error:
        assert "data.validation_fraction is 0" in str(error)
    else:
        raise AssertionError("expected ConfigError")
    assert not (tmp_path / "cnn").exists()


def test_gpu_request_without_gpu_is_an_error():
    import tensorflow as tf

    from modelzoo.device import select_device

    if tf.config.list_physical_devices("GPU"):
        assert select_device("gpu") == "/GPU:0"
        return
    with pytest.raises(modelzoo.DeviceError) as raised:
        select_device("gpu")
    assert "TensorFlow sees no GPU" in str(raised.value)
    assert "Visible devices: /physical_device:CPU:0" in str(raised.value)
    assert "--device cpu" in str(raised.value)


def test_config_yaml_records_data_dir_from_environment(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("MODELZOO_DATA_DIR", str(data_dir))
    config = modelzoo.load_config(
        "autoencoder",
        overrides=[f"output.dir={tmp_path}", "training.epochs=1", "data.train_subset=500",
                   "data.test_subset=200", "training.verbose=0", "callbacks.tensorboard=false",
                   "output.plots=false"],
    )
    run_dir = modelzoo.Trainer(config).run().run_dir
    saved = modelzoo.load_config(run_dir / "config.yaml")

    assert config.data.data_dir is None
    assert saved.data.data_dir == str(data_dir)
