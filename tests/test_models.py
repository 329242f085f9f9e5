"""Builders and the registry, on real MNIST batches."""

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo.errors import RegistryError, UnknownModelError
from tests.conftest import losses_fall


@pytest.mark.parametrize("name", ["cnn", "lstm", "autoencoder"])
def test_default_build_matches_metadata(name):
    spec = modelzoo.get_spec(name)
    model = modelzoo.build(name)

    assert isinstance(model, keras.Model)
    assert model.count_params() == spec.params
    assert tuple(model.input_shape[1:]) == spec.input_shape
    assert model.optimizer is not None


def test_cnn_is_the_tutorial_architecture():
    model = modelzoo.build("cnn")
    layers = [type(layer).__name__ for layer in model.layers[1:]]

    assert layers == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert model.count_params() == 225_034
    assert model.output_shape == (None, 10)
    assert model.loss == "sparse_categorical_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_cnn_arguments_change_the_model():
    model = modelzoo.build("cnn", filters=(16, 32), dense_units=64, num_classes=5, dropout=0.5,
                           optimizer="sgd", learning_rate=0.05)

    assert model.output_shape == (None, 5)
    assert model.get_layer("conv1").filters == 16
    assert model.get_layer("dense").units == 64
    assert model.get_layer("dropout1").rate == 0.5
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)


def test_lstm_heads_follow_num_classes():
    binary = modelzoo.build("lstm", input_shape=(28, 28))
    multi = modelzoo.build("lstm", input_shape=(28, 28), num_classes=10)

    assert binary.output_shape == (None, 1)
    assert binary.loss == "binary_crossentropy"
    assert multi.output_shape == (None, 10)
    assert multi.loss == "sparse_categorical_crossentropy"
    assert [layer.units for layer in binary.layers if isinstance(layer, keras.layers.LSTM)] == [128, 64]


def test_lstm_parameter_count_ignores_length():
    assert modelzoo.build("lstm", input_shape=(28, 1)).count_params() == 116_033
    assert modelzoo.build("lstm", input_shape=(None, 1)).count_params() == 116_033


def test_autoencoder_exposes_encoder_and_decoder():
    model = modelzoo.build("autoencoder")
    encoder = model.get_layer("encoder")
    decoder = model.get_layer("decoder")

    assert model.loss == "mse"
    assert encoder.output_shape == (None, 64)
    assert decoder.output_shape == (None, 784)
    assert model.count_params() == 101_200


def test_autoencoder_accepts_image_shape():
    model = modelzoo.build("autoencoder", input_shape=(28, 28, 1), latent_dim=16)

    assert model.output_shape == (None, 28, 28, 1)
    assert model.get_layer("encoder").output_shape == (None, 16)


def test_cnn_training_step_lowers_loss(mnist_batch):
    images, labels = mnist_batch
    keras.utils.set_random_seed(0)
    before, after = losses_fall(modelzoo.build("cnn"), images, labels)

    assert after < before


def test_lstm_training_step_lowers_loss(mnist_batch):
    # Real MNIST rows as 28 steps of 28 features; label: digit >= 5.
    images, labels = mnist_batch
    keras.utils.set_random_seed(0)
    model = modelzoo.build("lstm", input_shape=(28, 28))
    before, after = losses_fall(model, images[..., 0], (labels >= 5).astype("float32"))

    assert after < before


def test_autoencoder_training_step_lowers_loss(mnist_batch):
    images, _ = mnist_batch
    flat = images.reshape(len(images), 784)
    keras.utils.set_random_seed(0)
    before, after = losses_fall(modelzoo.build("autoencoder"), flat, flat)

    assert after < before


def test_unknown_model_suggests_closest():
    with pytest.raises(UnknownModelError) as raised:
        modelzoo.build("cnnn")

    message = str(raised.value)
    assert "Unknown model 'cnnn'" in message
    assert "Did you mean 'cnn'?" in message
    assert "autoencoder, cnn, conv_autoencoder, fcn, lstm" in message


def test_registering_a_name_twice_fails():
    with pytest.raises(RegistryError, match="'cnn' is already registered"):
        modelzoo.register_model("cnn", task="image_classification", input_shape=(28, 28, 1),
                                dataset="mnist", params=1)(lambda: None)


def test_register_model_decorator_adds_a_model():
    @modelzoo.register_model("tiny_dense", task="image_classification",
                             input_shape=(784,), dataset="mnist", params=7_850)
    def tiny_dense():
        """A single softmax layer."""
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    try:
        assert "tiny_dense" in modelzoo.list_models()
        assert modelzoo.get_spec("tiny_dense").description == "A single softmax layer."
        assert modelzoo.build("tiny_dense").count_params() == 7_850
    finally:
        modelzoo.unregister_model("tiny_dense")
    assert "tiny_dense" not in modelzoo.list_models()


def test_list_models_filters_by_pattern():
    assert modelzoo.list_models() == ["autoencoder", "cnn", "conv_autoencoder", "fcn", "lstm",
                                      "lstm_fcn", "sequence_autoencoder", "text_lstm", "vae"]
    assert modelzoo.list_models("*autoencoder") == ["autoencoder", "conv_autoencoder",
                                                    "sequence_autoencoder"]
    assert modelzoo.list_models("*n") == ["cnn", "fcn", "lstm_fcn"]


def test_unknown_optimizer_is_rejected():
    with pytest.raises(modelzoo.ConfigError, match="Unknown optimizer 'adamm'"):
        modelzoo.build("cnn", optimizer="adamm")


def test_saved_model_predicts_identically(tmp_path, mnist_batch):
    images, _ = mnist_batch
    model = modelzoo.build("cnn")
    model.save(tmp_path / "cnn.keras")
    reloaded = keras.models.load_model(tmp_path / "cnn.keras")

    np.testing.assert_array_equal(model.predict(images, verbose=0), reloaded.predict(images, verbose=0))


def test_cnn_recipe_options_build_expected_layers(mnist_batch):
    model = modelzoo.build("cnn", convs_per_block=2, padding="same", batch_norm=True,
                           random_translation=0.1, random_rotation=0.03)
    names = [layer.name for layer in model.layers]

    assert names[1:3] == ["random_translation", "random_rotation"]
    assert {"conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv1_1_bn", "dense_bn"} <= set(names)
    assert model.get_layer("conv1_1").use_bias is False
    assert model.get_layer("pool2").output.shape[1:3] == (7, 7)
    images, labels = mnist_batch
    before, after = losses_fall(model, images[:128], labels[:128], steps=5)
    assert after < before


def test_cnn_augmentation_only_in_training(mnist_batch):
    model = modelzoo.build("cnn", random_translation=0.2, random_rotation=0.1)
    augmentation = keras.Model(model.input, model.get_layer("random_rotation").output)
    images = mnist_batch[0][:16]

    unchanged = augmentation(images, training=False)
    changed = augmentation(images, training=True)

    np.testing.assert_array_equal(np.asarray(unchanged), images)
    assert not np.allclose(np.asarray(changed), images)


def test_cnn_rejects_zero_convs_per_block():
    with pytest.raises(ValueError, match="convs_per_block must be >= 1; received 0"):
        modelzoo.build("cnn", convs_per_block=0)
