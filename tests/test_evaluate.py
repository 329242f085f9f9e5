"""`modelzoo evaluate` on a real CNN run, and its metric helpers."""

import json
import shutil

import numpy as np
import pytest

import modelzoo
from modelzoo import cli
from modelzoo.artifacts import RunNotFoundError
from modelzoo.evaluate import confusion_matrix, evaluate_run, per_class_metrics, predicted_classes


def test_confusion_matrix_counts_and_per_class_metrics():
    true = [0, 0, 1, 1, 1, 2]
    predicted = [0, 1, 1, 1, 0, 1]

    matrix = confusion_matrix(true, predicted, 3)
    rows = per_class_metrics(matrix, ["a", "b", "c"])

    np.testing.assert_array_equal(matrix, [[1, 1, 0], [1, 2, 0], [0, 1, 0]])
    assert rows[0]["precision"] == pytest.approx(1 / 2)
    assert rows[1]["precision"] == pytest.approx(2 / 4)
    assert rows[1]["recall"] == pytest.approx(2 / 3)
    assert rows[2]["precision"] == 0.0
    assert rows[2]["recall"] == 0.0
    assert rows[2]["f1"] == 0.0
    assert [row["support"] for row in rows] == [2, 3, 1]


def test_predicted_classes_reads_sigmoid_unit():
    classes, probabilities = predicted_classes(np.array([[0.9], [0.2], [0.5]]))

    assert classes.tolist() == [1, 0, 1]
    np.testing.assert_allclose(probabilities, [0.9, 0.8, 0.5])


def test_evaluate_run_writes_metrics_and_plots(cnn_run):
    evaluation = evaluate_run(cnn_run)
    metrics = evaluation.metrics

    matrix = np.array(metrics["confusion_matrix"])
    assert metrics["num_test"] == 300
    assert matrix.sum() == 300
    assert metrics["accuracy"] == pytest.approx(np.trace(matrix) / 300)
    assert metrics["accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert metrics["accuracy"] > 0.3  # chance is 0.1
    assert sum(row["support"] for row in metrics["per_class"]) == 300
    assert metrics["misclassified"] == 300 - np.trace(matrix)
    for name in ("evaluation.json", "confusion_matrix.png", "misclassified.png", "report.html"):
        assert (cnn_run / name).is_file(), name
    assert json.loads((cnn_run / "evaluation.json").read_text())["dataset"] == "mnist"


def test_evaluate_command_prints_json(cnn_run, capsys):
    status = cli.main(["evaluate", str(cnn_run), "--json", "--test-subset", "100",
                       "--output-dir", str(cnn_run / "evaluation-100")])

    metrics = json.loads(capsys.readouterr().out)
    assert status == 0
    assert metrics["num_test"] == 100
    assert len(metrics["per_class"]) == 10


def test_evaluate_missing_run_is_reported(tmp_path, capsys):
    missing = tmp_path / "no-such-run"

    with pytest.raises(RunNotFoundError, match="No run directory or model file at .*no-such-run"):
        evaluate_run(missing)
    assert cli.main(["evaluate", str(missing)]) == 2
    assert "error: No run directory or model file" in capsys.readouterr().err


def test_evaluate_bare_model_needs_dataset(cnn_run, tmp_path):
    bare = tmp_path / "bare.keras"
    shutil.copy(cnn_run / "model.keras", bare)

    with pytest.raises(modelzoo.ConfigError, match="Pass --dataset"):
        evaluate_run(bare)


def test_evaluate_rejects_non_keras_file(tmp_path):
    weights = tmp_path / "model.h5"
    weights.write_bytes(b"not a model")

    with pytest.raises(RunNotFoundError, match=r"model\.h5 is not a \.keras model file"):
        evaluate_run(weights)


def test_task_of_reads_model_shapes():
    import keras

    from modelzoo.artifacts import task_of

    inputs = keras.Input(shape=(1,))
    one_unit = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))

    assert task_of(modelzoo.build("autoencoder")) == "reconstruction"
    assert task_of(modelzoo.build("cnn")) == "classification"
    assert task_of(modelzoo.build("lstm", input_shape=(28, 28), num_classes=2)) == "classification"
    assert task_of(one_unit) == "classification"
