"""Backup of the last completed epoch, resume, and clean stops on SIGINT/SIGTERM.

`RunBackup` extends `keras.callbacks.BackupAndRestore`. At the end of every
epoch it writes into `<run_dir>/backup/`:

    epoch-<N>.weights.h5   model and optimizer variables after epoch N
    best.weights.npz       EarlyStopping's best weights, when it keeps them
    state.json             epoch number, history, callback counters, RNG state

Each file is written to a temporary name and renamed. `state.json` is written
last and names the weights file it belongs to, so a kill at any moment leaves
either the previous complete backup or the new one, never a mix.
`history.csv` in the run directory is rewritten from the saved history on
every epoch, so a resumed run has each epoch exactly once.

What is restored: weights, optimizer state (including a learning rate that
ReduceLROnPlateau lowered), the EarlyStopping and ReduceLROnPlateau counters,
the state of the layers' Keras `SeedGenerator`s (dropout, noise), the Python
and NumPy global RNG state, and the position of the `tf.data` reshuffle seed
(see `advance_shuffle`). Not restored: TensorFlow's global generator, which
Keras layers do not draw from.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import random
import signal
from pathlib import Path

import keras
import numpy as np

from modelzoo.errors import ConfigError
from modelzoo.runs import write_atomic, write_json

logger = logging.getLogger(__name__)

BACKUP_DIR_NAME = "backup"
STATE_FILE = "state.json"
STATE_VERSION = 1


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT or SIGTERM; the last completed epoch is backed up.

    Attributes:
        signal_name: `"SIGINT"` or `"SIGTERM"`.
        run_dir: The run directory to pass to `--resume`.
        exit_code: 128 plus the signal number, the shell convention.
    """

    def __init__(self, signal_name: str, signal_number: int, run_dir: Path | None = None):
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.exit_code = 128 + signal_number
        self.run_dir = run_dir


class RunBackup(keras.callbacks.BackupAndRestore):
    """Back up each completed epoch atomically and restore it at `fit` start.

    Put it after every other callback, so that the state it saves includes
    their decisions for the epoch (a lowered learning rate, a stop request).

    Args:
        run_dir: The run directory; the backup goes to `run_dir/backup/`.
        early_stopping: The run's `EarlyStopping` callback, or None.
        reduce_lr: The run's `ReduceLROnPlateau` callback, or None.
        restore_dir: The backup folder to restore from, when it is not
            `run_dir/backup/`: a non-chief worker of a multi-worker run
            restores the chief's backup and writes its own to a temporary
            run directory.
    """

    def __init__(self, run_dir: str | Path, *, early_stopping=None, reduce_lr=None,
                 restore_dir: str | Path | None = None):
        run_dir = Path(run_dir)
        super().__init__(str(run_dir / BACKUP_DIR_NAME), save_freq="epoch",
                         delete_checkpoint=False)
        self.restore_dir = Path(restore_dir) if restore_dir is not None else Path(self.backup_dir)
        self.run_dir = run_dir
        self.early_stopping = early_stopping
        self.reduce_lr = reduce_lr
        self.history: list[dict[str, float]] = []
        self.completed_epochs = 0
        self.stopped_early = False

    @property
    def state_path(self) -> Path:
        return Path(self.backup_dir) / STATE_FILE

    def load_state(self) -> dict | None:
        """Return the saved state to restore, or None when there is no backup yet."""
        return read_state(self.restore_dir)

    # BackupAndRestore calls this from on_train_begin, after the callbacks
    # listed before this one have reset their counters.
    def _load_model(self):
        state = self.load_state()
        if state is None:
            return
        weights = self.restore_dir / state["weights"]
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(str(weights))
        self.history = state["history"]
        self.completed_epochs = state["epoch"]
        self.stopped_early = state.get("stopped_early", False)
        self.model._initial_epoch = state["epoch"]
        self._restore_callbacks(state.get("callbacks", {}))
        _restore_rng(state.get("rng"))
        _restore_seed_states(self.model, state.get("seed_states", []))
        logger.info("Resumed from %s: %d epoch(s) completed", weights, state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch}
        row.update({name: float(value) for name, value in (logs or {}).items()})
        self.history = [item for item in self.history if item["epoch"] < epoch] + [row]
        self.completed_epochs = epoch + 1
        self.stopped_early = bool(self.model.stop_training)
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        backup_dir = Path(self.backup_dir)
        backup_dir.mkdir(parents=True, exist_ok=True)
        weights_name = f"epoch-{self.completed_epochs:04d}.weights.h5"
        temporary = backup_dir / f".{weights_name}.tmp.weights.h5"
        self.model.save_weights(str(temporary), overwrite=True)
        os.replace(temporary, backup_dir / weights_name)

        callbacks = self._callback_states(backup_dir)
        write_history_csv(self.run_dir / "history.csv", self.history)
        write_json(self.state_path, {
            "version": STATE_VERSION,
            "epoch": self.completed_epochs,
            "weights": weights_name,
            "stopped_early": self.stopped_early,
            "history": self.history,
            "callbacks": callbacks,
            "rng": _capture_rng(),
            "seed_states": _capture_seed_states(self.model),
        })
        for old in backup_dir.glob("epoch-*.weights.h5"):
            if old.name != weights_name:
                old.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        # The backup is removed by `remove_backup` once the run's outputs are
        # written, so a kill during evaluation or saving can still resume.
        pass

    def history_by_metric(self) -> dict[str, list[float]]:
        """Return the full history, resumed epochs included, as metric -> values."""
        names: list[str] = []
        for row in self.history:
            names += [name for name in row if name != "epoch" and name not in names]
        return {name: [row.get(name, float("nan")) for row in self.history] for name in names}

    def _callback_states(self, backup_dir: Path) -> dict:
        states = {}
        early = self.early_stopping
        if early is not None:
            states["early_stopping"] = {
                "wait": int(early.wait),
                "best": None if early.best is None else float(early.best),
                "best_epoch": int(early.best_epoch),
                "stopped_epoch": int(early.stopped_epoch),
            }
            if early.best_weights is not None:
                arrays = {f"w{index}": np.asarray(value)
                          for index, value in enumerate(early.best_weights)}
                buffer = io.BytesIO()
                np.savez(buffer, **arrays)
                write_atomic(backup_dir / "best.weights.npz", buffer.getvalue())
                states["early_stopping"]["best_weights"] = "best.weights.npz"
        plateau = self.reduce_lr
        if plateau is not None:
            states["reduce_lr_on_plateau"] = {
                "wait": int(plateau.wait),
                "cooldown_counter": int(plateau.cooldown_counter),
                "best": None if plateau.best is None else float(plateau.best),
            }
        return states

    def _restore_callbacks(self, states: dict) -> None:
        early_state = states.get("early_stopping")
        if self.early_stopping is not None and early_state:
            early = self.early_stopping
            early.wait = early_state["wait"]
            early.best = early_state["best"]
            early.best_epoch = early_state["best_epoch"]
            early.stopped_epoch = early_state["stopped_epoch"]
            if early_state.get("best_weights"):
                path = self.restore_dir / early_state["best_weights"]
                # allow_pickle=False: the backup never unpickles objects.
                try:
                    with np.load(path, allow_pickle=False) as archive:
                        early.best_weights = [archive[f"w{index}"]
                                              for index in range(len(archive.files))]
                except (OSError, ValueError, KeyError) as error:
                    raise ConfigError(
                        f"{path} is not a valid weights archive ({error}); it is damaged or was "
                        "not written by modelzoo. Delete the backup and start a new run."
                    ) from None
        plateau_state = states.get("reduce_lr_on_plateau")
        if self.reduce_lr is not None and plateau_state:
            self.reduce_lr.wait = plateau_state["wait"]
            self.reduce_lr.cooldown_counter = plateau_state["cooldown_counter"]
            self.reduce_lr.best = plateau_state["best"]


def read_state(backup_dir: Path) -> dict | None:
    """Return the `state.json` of a backup folder, or None when it has none."""
    path = Path(backup_dir) / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        state = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}); the backup cannot be used.") from None
    if state.get("version") != STATE_VERSION:
        raise ConfigError(
            f"{path} has backup format {state.get('version')!r}; this modelzoo reads "
            f"format {STATE_VERSION}. Resume it with the modelzoo version that wrote it."
        )
    return state


def remove_backup(run_dir: Path) -> None:
    """Delete the backup folder of a finished run."""
    backup_dir = Path(run_dir) / BACKUP_DIR_NAME
    if not backup_dir.is_dir():
        return
    for path in backup_dir.iterdir():
        path.unlink()
    backup_dir.rmdir()


def write_history_csv(path: Path, rows: list[dict[str, float]]) -> None:
    """Write one row per epoch (epoch numbers from 0, as Keras's CSVLogger) atomically."""
    names = ["epoch"]
    for row in rows:
        names += [name for name in row if name not in names]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue())


def advance_shuffle(dataset, epochs: int) -> None:
    """Move a `tf.data` reshuffle seed forward by `epochs` epochs.

    A `shuffle(..., seed=s, reshuffle_each_iteration=True)` draws a new order
    each time an iterator is created, and the trainer's `fit` takes one
    iterator's worth of batches per epoch (see `modelzoo.trainer.plan_epochs`).
    A resumed run creates and drops one iterator per completed epoch, so epoch
    N sees the order it would have seen without the interruption.
    """
    for _ in range(epochs):
        iterator = iter(dataset)
        del iterator


def check_resumable(run_dir: Path) -> None:
    """Raise `ConfigError` unless `run_dir` is a run directory with a backup to resume."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(
            f"--resume {run_dir}: no config.yaml there, so it is not a modelzoo run directory. "
            "Pass a folder such as runs/cnn/20240101-120000."
        )
    if read_state(run_dir / BACKUP_DIR_NAME) is None:
        if (run_dir / "metrics.json").is_file():
            raise ConfigError(
                f"--resume {run_dir}: that run already finished (metrics.json exists). "
                "Start a new run instead."
            )
        raise ConfigError(
            f"--resume {run_dir}: it has no backup yet (the run stopped before its first "
            "epoch ended). Start a new run instead."
        )


class StopOnSignals:
    """Turn SIGINT and SIGTERM into `TrainingInterrupted` inside a `with` block.

    The previous handlers come back on exit. Outside the main thread, where
    Python cannot set handlers, the block runs with the handlers unchanged.
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self._previous: dict[int, object] = {}

    def __enter__(self):
        for name in self.SIGNALS:
            number = getattr(signal, name)
            try:
                self._previous[number] = signal.signal(number, self._handle)
            except ValueError:  # not the main thread
                break
        return self

    def __exit__(self, *exc_info):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        return False

    def _handle(self, number, frame):
        name = signal.Signals(number).name
        raise TrainingInterrupted(name, number, self.run_dir)


def _capture_rng() -> dict:
    version, keys, gauss_next = random.getstate()
    numpy_state = np.random.get_state()
    return {
        "python": [version, list(keys), gauss_next],
        "numpy": [numpy_state[0], numpy_state[1].tolist(), *map(_plain, numpy_state[2:])],
    }


def _restore_rng(state: dict | None) -> None:
    if not state:
        return
    version, keys, gauss_next = state["python"]
    random.setstate((version, tuple(keys), gauss_next))
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))


def _seed_state_variables(model) -> list:
    # `model.variables` adds the SeedGenerator states that `save_weights`
    # leaves out of `model.weights`. Their order is fixed by the architecture;
    # their paths are not, because generator names are numbered per process.
    weight_ids = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weight_ids]


def _capture_seed_states(model) -> list:
    return [np.asarray(variable.numpy()).tolist() for variable in _seed_state_variables(model)]


def _restore_seed_states(model, states: list) -> None:
    variables = _seed_state_variables(model)
    if len(variables) != len(states):
        logger.warning("Backup has %d seed states, the model %d; random seeds not restored",
                       len(states), len(variables))
        return
    for variable, value in zip(variables, states):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _plain(value):
    return value.item() if hasattr(value, "item") else value
