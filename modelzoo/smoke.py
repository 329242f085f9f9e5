"""`python -m modelzoo.train MODEL --smoke`: a quick check that a model trains and reloads.

The smoke check builds the model from its config, measures the loss on a
fixed probe set, trains `DEFAULT_STEPS` steps, measures the loss again,
saves the model, reloads it and compares the reloaded model's outputs. It
passes when the loss fell and the reloaded model gives the same outputs.

Data: the first examples of the config's data set when modelzoo has a loader
for it and finds the files. Otherwise it uses the synthetic set described in
`synthetic_data`, which has the model's input shape and number of classes.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from modelzoo.errors import ConfigError, DataNotFoundError

logger = logging.getLogger(__name__)

DEFAULT_STEPS = 10
DEFAULT_BATCH_SIZE = 32
PROBE_SIZE = 128
# Largest output difference accepted between the trained and reloaded model.
RELOAD_TOLERANCE = 1e-5
SMOKE_FILE = "smoke.json"
EXIT_FAILED = 1


@dataclasses.dataclass
class SmokeResult:
    """The outcome of a smoke check.

    Attributes:
        model: Registry name of the model.
        data: `"real:<dataset>"` or `"synthetic"`.
        steps: Training steps run.
        loss_before: Loss on the probe set before training.
        loss_after: Loss on the probe set after training.
        reload_max_abs_diff: Largest output difference of the reloaded model.
        run_dir: Folder holding `model.keras` and `smoke.json`.
    """

    model: str
    data: str
    steps: int
    loss_before: float
    loss_after: float
    reload_max_abs_diff: float
    run_dir: Path

    @property
    def loss_fell(self) -> bool:
        """Whether training lowered the probe loss."""
        return self.loss_after < self.loss_before

    @property
    def reloaded(self) -> bool:
        """Whether the reloaded model matches the trained one."""
        return self.reload_max_abs_diff <= RELOAD_TOLERANCE

    @property
    def passed(self) -> bool:
        """Whether both checks passed."""
        return self.loss_fell and self.reloaded

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["run_dir"] = str(self.run_dir)
        values.update(loss_fell=self.loss_fell, reloaded=self.reloaded, passed=self.passed)
        return values


def synthetic_data(model, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return `count` synthetic `(inputs, targets)` of the model's input shape.

    Each class `k` of `C` gets inputs around the level `0.2 + 0.6 * k / (C - 1)`
    with uniform noise of width 0.3, clipped to [0, 1], so any model can
    learn the classes from a few steps. Labels cycle through the classes. A
    model whose output has its input's shape (an autoencoder) gets 10 such
    levels and its inputs as targets.
    """
    from modelzoo.artifacts import CLASSIFICATION, task_of

    input_shape = tuple(model.input_shape[1:])
    if any(size is None for size in input_shape):
        raise ConfigError(
            f"{model.name} has input shape {input_shape} with an unknown size, so no "
            "synthetic data can be made. Set the shape in model.args.input_shape."
        )
    classification = task_of(model) == CLASSIFICATION
    num_classes = max(2, int(model.output_shape[-1])) if classification else 10
    random = np.random.default_rng(seed)
    labels = np.arange(count) % num_classes
    random.shuffle(labels)
    levels = 0.2 + 0.6 * labels / (num_classes - 1)
    noise = random.uniform(-0.15, 0.15, size=(count, *input_shape))
    inputs = np.clip(levels.reshape((count,) + (1,) * len(input_shape)) + noise, 0.0, 1.0)
    inputs = inputs.astype("float32")
    if not classification:
        return inputs, inputs
    return inputs, labels.astype("int32")


def run_smoke(config, *, learning_rate: float | None = None, steps: int = DEFAULT_STEPS,
              batch_size: int = DEFAULT_BATCH_SIZE) -> SmokeResult:
    """Run the smoke check of the model that `config` describes.

    Args:
        config: A `Config`; its model, data and output settings are used.
        learning_rate: Replace the optimizer's learning rate after building,
            0 included (which must make the check fail).
        steps: Training steps.
        batch_size: Examples per step.

    Returns:
        A `SmokeResult` whose `passed` is True when both checks passed. The result
        is also written to `smoke.json` in its run directory.
    """
    import keras

    from modelzoo.runs import create_run_dir, save_model_atomic, write_json
    from modelzoo.trainer import Trainer

    if steps < 1 or batch_size < 1:
        raise ConfigError(f"steps and batch_size must be at least 1; received {steps}, {batch_size}.")
    if learning_rate is not None and learning_rate < 0:
        raise ConfigError(f"--learning-rate must be >= 0 for --smoke; received {learning_rate}.")

    keras.utils.set_random_seed(config.training.seed)
    trainer = Trainer(config)
    model = trainer.build_model()
    if learning_rate is not None:
        model.optimizer.learning_rate = learning_rate
    count = steps * batch_size
    inputs, targets, data = _smoke_data(config, model, count)
    probe_inputs, probe_targets = inputs[:PROBE_SIZE], targets[:PROBE_SIZE]

    loss_before = _loss(model, probe_inputs, probe_targets)
    model.fit(inputs, targets, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
    loss_after = _loss(model, probe_inputs, probe_targets)
    logger.info("Smoke %s: probe loss %.5f -> %.5f after %d steps", config.model.name,
                loss_before, loss_after, steps)

    run_dir = create_run_dir(Path(config.output.dir) / "smoke", config.model.name)
    model_path = save_model_atomic(model, run_dir / "model.keras")
    reloaded = keras.models.load_model(model_path)
    difference = float(np.max(np.abs(
        np.asarray(reloaded.predict(probe_inputs, verbose=0))
        - np.asarray(model.predict(probe_inputs, verbose=0))
    )))
    result = SmokeResult(config.model.name, data, steps, loss_before, loss_after, difference,
                         run_dir)
    write_json(run_dir / SMOKE_FILE, result.to_dict())
    return result


def format_result(result: SmokeResult) -> str:
    """Return the one-paragraph summary that `--smoke` prints."""
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [
        f"Smoke check {verdict}: {result.model} on {result.data} data",
        f"  probe loss {result.loss_before:.5f} -> {result.loss_after:.5f} after "
        f"{result.steps} steps ({'fell' if result.loss_fell else 'did not fall'})",
        f"  reloaded model.keras: max abs output difference {result.reload_max_abs_diff:.3g} "
        f"({'ok' if result.reloaded else f'above {RELOAD_TOLERANCE:g}'})",
        f"  run directory: {result.run_dir}",
    ]
    return "\n".join(lines)


def _smoke_data(config, model, count: int) -> tuple[np.ndarray, np.ndarray, str]:
    from modelzoo.artifacts import CLASSIFICATION, task_of
    from modelzoo.data import list_datasets, load_dataset
    from modelzoo.data.datasets import is_sequence_dataset

    data = config.data
    if data.dataset not in list_datasets() and not is_sequence_dataset(data.dataset):
        logger.warning("No loader for data set %r; the smoke check uses synthetic data",
                       data.dataset)
        return (*synthetic_data(model, count, config.training.seed), "synthetic")
    classifier = task_of(model) == CLASSIFICATION
    sequence = is_sequence_dataset(data.dataset)
    try:
        # Sequence loaders yield labelled series only, so a sequence autoencoder
        # loads them with labels and then reconstructs the series themselves.
        splits = load_dataset(
            data.dataset, data_dir=data.data_dir, source=data.source, download=False,
            batch_size=count, validation_fraction=0.0, train_subset=count, test_subset=1,
            input_shape=model.input_shape[1:],
            targets="labels" if classifier or sequence else "inputs",
            options=data.sequence_options() if sequence else None,
        )
    except DataNotFoundError as error:
        logger.warning("Data set %r not found (%s); the smoke check uses synthetic data",
                       data.dataset, error)
        return (*synthetic_data(model, count, config.training.seed), "synthetic")
    batches = [(np.asarray(x), np.asarray(y)) for x, y in splits.train]
    inputs = np.concatenate([x for x, _ in batches])
    targets = np.concatenate([y for _, y in batches]) if classifier else inputs
    return inputs, targets, f"real:{data.dataset}"


def _loss(model, inputs, targets) -> float:
    return float(model.evaluate(inputs, targets, batch_size=PROBE_SIZE, verbose=0,
                                return_dict=True)["loss"])
