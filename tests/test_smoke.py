"""The --smoke check: every registered model passes, a zero learning rate fails."""

import json

import pytest

import modelzoo
from modelzoo import cli
from modelzoo.smoke import run_smoke, synthetic_data


def smoke_config(name, data_dir, output_dir):
    return modelzoo.load_config(
        name, overrides=[f"data.data_dir={data_dir}", f"output.dir={output_dir}"]
    )


@pytest.mark.parametrize("name", modelzoo.list_models())
def test_smoke_passes_for_registered_model(name, data_dir, tmp_path, capsys):
    config = smoke_config(name, data_dir, tmp_path)

    status = cli.train_main([name, "--smoke", "--data-dir", str(data_dir),
                             "--output-dir", str(tmp_path), "--log-level", "WARNING"])

    assert status == 0, capsys.readouterr().out
    [smoke_file] = (tmp_path / "smoke" / name).glob("*/smoke.json")
    result = json.loads(smoke_file.read_text())
    # The test data folder contains every default data set, so none falls back to synthetic.
    assert result["data"] == f"real:{config.data.dataset}"
    assert result["loss_after"] < result["loss_before"]
    assert result["reloaded"] is True
    assert result["passed"] is True
    assert (smoke_file.parent / "model.keras").is_file()


def test_smoke_command_exit_status(data_dir, tmp_path, capsys):
    common = ["autoencoder", "--smoke", "--data-dir", str(data_dir), "--output-dir", str(tmp_path),
              "--log-level", "WARNING"]

    passed = cli.train_main(common)
    passed_output = capsys.readouterr().out
    frozen = cli.train_main([*common, "--learning-rate", "0"])
    frozen_output = capsys.readouterr().out

    assert passed == 0
    assert "Smoke check PASSED" in passed_output
    assert frozen == 1
    assert "Smoke check FAILED" in frozen_output
    assert "did not fall" in frozen_output


def test_smoke_rejects_negative_learning_rate(data_dir, tmp_path):
    config = smoke_config("autoencoder", data_dir, tmp_path)

    with pytest.raises(modelzoo.ConfigError, match=r"--learning-rate must be >= 0.*-0\.5"):
        run_smoke(config, learning_rate=-0.5)


def test_synthetic_data_matches_model_shapes():
    model = modelzoo.build("lstm", input_shape=(40, 3), num_classes=4)

    inputs, labels = synthetic_data(model, 64, seed=1)

    assert inputs.shape == (64, 40, 3)
    assert inputs.dtype == "float32"
    assert inputs.min() >= 0.0
    assert inputs.max() <= 1.0
    assert sorted(set(labels.tolist())) == [0, 1, 2, 3]
    # Each class sits at its own mean level, so the classes can be learnt.
    means = [inputs[labels == label].mean() for label in range(4)]
    assert means == sorted(means)


def test_synthetic_data_of_autoencoder_targets_inputs():
    model = modelzoo.build("autoencoder")

    inputs, targets = synthetic_data(model, 20, seed=0)

    assert inputs.shape == (20, 784)
    assert targets is inputs
