"""The one-cycle learning rate, the training-time metrics, and config errors without TensorFlow."""

import json
import subprocess
import sys

import pytest

import modelzoo
from modelzoo.errors import ConfigError


def test_one_cycle_shape():
    from modelzoo.trainer import one_cycle_schedule

    schedule = one_cycle_schedule(0.01, total_steps=100, warmup_fraction=0.2)
    rates = [float(schedule(step)) for step in range(101)]

    assert rates[0] == pytest.approx(0.01 / 25)
    assert max(rates) == pytest.approx(0.01)
    assert rates.index(max(rates)) == 20
    assert all(a <= b for a, b in zip(rates[:20], rates[1:21]))
    assert all(a >= b for a, b in zip(rates[20:], rates[21:]))
    assert rates[100] == pytest.approx(0.01 * 1e-3)


def test_run_with_one_cycle_records_timing(tmp_path, data_dir):
    import keras

    result = modelzoo.train_model(
        "cnn", data_dir=str(data_dir), epochs=2, batch_size=100, output_dir=str(tmp_path),
        data__train_subset=1000, data__test_subset=300, data__validation_fraction=0.0,
        training__verbose=0, optimizer__schedule="one_cycle", optimizer__learning_rate=0.004,
        callbacks__early_stopping__enabled=False,
        callbacks__reduce_lr_on_plateau__enabled=False, callbacks__tensorboard=False,
        output__plots=False,
    )
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    optimizer = result.model.optimizer

    # 1,000 examples at batch 100 for 2 epochs: the schedule ends at step 20.
    assert int(optimizer.iterations) == 20
    assert float(optimizer.learning_rate) == pytest.approx(0.004 * 1e-3, rel=1e-3)
    assert metrics["train_time_seconds"] > 0
    assert metrics["time_to_first_step_seconds"] > 0
    assert len(metrics["epoch_seconds"]) == 2
    assert len(metrics["epoch_train_seconds"]) == 2
    assert all(train <= epoch for train, epoch in zip(metrics["epoch_train_seconds"],
                                                      metrics["epoch_seconds"]))
    assert metrics["train_time_seconds"] <= metrics["wall_time_seconds"]
    reloaded = keras.models.load_model(result.run_dir / "model.keras")
    assert reloaded.optimizer.get_config()["learning_rate"]["class_name"] == "CosineDecay"


def test_one_cycle_with_reduce_lr_rejected():
    # configs/cnn.yaml turns ReduceLROnPlateau on.
    with pytest.raises(ConfigError, match="optimizer.schedule is 'one_cycle'.*reduce_lr_on_plateau"):
        modelzoo.load_config("cnn", optimizer__schedule="one_cycle")


def test_unknown_schedule_rejected():
    with pytest.raises(ConfigError, match=r"'optimizer.schedule' must be one of .*'cosine'"):
        modelzoo.load_config("cnn", optimizer__schedule="cosine")


def test_config_error_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from modelzoo.cli import train_main\n"
        "first = train_main(['cnn', '--set', 'training.precision=bf16'])\n"
        "second = train_main(['cnn', '--set', 'optimizer.schedule=one_cycle'])\n"
        "print(first, second, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)

    assert "'training.precision' must be one of" in result.stderr
    assert "callbacks.reduce_lr_on_plateau cannot change it" in result.stderr
    assert result.stdout.split() == ["2", "2", "False", "False"]


def _small_cnn_run(tmp_path, data_dir, steps_per_execution):
    return modelzoo.train_model(
        "cnn", data_dir=str(data_dir), epochs=2, batch_size=100,
        output_dir=str(tmp_path / f"spe{steps_per_execution}"),
        data__train_subset=1250, data__test_subset=300, data__validation_fraction=0.2,
        training__verbose=0, training__steps_per_execution=steps_per_execution,
        callbacks__early_stopping__enabled=False, callbacks__reduce_lr_on_plateau__enabled=False,
        callbacks__tensorboard=False, output__plots=False,
    )


def test_steps_per_execution_trains_the_same_steps(tmp_path, data_dir):
    # 10 steps per epoch: 7 per call ends each epoch with a call of 3 steps, and
    # with 16 per call the training set repeats (modelzoo.trainer.plan_epochs).
    one_step = _small_cnn_run(tmp_path, data_dir, 1)
    runs = {7: _small_cnn_run(tmp_path, data_dir, 7), 16: _small_cnn_run(tmp_path, data_dir, 16)}

    for steps, run in runs.items():
        assert int(run.model.optimizer.iterations) == int(one_step.model.optimizer.iterations) == 20
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert run.history[name] == pytest.approx(one_step.history[name], rel=1e-4), (steps, name)
        assert run.metrics["test_accuracy"] == pytest.approx(
            one_step.metrics["test_accuracy"], abs=1e-6)
    assert "7 step(s) per call of the training function\n" in (
        runs[7].run_dir / "train.log").read_text()
    assert ("10 step(s) per call of the training function; one epoch per call, one iterator "
            "for all epochs") in (runs[16].run_dir / "train.log").read_text()


def test_steps_per_execution_below_one_rejected():
    with pytest.raises(ConfigError, match=r"'training.steps_per_execution' must be >= 1; "
                                          r"received 0"):
        modelzoo.load_config("cnn", training__steps_per_execution=0)
