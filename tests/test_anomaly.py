"""Sequence autoencoder and reconstruction-error anomaly detection on real ECG5000."""

import json

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo.anomaly import (
    choose_threshold,
    detection_metrics,
    load_anomaly_data,
    roc_auc,
)
from tests.conftest import losses_fall


@pytest.fixture(scope="module")
def ecg_data(data_dir):
    return load_anomaly_data("ucr/ECG5000", normal_class="1", data_dir=data_dir,
                             download=False)


def test_sequence_autoencoder_matches_metadata():
    spec = modelzoo.get_spec("sequence_autoencoder")
    model = modelzoo.build("sequence_autoencoder")

    assert model.count_params() == spec.params
    assert tuple(model.input_shape[1:]) == spec.input_shape
    assert model.output_shape == (None, 140, 1)
    assert model.get_layer("encoder").output_shape == (None, 35, 16)
    assert model.get_layer("decoder").output_shape == (None, 140, 1)


def test_lstm_kind_encodes_one_vector():
    model = modelzoo.build("sequence_autoencoder", kind="lstm", units=32, input_shape=(96, 1))

    assert model.get_layer("encoder").output_shape == (None, 32)
    assert model.output_shape == (None, 96, 1)
    assert [type(layer).__name__ for layer in model.get_layer("decoder").layers[1:]] == [
        "RepeatVector", "LSTM", "TimeDistributed"]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"input_shape": (141, 1)}, ["Series length 141", "divisible by 4", "kind 'lstm'"]),
        ({"kind": "gru"}, ["Unknown kind 'gru'", "'conv' or 'lstm'"]),
        ({"input_shape": (140,)}, ["(steps, channels)", "received (140,)", "(140, 1)"]),
        ({"input_shape": (None, 1), "kind": "lstm"}, ["fixed number of steps"]),
    ],
)
def test_sequence_autoencoder_rejects_bad_arguments(kwargs, words):
    with pytest.raises(modelzoo.ConfigError) as raised:
        modelzoo.build("sequence_autoencoder", **kwargs)

    for word in words:
        assert word in str(raised.value)


def test_conv_training_step_lowers_loss(ecg_data):
    series = ecg_data.train[:128]
    keras.utils.set_random_seed(0)
    before, after = losses_fall(modelzoo.build("sequence_autoencoder"), series, series)

    assert after < before


def test_lstm_training_step_lowers_loss(ecg_data):
    # Every 4th step of real beats (35 steps) keeps the LSTM's trace short.
    series = ecg_data.train[:64, ::4]
    keras.utils.set_random_seed(0)
    model = modelzoo.build("sequence_autoencoder", kind="lstm", units=16, input_shape=(35, 1))
    before, after = losses_fall(model, series, series)

    assert after < before


def test_anomaly_data_trains_on_normal_class_only(ecg_data):
    # ECG5000_TRAIN.tsv contains 292 class-1 series and ECG5000_TEST.tsv 2627
    # class-1 series out of 4500.
    assert len(ecg_data.train) + len(ecg_data.validation) == 292
    assert len(ecg_data.validation) == 29
    assert ecg_data.train.shape[1:] == (140, 1)
    assert ecg_data.test.shape == (4500, 140, 1)
    assert int((~ecg_data.test_anomalous).sum()) == 2627
    assert ecg_data.class_names == ("1", "2", "3", "4", "5")
    np.testing.assert_array_equal(ecg_data.test_anomalous, ecg_data.test_labels != 0)


def test_unknown_normal_class_is_rejected(data_dir):
    with pytest.raises(modelzoo.ConfigError) as raised:
        load_anomaly_data("ucr/ECG5000", normal_class="7", data_dir=data_dir, download=False)

    message = str(raised.value)
    assert "anomaly.normal_class '7'" in message
    assert "1, 2, 3, 4, 5" in message


def test_image_dataset_is_rejected_for_anomalies(data_dir):
    with pytest.raises(modelzoo.ConfigError, match="received dataset 'mnist'.*'ucr/ECG5000'"):
        load_anomaly_data("mnist", normal_class="1", data_dir=data_dir)


def test_threshold_methods():
    errors = np.arange(1, 101, dtype="float64")

    assert choose_threshold(errors, method="quantile", quantile=0.9) == pytest.approx(90.1)
    assert choose_threshold(errors, method="max") == 100.0
    assert choose_threshold(errors, method="mean_std", std_factor=2.0) == pytest.approx(
        50.5 + 2.0 * errors.std())


@pytest.mark.parametrize(
    "errors, kwargs, words",
    [
        ([1.0, 2.0], {"method": "median"}, ["Unknown anomaly threshold method 'median'",
                                            "quantile, mean_std, max"]),
        ([1.0, 2.0], {"quantile": 1.5}, ["anomaly.quantile must be in (0, 1]", "1.5"]),
        ([], {}, ["No normal training series", "anomaly.normal_class"]),
    ],
)
def test_invalid_threshold_is_rejected(errors, kwargs, words):
    with pytest.raises(modelzoo.ConfigError) as raised:
        choose_threshold(np.array(errors), **kwargs)

    for word in words:
        assert word in str(raised.value)


def test_detection_metrics_count_anomalies_as_positives():
    errors = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    anomalous = np.array([False, False, True, True, True, False])
    scores = detection_metrics(errors, anomalous, threshold=0.5)

    assert (scores["true_positives"], scores["false_positives"]) == (2, 1)
    assert (scores["true_negatives"], scores["false_negatives"]) == (2, 1)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["accuracy"] == pytest.approx(4 / 6)


def test_roc_auc_matches_pair_count():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=60).astype("float64")  # many ties
    positives = rng.random(60) < 0.4
    pairs = [(p > n) + 0.5 * (p == n) for p in scores[positives] for n in scores[~positives]]

    assert roc_auc(scores, positives) == pytest.approx(np.mean(pairs))
    assert roc_auc(scores, np.zeros(60, bool)) is None


def test_anomaly_run_writes_metrics_and_plots(tmp_path, data_dir, ecg_data):
    config = modelzoo.load_config(
        "sequence_autoencoder",
        overrides=[f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "training.epochs=3",
                   "training.verbose=0", "callbacks.tensorboard=false"],
    )
    result = modelzoo.Trainer(config).run()
    metrics = json.loads((result.run_dir / "metrics.json").read_text())

    for key in ("test_precision", "test_recall", "test_f1", "test_roc_auc", "test_loss"):
        assert 0.0 <= metrics[key] <= 1.5, key
    anomalies = int(ecg_data.test_anomalous.sum())
    assert metrics["test_true_positives"] + metrics["test_false_negatives"] == anomalies
    assert result.info.num_test == 4500
    assert metrics["threshold_method"] == "quantile"
    for name in ("errors.png", "reconstructions.png", "curves.png"):
        path = result.run_dir / name
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:4] == b"\x89PNG"


def test_anomaly_run_rejects_noise(tmp_path, data_dir):
    config = modelzoo.load_config(
        "sequence_autoencoder",
        overrides=[f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "data.noise=gaussian",
                   "data.noise_level=0.1"],
    )
    with pytest.raises(modelzoo.ConfigError) as raised:
        modelzoo.Trainer(config).run()

    assert "data.noise='gaussian' is not supported for anomaly detection" in str(raised.value)
    assert "Set data.noise to null" in str(raised.value)
    assert not (tmp_path / "sequence_autoencoder").exists()
