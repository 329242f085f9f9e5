"""Sequence builders on real UCR and IMDB batches, and masking."""

import keras
import numpy as np
import pytest

import modelzoo
from tests.conftest import losses_fall


@pytest.fixture(scope="module")
def gunpoint(data_dir):
    from modelzoo.data.ucr import load_ucr_arrays

    arrays = load_ucr_arrays("GunPoint", data_dir, download=False)
    return arrays.x_train[..., None], arrays.y_train


@pytest.mark.parametrize("name", ["fcn", "lstm_fcn", "text_lstm"])
def test_default_build_matches_metadata(name):
    spec = modelzoo.get_spec(name)
    model = modelzoo.build(name)
    assert model.count_params() == spec.params
    assert tuple(model.input_shape[1:]) == spec.input_shape
    assert model.optimizer is not None


def test_lstm_fcn_branches():
    model = modelzoo.build("lstm_fcn", input_shape=(140, 1), num_classes=5)
    assert model.output_shape == (None, 5)
    assert model.loss == "sparse_categorical_crossentropy"
    assert model.get_layer("lstm_pool").pool_size == (4,)
    assert model.get_layer("lstm").units == 64
    assert model.get_layer("bn1").momentum == 0.9
    assert [model.get_layer(f"conv{index}").filters for index in (1, 2, 3)] == [32, 64, 64]


def test_lstm_fcn_without_lstm_is_fcn():
    model = modelzoo.build("lstm_fcn", lstm_units=0)
    names = {layer.name for layer in model.layers}
    assert "lstm" not in names
    assert "pool3" in names
    assert model.output_shape == (None, 1)


def test_fcn_keeps_full_length():
    model = modelzoo.build("fcn", input_shape=(150, 1), num_classes=3)
    names = {layer.name for layer in model.layers}
    assert not names & {"lstm", "pool1", "pool2", "pool3"}
    assert model.get_layer("relu3").output.shape == (None, 150, 64)
    assert [model.get_layer(f"conv{index}").kernel_size for index in (1, 2, 3)] == [(3,)] * 3
    assert model.get_layer("bn1").momentum == 0.99
    assert model.output_shape == (None, 3)
    assert model.name == "fcn"


def test_fcn_learns_gunpoint(gunpoint):
    x, y = gunpoint
    keras.utils.set_random_seed(0)
    model = modelzoo.build("fcn", input_shape=(150, 1), filters=(16, 16, 16))
    before, after = losses_fall(model, x[:64], y[:64], steps=10)
    assert after < before


def test_lstm_fcn_rejects_mismatched_kernels():
    with pytest.raises(ValueError, match=r"same length; received \[8, 16\] and \[3\]"):
        modelzoo.build("lstm_fcn", filters=(8, 16), kernel_sizes=(3,))


def test_lstm_fcn_learns_gunpoint(gunpoint):
    x, y = gunpoint
    keras.utils.set_random_seed(0)
    model = modelzoo.build("lstm_fcn", input_shape=(150, 1), filters=(16, 32, 16), lstm_units=16)
    # Enough steps for the BatchNormalization moving statistics to follow the data.
    before, after = losses_fall(model, x, y, steps=30)
    assert after < before


def test_lstm_mask_ignores_padding():
    keras.utils.set_random_seed(0)
    model = modelzoo.build("lstm", input_shape=(None, 2), mask_value=-5.0, num_classes=3)
    sequence = np.random.default_rng(0).normal(size=(1, 7, 2)).astype("float32")
    padded = np.concatenate([sequence, np.full((1, 5, 2), -5.0, "float32")], axis=1)
    np.testing.assert_allclose(model.predict(sequence, verbose=0), model.predict(padded, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["last", "average"])
def test_text_lstm_mask_ignores_padding(pooling):
    keras.utils.set_random_seed(0)
    model = modelzoo.build("text_lstm", input_shape=(None,), vocab_size=50, pooling=pooling)
    tokens = np.array([[5, 9, 13, 2, 44]], dtype="int32")
    padded = np.concatenate([tokens, np.zeros((1, 20), "int32")], axis=1)
    np.testing.assert_allclose(model.predict(tokens, verbose=0), model.predict(padded, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_text_lstm_learns_imdb_batch(data_dir):
    from modelzoo.data.imdb import clean_review, make_text_vectorizer, vectorize

    folder = data_dir / "imdb/aclImdb/test"
    paths = sorted((folder / "neg").glob("*.txt"))[:64] + sorted((folder / "pos").glob("*.txt"))[:64]
    batch_texts = [clean_review(path.read_text(encoding="utf-8")) for path in paths]
    labels = np.array([0] * 64 + [1] * 64, dtype="int32")
    vectorizer = make_text_vectorizer(vocab_size=2000, sequence_length=60)
    vectorizer.adapt(batch_texts)
    x = vectorize(vectorizer, batch_texts)
    keras.utils.set_random_seed(0)
    model = modelzoo.build("text_lstm", input_shape=(60,), vocab_size=2000, embedding_dim=16, units=16)
    before, after = losses_fall(model, x, labels, steps=10)
    assert after < before


def test_text_lstm_average_pooling_layers():
    model = modelzoo.build("text_lstm", input_shape=(40,), vocab_size=50, pooling="average")
    assert model.get_layer("bidirectional").output.shape == (None, 40, 128)
    assert model.get_layer("average_pool").output.shape == (None, 128)


def test_text_lstm_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="pooling must be 'last' or 'average'; received 'max'"):
        modelzoo.build("text_lstm", vocab_size=50, pooling="max")


def test_text_lstm_rejects_tiny_vocabulary():
    with pytest.raises(ValueError, match="vocab_size must be >= 3.*received 2"):
        modelzoo.build("text_lstm", vocab_size=2)
