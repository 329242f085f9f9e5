"""Image autoencoders, the VAE layers, saving and loading, on real MNIST."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo.models.vae import KLDivergence, Sampling
from tests.conftest import losses_fall


@pytest.mark.parametrize("name", ["conv_autoencoder", "vae"])
def test_image_autoencoder_matches_metadata(name):
    spec = modelzoo.get_spec(name)
    model = modelzoo.build(name)

    assert model.count_params() == spec.params
    assert tuple(model.input_shape[1:]) == spec.input_shape
    assert model.output_shape == (None, 28, 28, 1)
    assert model.optimizer is not None


def test_conv_autoencoder_shapes():
    model = modelzoo.build("conv_autoencoder")

    assert model.get_layer("encoder").output_shape == (None, 7, 7, 32)
    assert model.get_layer("decoder").output_shape == (None, 28, 28, 1)
    assert model.loss == "binary_crossentropy"
    layers = [type(layer).__name__ for layer in model.get_layer("decoder").layers[1:]]
    assert layers == ["Conv2DTranspose", "Conv2DTranspose", "Conv2D"]


def test_conv_autoencoder_dense_bottleneck():
    model = modelzoo.build("conv_autoencoder", filters=(16, 32), latent_dim=10)

    assert model.get_layer("encoder").output_shape == (None, 10)
    assert model.get_layer("decoder").input_shape == (None, 10)
    assert model.output_shape == (None, 28, 28, 1)


def test_conv_autoencoder_rejects_odd_size():
    with pytest.raises(modelzoo.ConfigError) as raised:
        modelzoo.build("conv_autoencoder", input_shape=(30, 30, 1))

    message = str(raised.value)
    assert "(30, 30, 1)" in message
    assert "divisible by 4" in message
    assert "fewer entries in filters" in message


def test_conv_autoencoder_rejects_flat_input():
    with pytest.raises(modelzoo.ConfigError, match=r"\(784,\).*\(28, 28, 1\)"):
        modelzoo.build("conv_autoencoder", input_shape=(784,))


def test_vae_rejects_empty_filters():
    with pytest.raises(modelzoo.ConfigError, match="at least one encoder block"):
        modelzoo.build("vae", filters=())


@pytest.mark.parametrize(
    "loss, expected",
    [("mse", ["binary_crossentropy"]), ("binary_crossentropy", ["mse"]),
     (keras.losses.Huber(), ["binary_crossentropy", "mse"])],
)
def test_extra_reconstruction_metric(loss, expected, mnist_batch):
    images, _ = mnist_batch
    model = modelzoo.build("conv_autoencoder", loss=loss)
    values = model.evaluate(images[:64], images[:64], verbose=0, return_dict=True)

    assert sorted(name for name in values if name != "loss") == expected


@pytest.mark.parametrize("name", ["conv_autoencoder", "vae"])
def test_training_step_lowers_loss(name, mnist_batch):
    images = mnist_batch[0][:64]
    keras.utils.set_random_seed(0)
    before, after = losses_fall(modelzoo.build(name), images, images)

    assert after < before


def test_vae_encoder_and_decoder():
    model = modelzoo.build("vae", latent_dim=3)
    encoder = model.get_layer("encoder")
    decoder = model.get_layer("decoder")
    samples = decoder.predict(np.random.default_rng(0).normal(size=(5, 3)), verbose=0)

    assert [tuple(shape) for shape in encoder.output_shape] == [(None, 3), (None, 3)]
    assert samples.shape == (5, 28, 28, 1)
    assert samples.min() >= 0.0
    assert samples.max() <= 1.0


def test_vae_loss_is_bce_plus_scaled_kl(mnist_batch):
    images, _ = mnist_batch
    batch = images[:128]
    keras.utils.set_random_seed(1)
    model = modelzoo.build("vae", beta=4.0, metrics=[keras.metrics.BinaryCrossentropy(name="bce")])
    model.fit(batch, batch, epochs=1, batch_size=64, verbose=0)

    values = model.evaluate(batch, batch, batch_size=128, verbose=0, return_dict=True)
    z_mean, z_log_var = model.get_layer("encoder").predict(batch, verbose=0)
    kl = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=-1).mean()

    assert kl > 0
    assert values["loss"] - values["bce"] == pytest.approx(4.0 * kl / 784, rel=1e-3, abs=1e-6)


def test_sampling_draws_only_in_training():
    layer = Sampling(seed=3)
    z_mean = np.zeros((1000, 2), "float32")
    z_log_var = np.full((1000, 2), np.log(4.0), "float32")

    inference = np.asarray(layer([z_mean, z_log_var], training=False))
    drawn = np.asarray(layer([z_mean, z_log_var], training=True))

    np.testing.assert_array_equal(inference, z_mean)
    assert drawn.std() == pytest.approx(2.0, rel=0.1)


def test_custom_layers_round_trip_config():
    sampling = Sampling(seed=7, name="draw")
    divergence = KLDivergence(weight=0.25, name="kl")

    assert Sampling.from_config(sampling.get_config()).seed == 7
    assert Sampling.from_config(sampling.get_config()).name == "draw"
    assert KLDivergence.from_config(divergence.get_config()).weight == 0.25
    assert keras.saving.get_registered_name(Sampling) == "modelzoo>Sampling"
    assert keras.saving.get_registered_name(KLDivergence) == "modelzoo>KLDivergence"


def test_vae_loads_in_fresh_interpreter(tmp_path, mnist_batch):
    images, _ = mnist_batch
    keras.utils.set_random_seed(2)
    model = modelzoo.build("vae", seed=5)
    model.fit(images[:128], images[:128], epochs=1, batch_size=64, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    np.save(tmp_path / "images.npy", images[:100])

    script = textwrap.dedent(f"""
        import numpy as np
        import modelzoo
        import keras

        images = np.load({str(tmp_path / "images.npy")!r})
        # Plain Keras loads first: Keras was imported after modelzoo and no
        # modelzoo call has run yet, so only the import hook registered the layers.
        for loaded, prefix in ((keras.saving.load_model({str(path)!r}), "keras"),
                               (modelzoo.load_model({str(path)!r}), "helper")):
            z_mean, z_log_var = loaded.get_layer("encoder").predict(images, verbose=0)
            np.save({str(tmp_path)!r} + f"/{{prefix}}_means.npy", z_mean)
            np.save({str(tmp_path)!r} + f"/{{prefix}}_outputs.npy", loaded.predict(images, verbose=0))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=240)
    assert completed.returncode == 0, completed.stderr[-2000:]

    expected_means = model.get_layer("encoder").predict(images[:100], verbose=0)[0]
    expected_outputs = model.predict(images[:100], verbose=0)
    for prefix in ("helper", "keras"):
        means = np.load(tmp_path / f"{prefix}_means.npy")
        outputs = np.load(tmp_path / f"{prefix}_outputs.npy")
        assert np.abs(means - expected_means).max() <= 1e-6
        assert np.abs(outputs - expected_outputs).max() <= 1e-6


def test_load_model_round_trips_conv_autoencoder(tmp_path, mnist_batch):
    images, _ = mnist_batch
    model = modelzoo.build("conv_autoencoder")
    model.save(tmp_path / "conv.keras")
    loaded = modelzoo.load_model(tmp_path / "conv.keras")

    np.testing.assert_array_equal(model.predict(images[:32], verbose=0),
                                  loaded.predict(images[:32], verbose=0))
    assert loaded.get_layer("encoder").output_shape == (None, 7, 7, 32)


def test_load_model_missing_file(tmp_path):
    path = tmp_path / "absent.keras"
    with pytest.raises(modelzoo.ModelFileError) as raised:
        modelzoo.load_model(path)

    assert f"Model file not found: {path}" in str(raised.value)
    assert isinstance(raised.value, OSError)


def test_load_model_wrong_suffix(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"not a model")
    with pytest.raises(modelzoo.ModelFileError, match=r"suffix '\.h5'.*model\.save"):
        modelzoo.load_model(path)


def test_load_model_truncated_archive(tmp_path):
    path = tmp_path / "broken.keras"
    modelzoo.build("autoencoder").save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(modelzoo.ModelFileError, match=r"broken\.keras is not a valid .keras archive"):
        modelzoo.load_model(path)
