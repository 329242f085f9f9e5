"""Interrupted training resumes, run files are written atomically, runs repeat.

The subprocess tests train the CNN on a real MNIST subset, kill or signal
the process during epoch 2 of 3, and resume it with `--resume`.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo.cli import train_main
from modelzoo.errors import ConfigError
from modelzoo.resume import TrainingInterrupted

from tests.test_cli import run

TRAIN_FLAGS = [
    "--epochs", "3", "--batch-size", "64", "--seed", "7",
    "--set", "data.train_subset=4000", "--set", "data.test_subset=2000",
    "--set", "training.verbose=0", "--set", "callbacks.tensorboard=false",
    "--set", "output.plots=false",
]


def start_training(data_dir, output_dir, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "modelzoo.train", "cnn", "--data-dir", str(data_dir),
         "--output-dir", str(output_dir), *TRAIN_FLAGS, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_epoch(process, output_dir, epoch, timeout=300):
    """Return the run directory once its backup records `epoch` completed epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for state_path in Path(output_dir).glob("cnn/*/backup/state.json"):
            if json.loads(state_path.read_text())["epoch"] >= epoch:
                return state_path.parent.parent
        if process.poll() is not None:
            raise AssertionError(f"training exited early:\n{process.communicate()[1][-3000:]}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no backup of epoch {epoch} after {timeout} s")


def read_history(run_dir):
    with open(run_dir / "history.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def test_sigkill_in_epoch_2_then_resume_matches_uninterrupted(tmp_path, data_dir):
    output_dir = tmp_path / "runs"
    process = start_training(data_dir, output_dir, "--set", "training.deterministic=true")
    run_dir = wait_for_epoch(process, output_dir, 1)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)

    state = json.loads((run_dir / "backup" / "state.json").read_text())
    assert state["epoch"] == 1  # killed during epoch 2, after the backup of epoch 1
    assert [row["epoch"] for row in read_history(run_dir)] == ["0"]
    assert not (run_dir / "metrics.json").exists()

    resumed = run("-m", "modelzoo.train", "cnn", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming" in resumed.stderr

    history = read_history(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [row["epoch"] for row in history] == ["0", "1", "2"]
    assert metrics["epochs_run"] == 3
    assert not (run_dir / "backup").exists()
    keras.models.load_model(run_dir / "model.keras")
    log = (run_dir / "train.log").read_text()
    assert log.count("Device: /CPU:0") == 2  # the killed run and the resumed one
    assert "TensorFlow op determinism is on" in log

    # The same run without the kill, in its own process because op determinism
    # stays on in a process once set.
    reference = start_training(data_dir, tmp_path / "reference",
                               "--set", "training.deterministic=true")
    _, stderr = reference.communicate(timeout=300)
    assert reference.returncode == 0, stderr[-3000:]
    reference_dir = next((tmp_path / "reference").glob("cnn/*"))
    reference_metrics = json.loads((reference_dir / "metrics.json").read_text())
    print(f"resumed test accuracy {metrics['test_accuracy']:.4f}, "
          f"uninterrupted {reference_metrics['test_accuracy']:.4f}")
    assert history == read_history(reference_dir)
    assert metrics["test_accuracy"] == reference_metrics["test_accuracy"]


def signal_after_first_backup(output_dir, signal_number):
    """Start a thread that sends `signal_number` to this process once epoch 1 is backed up.

    Python runs the handler in the main thread, inside `fit`.
    """
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            if any(Path(output_dir).glob("cnn/*/backup/state.json")):
                os.kill(os.getpid(), signal_number)
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return stop, watcher


def test_sigterm_cli_exits_143_with_resume_hint(tmp_path, data_dir, capsys):
    stop, watcher = signal_after_first_backup(tmp_path, signal.SIGTERM)
    try:
        status = train_main(["cnn", "--data-dir", str(data_dir), "--output-dir", str(tmp_path),
                             "--epochs", "50", "--batch-size", "64",
                             "--set", "data.train_subset=600", "--set", "data.test_subset=200",
                             "--set", "training.verbose=0",
                             "--set", "callbacks.early_stopping.enabled=false",
                             "--set", "callbacks.tensorboard=false"])
    finally:
        stop.set()
        watcher.join()

    stderr = capsys.readouterr().err
    run_dir = next(tmp_path.glob("cnn/*"))
    assert status == 128 + signal.SIGTERM
    assert "error: interrupted by SIGTERM" in stderr
    assert f"python -m modelzoo.train cnn --resume {run_dir}" in stderr
    assert "Traceback" not in stderr
    assert json.loads((run_dir / "backup" / "state.json").read_text())["epoch"] >= 1
    assert "Training stopped by SIGTERM" in (run_dir / "train.log").read_text()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def run_until_signal(config, output_dir, signal_number):
    """Run `config` until `signal_number` stops it after epoch 1; return the `TrainingInterrupted`."""
    stop, watcher = signal_after_first_backup(output_dir, signal_number)
    try:
        with pytest.raises(TrainingInterrupted) as raised:
            modelzoo.Trainer(config).run()
    finally:
        stop.set()
        watcher.join()
    return raised.value


def test_sigint_raises_training_interrupted(tmp_path, data_dir):
    config = modelzoo.load_config("cnn", overrides=[
        f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "training.epochs=50",
        "data.train_subset=600", "data.test_subset=200", "training.verbose=0",
        "training.batch_size=64", "callbacks.early_stopping.enabled=false",
        "callbacks.reduce_lr_on_plateau.enabled=false", "callbacks.tensorboard=false",
    ])
    interrupted = run_until_signal(config, tmp_path, signal.SIGINT)

    run_dir = interrupted.run_dir
    assert interrupted.signal_name == "SIGINT"
    assert interrupted.exit_code == 130
    assert json.loads((run_dir / "backup" / "state.json").read_text())["epoch"] < 50
    assert "Resume with: python -m modelzoo.train cnn --resume" in (run_dir / "train.log").read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_resume_repeated_set_matches_uninterrupted(tmp_path, data_dir):
    # 540 training examples at batch 64 are 9 batches, at most 16 steps per call,
    # so the training set repeats (modelzoo.trainer.plan_epochs).
    overrides = [
        f"data.data_dir={data_dir}", "training.epochs=4", "training.seed=7",
        "data.train_subset=600", "data.test_subset=500", "training.verbose=0",
        "training.batch_size=64", "callbacks.early_stopping.enabled=false",
        "callbacks.reduce_lr_on_plateau.enabled=false", "callbacks.tensorboard=false",
        "output.plots=false",
    ]
    uninterrupted = modelzoo.Trainer(modelzoo.load_config(
        "cnn", overrides=[*overrides, f"output.dir={tmp_path / 'reference'}"])).run()
    config = modelzoo.load_config("cnn", overrides=[*overrides, f"output.dir={tmp_path / 'cut'}"])
    interrupted = run_until_signal(config, tmp_path / "cut", signal.SIGINT)
    resumed = modelzoo.Trainer(config, resume_dir=interrupted.run_dir).run()

    assert "one iterator for all epochs" in (resumed.run_dir / "train.log").read_text()
    assert resumed.metrics["epochs_run"] == 4
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert resumed.history[name] == pytest.approx(uninterrupted.history[name], rel=1e-5), name


def test_resume_rejections(tmp_path, data_dir):
    config = modelzoo.load_config("cnn", overrides=[
        f"data.data_dir={data_dir}", f"output.dir={tmp_path}", "training.epochs=1",
        "data.train_subset=500", "data.test_subset=200", "training.verbose=0",
        "callbacks.tensorboard=false", "output.plots=false", "training.batch_size=64",
    ])
    finished = modelzoo.Trainer(config).run().run_dir

    with pytest.raises(ConfigError, match="that run already finished"):
        modelzoo.Trainer(config, resume_dir=finished).run()
    with pytest.raises(ConfigError, match="no config.yaml there"):
        modelzoo.Trainer(config, resume_dir=tmp_path).run()

    flags = run("-m", "modelzoo.train", "cnn", "--resume", str(finished), "--epochs", "5")
    assert flags.returncode == 2
    assert "--epochs cannot be combined with it" in flags.stderr
    other = run("-m", "modelzoo.train", "lstm", "--resume", str(finished))
    assert other.returncode == 2
    assert "is a run of model 'cnn', not 'lstm'" in other.stderr


def test_same_seed_gives_identical_weights_and_history(tmp_path, data_dir):
    def train(name):
        return modelzoo.train_model(
            "cnn", data_dir=str(data_dir), output_dir=str(tmp_path / name), epochs=2,
            batch_size=64, seed=11, data__train_subset=1000, data__test_subset=500,
            training__verbose=0, callbacks__tensorboard=False, output__plots=False,
        )

    first, second = train("first"), train("second")
    first_model = keras.models.load_model(first.run_dir / "model.keras")
    second_model = keras.models.load_model(second.run_dir / "model.keras")

    assert first.history == second.history
    assert len(first_model.weights) == len(second_model.weights)
    for a, b in zip(first_model.weights, second_model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    assert first.metrics["test_accuracy"] == second.metrics["test_accuracy"]


def test_backup_restores_dropout_seed_state(tmp_path, mnist_batch):
    from modelzoo.resume import RunBackup

    images, labels = mnist_batch
    model = modelzoo.build("cnn", dropout=0.5)
    model.fit(images, labels, epochs=1, batch_size=128, verbose=0,
              callbacks=[RunBackup(tmp_path)])
    seed_states = [v.numpy() for v in model.variables if "seed" in v.path]
    assert len(seed_states) == 2  # one SeedGenerator per dropout layer

    fresh = modelzoo.build("cnn", dropout=0.5)
    # epochs=1 with one epoch backed up: fit restores the backup and runs no epoch.
    fresh.fit(images, labels, epochs=1, batch_size=128, verbose=0,
              callbacks=[RunBackup(tmp_path)])

    restored = [v.numpy() for v in fresh.variables if "seed" in v.path]
    assert len(restored) == 2
    for value, expected in zip(restored, seed_states):
        np.testing.assert_array_equal(value, expected)
    for a, b in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


WRITER = """
import sys
from modelzoo.runs import write_atomic
path = sys.argv[1]
index = 0
while True:
    index += 1
    write_atomic(path, bytes([index % 256]) * 4_000_000)
    print(index, flush=True)
"""


def test_sigkill_during_writes_leaves_complete_file(tmp_path):
    target = tmp_path / "metrics.json"
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                               stdout=subprocess.PIPE, text=True)
    for _ in range(5):
        process.stdout.readline()  # at least five complete writes
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)

    data = target.read_bytes()
    assert len(data) == 4_000_000
    assert data == data[:1] * 4_000_000
