"""The command line, run in subprocesses as a user would."""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

RUN_FILES = ["config.yaml", "model.keras", "history.csv", "metrics.json", "curves.png", "train.log"]


def run(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from modelzoo.cli import train_main\n"
        "try:\n"
        "    train_main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = run("-c", code)

    assert "--data-dir" in result.stdout
    assert result.stdout.strip().endswith("False")


def test_list_prints_models_without_tensorflow():
    code = (
        "import sys\n"
        "from modelzoo.cli import main\n"
        "main(['list'])\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = run("-c", code)
    lines = result.stdout.splitlines()

    assert result.returncode == 0
    assert any(line.startswith("cnn") and "image_classification" in line and "225,034" in line
               for line in lines)
    assert any(line.startswith("lstm") and "116,033" in line for line in lines)
    assert any(line.startswith("autoencoder") and "101,200" in line for line in lines)
    assert lines[-1] == "False"


def test_smoke_run_writes_run_directory(tmp_path, data_dir):
    result = run(
        "-m", "modelzoo.train", "cnn", "--data-dir", str(data_dir), "--epochs", "1",
        "--batch-size", "32", "--output-dir", str(tmp_path), "--set", "data.train_subset=2000",
        "--set", "training.verbose=2",
    )
    assert result.returncode == 0, result.stderr
    run_dirs = list((tmp_path / "cnn").iterdir())
    assert len(run_dirs) == 1
    run_dir = run_dirs[0]

    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
        assert (run_dir / name).stat().st_size > 0, name
    assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.85
    assert metrics["epochs_run"] == 1
    assert metrics["dataset"]["num_train"] == 1800
    assert metrics["dataset"]["num_test"] == 10_000
    assert metrics["device"] == "/CPU:0"
    assert set(metrics["versions"]) >= {"python", "tensorflow", "keras"}
    with open(run_dir / "history.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 1
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    assert f"Run directory: {run_dir}" in result.stdout


def test_missing_data_fails_fast_with_one_message(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    home = tmp_path / "home"
    env = {"HOME": str(home), "TFDS_DATA_DIR": str(tmp_path / "tfds"), "MODELZOO_DATA_DIR": ""}

    # The timeout guards against a download retry loop; TensorFlow's import
    # takes most of the time spent here.
    result = run("-m", "modelzoo.train", "cnn", "--data-dir", str(empty),
                 "--output-dir", str(tmp_path / "runs"), env=env, timeout=120)

    assert result.returncode == 2
    assert "error: mnist was not found" in result.stderr
    assert "--data-dir" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_bad_config_key_exits_2_with_message(tmp_path):
    result = run("-m", "modelzoo.train", "cnn", "--set", "training.epoch=3")

    assert result.returncode == 2
    assert "Did you mean" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_model_exits_2_with_suggestion():
    result = run("-m", "modelzoo.train", "cnnn")

    assert result.returncode == 2
    assert "Did you mean 'cnn'?" in result.stderr


def test_bad_flag_exits_2():
    result = run("-m", "modelzoo.train", "cnn", "--epochs", "many")

    assert result.returncode == 2
    assert "invalid int value: 'many'" in result.stderr


def test_console_script_trains(tmp_path, data_dir):
    script = os.path.join(os.path.dirname(sys.executable), "modelzoo")
    result = subprocess.run(
        [script, "train", "autoencoder", "--data-dir", str(data_dir), "--epochs", "2", "--batch-size", "32",
         "--output-dir", str(tmp_path), "--set", "data.train_subset=1000",
         "--set", "data.test_subset=500", "--set", "training.verbose=0"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(next((tmp_path / "autoencoder").glob("*/metrics.json")).read_text())

    # Predicting all zeros scores about 0.11 on MNIST; a trained model does better.
    assert metrics["test_loss"] < 0.08
    assert metrics["dataset"]["input_shape"] == [784]
