"""Load a trained model from a run directory or a model file.

`evaluate`, `predict` and `export` accept either a run directory written by
the trainer (`runs/<model>/<timestamp>/`, holding `model.keras`,
`config.yaml` and `metrics.json`) or a bare `.keras` file. A run directory
also gives the data set, the class names and the registered task.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import Any

from modelzoo.errors import ModelzooError

logger = logging.getLogger(__name__)

MODEL_FILE = "model.keras"

CLASSIFICATION = "classification"
RECONSTRUCTION = "reconstruction"


class RunNotFoundError(ModelzooError, FileNotFoundError):
    """A run directory or model file that does not exist or contains no model."""


@dataclasses.dataclass
class LoadedRun:
    """A trained model and what its run directory records about it.

    Attributes:
        model: The loaded `keras.Model`.
        model_path: The `.keras` file it was loaded from.
        run_dir: The run directory, or `None` for a bare model file.
        config: The run's `config.yaml` as a dictionary (empty without one).
        metrics: The run's `metrics.json` (empty without one).
    """

    model: Any
    model_path: Path
    run_dir: Path | None
    config: dict
    metrics: dict

    @property
    def model_name(self) -> str:
        """Registry name from the config, else the Keras model's name."""
        return self.config.get("model", {}).get("name") or self.model.name

    @property
    def dataset(self) -> str | None:
        """Data set name the run trained on, or `None` when unknown."""
        return self.config.get("data", {}).get("dataset")

    @property
    def task(self) -> str:
        """`"reconstruction"` when the output has the input's shape, else `"classification"`."""
        return task_of(self.model)

    @property
    def class_names(self) -> list[str] | None:
        """Class names recorded in `metrics.json`, or `None`."""
        names = self.metrics.get("dataset", {}).get("class_names")
        return list(names) if names else None


def task_of(model) -> str:
    """Return the task of `model` from its inputs and outputs.

    A numeric model whose output has its input's shape, with more than one
    value, is an autoencoder (`"reconstruction"`). Every other model,
    including one that maps a string to one sigmoid unit, is a classifier.
    """
    input_shape = tuple(model.input_shape[1:])
    numeric = "string" not in str(getattr(model.inputs[0], "dtype", ""))
    if numeric and tuple(model.output_shape[1:]) == input_shape and math.prod(
        size or 1 for size in input_shape
    ) > 1:
        return RECONSTRUCTION
    return CLASSIFICATION


def resolve_model_path(path: str | Path) -> tuple[Path, Path | None]:
    """Return `(model file, run directory or None)` for a run directory or a `.keras` file."""
    path = Path(path).expanduser()
    if path.is_dir():
        model_path = path / MODEL_FILE
        if not model_path.is_file():
            raise RunNotFoundError(
                f"Run directory {path} has no {MODEL_FILE}. Pass a run directory that the "
                "trainer wrote with output.save_model=true, or the path of a .keras file."
            )
        return model_path, path
    if path.is_file():
        if path.suffix != ".keras":
            raise RunNotFoundError(
                f"{path} is not a .keras model file. Pass a run directory or a file saved "
                "with model.save('name.keras')."
            )
        run_dir = path.parent if (path.parent / "config.yaml").is_file() else None
        return path, run_dir
    raise RunNotFoundError(
        f"No run directory or model file at {path}. Pass a folder such as "
        "runs/cnn/<timestamp>/ or a .keras file."
    )


def load_run(path: str | Path) -> LoadedRun:
    """Load the model and run records at `path` (a run directory or a `.keras` file)."""
    model_path, run_dir = resolve_model_path(path)

    import keras
    import yaml

    logger.info("Loading model %s", model_path)
    model = keras.models.load_model(model_path)
    config: dict = {}
    metrics: dict = {}
    if run_dir is not None:
        config_path = run_dir / "config.yaml"
        metrics_path = run_dir / "metrics.json"
        if config_path.is_file():
            config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        if metrics_path.is_file():
            metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    return LoadedRun(model, model_path, run_dir, config, metrics)
