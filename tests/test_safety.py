"""Saved models load safely in a fresh interpreter; backups never unpickle."""

import subprocess
import sys

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo.errors import ConfigError
from modelzoo.resume import RunBackup

LOADER = """
import sys
import keras
import numpy as np
import modelzoo

for path, inputs_path in zip(sys.argv[1::2], sys.argv[2::2]):
    model = keras.models.load_model(path, safe_mode=True)
    inputs = np.load(inputs_path, allow_pickle=False)
    np.save(inputs_path + ".out.npy", model.predict(inputs, verbose=0))
    print("loaded", model.name)
"""


def test_every_model_loads_in_fresh_interpreter(tmp_path):
    arguments, expected = [], {}
    for name in modelzoo.list_models():
        model = modelzoo.build(name)
        inputs = np.random.default_rng(0).random((4, *model.input_shape[1:]), dtype=np.float32)
        model_path = tmp_path / f"{name}.keras"
        inputs_path = tmp_path / f"{name}.inputs.npy"
        model.save(model_path)
        np.save(inputs_path, inputs)
        arguments += [str(model_path), str(inputs_path)]
        expected[name] = model.predict(inputs, verbose=0)

    result = subprocess.run([sys.executable, "-c", LOADER, *arguments],
                            capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr[-3000:]
    for name, outputs in expected.items():
        assert f"loaded {name}" in result.stdout
        reloaded = np.load(tmp_path / f"{name}.inputs.npy.out.npy")
        np.testing.assert_allclose(reloaded, outputs, rtol=1e-5, atol=1e-6, err_msg=name)


def test_backup_with_pickled_array_is_rejected(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    # An object array can only be stored by pickling it.
    np.savez(backup_dir / "best.weights.npz", w0=np.array([{"payload": 1}], dtype=object))
    early = keras.callbacks.EarlyStopping(restore_best_weights=True)
    backup = RunBackup(tmp_path, early_stopping=early)

    with pytest.raises(ConfigError) as raised:
        backup._restore_callbacks({"early_stopping": {
            "wait": 0, "best": 1.0, "best_epoch": 0, "stopped_epoch": 0,
            "best_weights": "best.weights.npz",
        }})

    assert "best.weights.npz is not a valid weights archive" in str(raised.value)
    assert "allow_pickle=False" in str(raised.value)
    assert early.best_weights is None
