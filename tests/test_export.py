"""Export round trips: each format reloaded with its own runtime and compared with Keras."""

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo import cli
from modelzoo.export import (
    DEFAULT_TOLERANCE,
    FORMATS,
    OUTPUT_NAMES,
    export_and_verify,
    export_run,
    has_recurrent_layer,
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_cnn_run_exports_round_trip(cnn_run, fmt):
    result = export_run(cnn_run, fmt, num_examples=32)

    assert result.path.exists()
    assert result.path.parent == cnn_run / "export"
    assert result.num_examples == 32
    assert result.max_abs_diff <= DEFAULT_TOLERANCE
    assert result.passed


@pytest.mark.parametrize("fmt", FORMATS)
def test_lstm_and_autoencoder_export_round_trip(fmt, mnist_batch, tmp_path):
    images, _ = mnist_batch
    cases = {
        "lstm": (modelzoo.build("lstm", input_shape=(28, 28), num_classes=10),
                 images[:16, :, :, 0]),
        "autoencoder": (modelzoo.build("autoencoder"), images[:16].reshape(16, 784)),
    }
    for name, (model, inputs) in cases.items():
        result = export_and_verify(model, fmt, tmp_path / name / OUTPUT_NAMES[fmt], inputs)

        assert result.max_abs_diff <= DEFAULT_TOLERANCE, name
        assert result.passed, name


def test_recurrent_layers_are_detected():
    assert has_recurrent_layer(modelzoo.build("lstm", input_shape=(28, 28), num_classes=10))
    assert has_recurrent_layer(modelzoo.build("lstm", input_shape=(28, 28), bidirectional=True))
    assert not has_recurrent_layer(modelzoo.build("cnn"))
    assert not has_recurrent_layer(modelzoo.build("autoencoder"))


def test_export_above_tolerance_exits_1(cnn_run, tmp_path, capsys):
    status = cli.main(["export", str(cnn_run), "--format", "tflite", "--tolerance", "0",
                       "--num-examples", "16", "--output", str(tmp_path / "strict.tflite")])

    captured = capsys.readouterr()
    assert status == 1
    assert "max abs difference vs Keras" in captured.out
    assert "more than the tolerance 0" in captured.err


def test_export_rejects_unknown_format_and_bad_tolerance(cnn_run):
    with pytest.raises(modelzoo.ConfigError, match="Unknown export format 'pb'. Use one of: keras"):
        export_run(cnn_run, "pb")
    with pytest.raises(modelzoo.ConfigError, match=r"tolerance must be >= 0; received -1"):
        export_run(cnn_run, "keras", tolerance=-1)


def test_export_path_needs_format_suffix(tmp_path):
    model = modelzoo.build("autoencoder")

    with pytest.raises(modelzoo.ConfigError, match=r"tflite export path must end with \.tflite.*model\.tflite"):
        export_and_verify(model, "tflite", tmp_path / "model.bin", np.zeros((1, 784), "float32"))


def test_export_command_prints_difference(cnn_run, tmp_path, capsys):
    status = cli.main(["export", str(cnn_run), "--format", "keras", "--num-examples", "8",
                       "--output", str(tmp_path / "copy.keras")])

    output = capsys.readouterr().out
    assert status == 0
    assert f"Exported keras to {tmp_path / 'copy.keras'}" in output
    assert "max abs difference vs Keras: 0 on 8 test examples" in output
    reloaded = keras.models.load_model(tmp_path / "copy.keras")
    assert reloaded.count_params() == modelzoo.get_spec("cnn").params


def test_keras_litert_export_of_lstm_needs_flex_ops(tmp_path):
    # Pins why export_model converts recurrent models itself: Keras's own LiteRT
    # export of an LSTM keeps TensorFlow ops that tf.lite.Interpreter rejects.
    import tensorflow as tf

    model = modelzoo.build("lstm", input_shape=(28, 28), num_classes=10)
    path = tmp_path / "keras-litert.tflite"
    model.export(str(path), format="litert", verbose=False)
    interpreter = tf.lite.Interpreter(model_path=str(path))

    with pytest.raises(RuntimeError, match=r"Select TensorFlow op\(s\).*not supported by this interpreter"):
        interpreter.allocate_tensors()
