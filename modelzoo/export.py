"""`python -m modelzoo.export RUN_DIR --format keras|savedmodel|tflite|onnx`: export and verify.

Each export is reloaded with its own runtime and run on a batch of real test
inputs from the run's data set. The command prints the maximum absolute
difference from the Keras model's outputs and exits 1 when it exceeds the
tolerance (`DEFAULT_TOLERANCE`, or `--tolerance`).

| format | written with | reloaded with |
| --- | --- | --- |
| keras | `model.save` | `keras.models.load_model` |
| savedmodel | `model.export(format="tf_saved_model")` | `tf.saved_model.load` |
| tflite | `model.export(format="litert")`; see below for recurrent models | `tf.lite.Interpreter` |
| onnx | `model.export(format="onnx")` (tf2onnx) | `onnxruntime.InferenceSession` |

Recurrent layers (LSTM, GRU) exported by Keras's LiteRT path keep TensorFlow
`TensorList` ops that need the Flex delegate, which the `tf.lite.Interpreter`
of TensorFlow 2.21 does not link. For models with a recurrent layer this
module converts a batch-1 graph with frozen weights instead, which the
converter lowers to builtin TFLite ops, so the `.tflite` file takes one
example per call.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from modelzoo.artifacts import CLASSIFICATION, load_run
from modelzoo.errors import ConfigError, ModelzooError

logger = logging.getLogger(__name__)

FORMATS = ("keras", "savedmodel", "tflite", "onnx")
# Outputs are probabilities or pixel values in [0, 1]. The measured differences
# between runtimes were below 5e-7 (BENCHMARKS.md).
DEFAULT_TOLERANCE = 1e-4
DEFAULT_EXAMPLES = 64
EXIT_MISMATCH = 1

# Default file or folder name of each format; the file formats need these suffixes.
OUTPUT_NAMES = {
    "keras": "model.keras",
    "savedmodel": "saved_model",
    "tflite": "model.tflite",
    "onnx": "model.onnx",
}


class ExportError(ModelzooError, RuntimeError):
    """An export that failed, or a runtime needed to check it that is missing."""


@dataclasses.dataclass
class ExportResult:
    """An export and its comparison with the Keras model.

    Attributes:
        format: One of `FORMATS`.
        path: The file or folder written.
        max_abs_diff: Largest absolute difference between the reloaded
            export's outputs and the Keras model's outputs.
        tolerance: The largest difference accepted.
        num_examples: Test inputs compared.
    """

    format: str
    path: Path
    max_abs_diff: float
    tolerance: float
    num_examples: int

    @property
    def passed(self) -> bool:
        """Whether the difference is within the tolerance."""
        return self.max_abs_diff <= self.tolerance

    def to_dict(self) -> dict:
        """Return the result as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["path"] = str(self.path)
        values["passed"] = self.passed
        return values


def export_model(model, fmt: str, path: str | Path) -> Path:
    """Write `model` to `path` in format `fmt` and return the path.

    Raises:
        ExportError: The exporter failed. The message contains its error.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format {fmt!r}. Use one of: {', '.join(FORMATS)}.")
    path = Path(path)
    suffix = Path(OUTPUT_NAMES[fmt]).suffix
    if suffix and path.suffix != suffix:
        raise ConfigError(
            f"The {fmt} export path must end with {suffix}; received {path}. "
            f"Use a name such as {path.with_suffix(suffix).name}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    logger.info("Exporting %s as %s to %s", model.name, fmt, path)
    try:
        if fmt == "keras":
            model.save(path)
        elif fmt == "savedmodel":
            model.export(str(path), format="tf_saved_model", verbose=False)
        elif fmt == "tflite":
            if has_recurrent_layer(model):
                path.write_bytes(_convert_recurrent_tflite(model))
            else:
                model.export(str(path), format="litert", verbose=False)
        else:
            _require_module("tf2onnx", fmt)
            model.export(str(path), format="onnx", verbose=False)
    except ExportError:
        raise
    except Exception as error:  # the converters raise many unrelated types
        raise ExportError(
            f"Exporting {model.name} as {fmt} failed: {type(error).__name__}: {error}"
        ) from error
    return path


def run_export(model, fmt: str, path: str | Path, inputs: np.ndarray) -> np.ndarray:
    """Reload the export at `path` with its own runtime and return its outputs on `inputs`."""
    path = Path(path)
    inputs = np.asarray(inputs, dtype="float32")
    if fmt == "keras":
        import keras

        return np.asarray(keras.models.load_model(path).predict(inputs, verbose=0))
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        return np.asarray(loaded.serve(tf.constant(inputs)))
    if fmt == "tflite":
        return _run_tflite(path, inputs)
    if fmt == "onnx":
        onnxruntime = _require_module("onnxruntime", fmt)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: inputs})[0])
    raise ConfigError(f"Unknown export format {fmt!r}. Use one of: {', '.join(FORMATS)}.")


def export_and_verify(model, fmt: str, path: str | Path, inputs: np.ndarray, *,
                      tolerance: float = DEFAULT_TOLERANCE) -> ExportResult:
    """Export `model`, reload the export and compare its outputs on `inputs` with Keras's."""
    expected = np.asarray(model.predict(inputs, verbose=0))
    written = export_model(model, fmt, path)
    actual = run_export(model, fmt, written, inputs)
    if actual.shape != expected.shape:
        raise ExportError(
            f"The {fmt} export of {model.name} returned shape {actual.shape}; the Keras model "
            f"returns {expected.shape}."
        )
    difference = float(np.max(np.abs(actual.astype("float64") - expected.astype("float64"))))
    result = ExportResult(fmt, written, difference, tolerance, len(inputs))
    logger.info("%s export: max abs difference %.3g on %d examples (tolerance %.3g)",
                fmt, difference, len(inputs), tolerance)
    return result


def export_run(run_dir: str | Path, fmt: str, *, output: str | Path | None = None,
               tolerance: float = DEFAULT_TOLERANCE, num_examples: int = DEFAULT_EXAMPLES,
               dataset: str | None = None, data_dir: str | None = None) -> ExportResult:
    """Export the model of a run directory and verify it on real test inputs.

    Args:
        run_dir: A run directory or a `.keras` file.
        fmt: One of `FORMATS`.
        output: Where to write; `None` writes `<run_dir>/export/<name>`.
        tolerance: Largest accepted absolute output difference.
        num_examples: Test inputs to compare.
        dataset: Data set of the test inputs; `None` takes the run's.
        data_dir: Root data folder; `None` takes the run's, then `$MODELZOO_DATA_DIR`.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format {fmt!r}. Use one of: {', '.join(FORMATS)}.")
    if not tolerance >= 0:
        raise ConfigError(f"tolerance must be >= 0; received {tolerance!r}.")
    if num_examples < 1:
        raise ConfigError(f"num_examples must be at least 1; received {num_examples!r}.")
    run = load_run(run_dir)
    dataset = dataset or run.dataset
    if dataset is None:
        raise ConfigError(
            f"{run.model_path} has no run config that names its data set, so there are no "
            "test inputs to compare on. Pass --dataset, for example --dataset mnist."
        )
    from modelzoo.data import load_dataset

    splits = load_dataset(
        dataset,
        data_dir=data_dir or run.config.get("data", {}).get("data_dir"),
        batch_size=num_examples,
        validation_fraction=0.0,
        test_subset=num_examples,
        input_shape=run.model.input_shape[1:],
        targets="labels" if run.task == CLASSIFICATION else "inputs",
    )
    inputs = np.concatenate([np.asarray(batch_inputs) for batch_inputs, _ in splits.test])
    base = run.run_dir or run.model_path.parent
    path = Path(output) if output is not None else base / "export" / OUTPUT_NAMES[fmt]
    return export_and_verify(run.model, fmt, path, inputs, tolerance=tolerance)


def has_recurrent_layer(model) -> bool:
    """Return whether `model` or a nested model contains a recurrent layer (LSTM, GRU, RNN)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            return True
        if isinstance(layer, keras.Model) and has_recurrent_layer(layer):
            return True
    return False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `export` options to `parser`."""
    parser.add_argument("path", metavar="RUN_DIR",
                        help="run directory (runs/<model>/<timestamp>/) or .keras file")
    parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS,
                        help="export format")
    parser.add_argument("--output", metavar="PATH",
                        help="file or folder to write (default: RUN_DIR/export/model.<format>, "
                        "or RUN_DIR/export/saved_model/)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help=f"largest accepted absolute difference from the Keras outputs "
                        f"(default: {DEFAULT_TOLERANCE:g})")
    parser.add_argument("--num-examples", type=int, default=DEFAULT_EXAMPLES,
                        help=f"real test inputs to compare on (default: {DEFAULT_EXAMPLES})")
    parser.add_argument("--dataset", help="data set of the test inputs (default: the run's)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="root folder of local data sets (default: the run's, then "
                        "$MODELZOO_DATA_DIR)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--log-level", default="WARNING",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="logging level (default: WARNING)")


def run(args: argparse.Namespace) -> int:
    """Export as `args` describe and print the comparison; return the exit status."""
    from modelzoo.cli import configure_logging

    configure_logging(args.log_level)
    result = export_run(args.path, args.fmt, output=args.output, tolerance=args.tolerance,
                        num_examples=args.num_examples, dataset=args.dataset,
                        data_dir=args.data_dir)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"Exported {result.format} to {result.path}")
        print(f"max abs difference vs Keras: {result.max_abs_diff:.3g} on "
              f"{result.num_examples} test examples (tolerance {result.tolerance:g})")
    if not result.passed:
        print(f"error: the {result.format} export differs from the Keras model by "
              f"{result.max_abs_diff:.3g}, more than the tolerance {result.tolerance:g}. "
              "Do not ship this file; check the exporter versions, or raise --tolerance "
              "if the difference is expected.", file=sys.stderr)
        return EXIT_MISMATCH
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m modelzoo.export`."""
    from modelzoo.cli import run_guarded

    parser = argparse.ArgumentParser(
        prog="python -m modelzoo.export",
        description="Export a trained model, reload it with its own runtime and compare "
        "its outputs with the Keras model on real test inputs.",
    )
    add_arguments(parser)
    return run_guarded(run, parser.parse_args(argv))


def _require_module(name: str, fmt: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ExportError(
            f"The {fmt} export needs the Python package {name}, which is not installed "
            f"({error}). Install it with: pip install 'modelzoo[export]'."
        ) from None


def _convert_recurrent_tflite(model) -> bytes:
    import tensorflow as tf
    # NOTE: convert_variables_to_constants_v2 is not in TensorFlow's public API;
    # it is the freezing step that lets the converter lower the recurrent loop to
    # builtin ops. Checked with TensorFlow 2.21.
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    signature = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    function = tf.function(lambda inputs: model(inputs, training=False))
    frozen = convert_variables_to_constants_v2(
        function.get_concrete_function(signature), lower_control_flow=False
    )
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def _run_tflite(path: Path, inputs: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    input_detail = interpreter.get_input_details()[0]
    output_index = interpreter.get_output_details()[0]["index"]
    if int(input_detail["shape_signature"][0]) == -1:
        interpreter.resize_tensor_input(input_detail["index"], inputs.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(input_detail["index"], inputs)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(output_index))
    # A fixed batch axis (recurrent models): one call per slice of that size.
    batch = int(input_detail["shape"][0])
    interpreter.allocate_tensors()
    outputs = []
    for start in range(0, len(inputs), batch):
        interpreter.set_tensor(input_detail["index"], inputs[start:start + batch])
        interpreter.invoke()
        outputs.append(np.array(interpreter.get_tensor(output_index)))
    return np.concatenate(outputs)


if __name__ == "__main__":
    sys.exit(main())
