"""`modelzoo predict` on real MNIST digits saved as PNG, JPEG and .npy files."""

import json

import numpy as np
import pytest
from PIL import Image

from modelzoo import cli
from modelzoo.artifacts import load_run
from modelzoo.predict import InputError, predict_inputs, read_array, read_image


@pytest.fixture(scope="module")
def loaded_cnn(cnn_run):
    return load_run(cnn_run)


def test_read_image_keeps_28x28_png_exact(mnist_arrays, tmp_path):
    digit = mnist_arrays.x_test[0]
    path = tmp_path / "digit.png"
    Image.fromarray(digit).save(path)

    image = read_image(path, (28, 28, 1))

    assert image.shape == (28, 28, 1)
    np.testing.assert_array_equal(image[..., 0], digit / np.float32(255.0))


def test_read_image_resizes_and_inverts_dark_on_light(mnist_arrays, tmp_path):
    digit = mnist_arrays.x_test[0]
    path = tmp_path / "photo.jpg"
    Image.fromarray(255 - digit).resize((210, 160), Image.Resampling.BILINEAR).save(path, quality=95)

    image = read_image(path, (784,))
    kept = read_image(path, (784,), invert="no")

    assert image.shape == (784,)
    assert np.abs(image - digit.reshape(784) / 255.0).mean() < 0.1
    np.testing.assert_allclose(kept, 1.0 - image, atol=1e-6)


def test_predict_matches_model_on_npy_batch(loaded_cnn, mnist_arrays, tmp_path):
    batch = mnist_arrays.x_test[:4]
    path = tmp_path / "batch.npy"
    np.save(path, batch)

    predictions = predict_inputs(loaded_cnn, [str(path)])

    expected = loaded_cnn.model.predict(batch[..., None] / np.float32(255.0), verbose=0)
    assert [item.input for item in predictions] == [f"{path}[{index}]" for index in range(4)]
    assert [item.class_index for item in predictions] == expected.argmax(axis=1).tolist()
    np.testing.assert_allclose([item.probability for item in predictions], expected.max(axis=1),
                               rtol=1e-5)
    assert all(item.label == str(item.class_index) for item in predictions)
    assert sum(predictions[0].probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_predict_command_json_for_png(cnn_run, mnist_arrays, tmp_path, capsys):
    path = tmp_path / "large.png"
    Image.fromarray(mnist_arrays.x_test[1]).resize((100, 100)).save(path)

    status = cli.main(["predict", str(cnn_run), str(path), "--json"])

    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert rows[0]["input"] == str(path)
    assert rows[0]["label"] in [str(digit) for digit in range(10)]
    assert 0.0 < rows[0]["probability"] <= 1.0


def test_predict_command_table(cnn_run, mnist_arrays, tmp_path, capsys):
    path = tmp_path / "one.npy"
    np.save(path, mnist_arrays.x_test[2].astype("float32") / 255.0)

    status = cli.main(["predict", str(cnn_run), str(path)])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0].split() == ["INPUT", "CLASS", "PROBABILITY"]
    assert lines[1].startswith(str(path))


def test_npy_of_wrong_shape_is_rejected(tmp_path):
    path = tmp_path / "wrong.npy"
    np.save(path, np.zeros((3, 30, 30)))

    with pytest.raises(InputError, match=r"shape \(3, 30, 30\).*does not fit the model input \(28, 28, 1\)"):
        read_array(path, (28, 28, 1))


def test_bad_inputs_are_reported(loaded_cnn, tmp_path):
    table = tmp_path / "values.csv"
    table.write_text("1,2,3\n")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")

    with pytest.raises(InputError, match="Input file not found: .*missing.png"):
        predict_inputs(loaded_cnn, [str(tmp_path / "missing.png")])
    with pytest.raises(InputError, match=r"Unsupported input .*values\.csv: use \.png"):
        predict_inputs(loaded_cnn, [str(table)])
    with pytest.raises(InputError, match=r"Cannot read image .*broken\.png"):
        predict_inputs(loaded_cnn, [str(broken)])
    with pytest.raises(InputError, match=r"takes numeric input of shape \(28, 28, 1\), not text"):
        predict_inputs(loaded_cnn, [], texts=["a great film"])


def test_predict_without_inputs_exits_2(cnn_run, capsys):
    assert cli.main(["predict", str(cnn_run)]) == 2
    assert "No inputs given" in capsys.readouterr().err


def test_predict_text_with_string_input_model(data_dir, tmp_path):
    import keras

    reviews = sorted((data_dir / "imdb" / "aclImdb" / "test" / "pos").glob("*.txt"))[:2]
    texts = [path.read_text(encoding="utf-8") for path in reviews]
    vectorize = keras.layers.TextVectorization(max_tokens=200, output_sequence_length=32)
    vectorize.adapt(texts)
    inputs = keras.Input(shape=(1,), dtype="string")
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(200, 4)(vectorize(inputs)))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden), name="text")
    model.save(tmp_path / "text.keras")
    loaded = load_run(tmp_path / "text.keras")

    predictions = predict_inputs(loaded, [str(reviews[0])], texts=[texts[1]])

    import tensorflow as tf

    expected = model.predict(tf.constant([[text] for text in texts]), verbose=0)[:, 0]
    assert [item.input for item in predictions] == [str(reviews[0]), "text:" + texts[1][:30]]
    assert [item.class_index for item in predictions] == (expected >= 0.5).astype(int).tolist()
    np.testing.assert_allclose([item.probabilities["1"] for item in predictions], expected,
                               rtol=1e-5)
    np.save(tmp_path / "numbers.npy", np.zeros(3))
    with pytest.raises(InputError, match=r"takes text, so .*\.npy must be a \.txt file"):
        predict_inputs(loaded, [str(tmp_path / "numbers.npy")])
