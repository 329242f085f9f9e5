"""`python -m modelzoo.predict RUN_DIR_OR_MODEL INPUT...`: classify files with a trained model.

Inputs, by file suffix:

- `.png`, `.jpg`, `.jpeg`: read with Pillow, converted to grayscale (or RGB
  for a 3-channel model), resized to the model's input size and scaled to
  [0, 1]. MNIST digits are light on dark; with `--invert auto` (the
  default) an image whose border is mostly light is inverted first, so a
  dark digit photographed on white paper is read correctly.
- `.npy`: one example of the model's input shape (or of the same number of
  values), or a batch of them along the first axis. Integer arrays are
  divided by 255; float arrays are used as they are.
- `.txt`, or `--text "..."`: raw text, for models whose input is a string
  tensor (the IMDB sentiment model).

Classifiers print the class and its probability; autoencoders print the
reconstruction mean squared error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from modelzoo.artifacts import CLASSIFICATION, LoadedRun, load_run
from modelzoo.errors import ConfigError, ModelzooError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TEXT_SUFFIXES = (".txt",)
INVERT_CHOICES = ("auto", "yes", "no")


class InputError(ModelzooError, ValueError):
    """A prediction input that cannot be read or does not fit the model."""


@dataclasses.dataclass
class Prediction:
    """The prediction for one input example.

    Attributes:
        input: The file (with `[index]` for rows of a batch) or `text:<start>`.
        label: Predicted class name, or `None` for autoencoders.
        class_index: Predicted class index, or `None` for autoencoders.
        probability: Probability of the predicted class, or `None`.
        probabilities: Probability of every class, by class name.
        reconstruction_mse: Mean squared reconstruction error of an autoencoder.
    """

    input: str
    label: str | None = None
    class_index: int | None = None
    probability: float | None = None
    probabilities: dict[str, float] | None = None
    reconstruction_mse: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the prediction without its unset fields."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


def read_image(path: str | Path, input_shape: Sequence[int], *, invert: str = "auto") -> np.ndarray:
    """Read a PNG or JPEG file of any size as one float32 example of `input_shape`.

    The image is converted to grayscale (RGB when the model takes 3 channels),
    resized with bilinear filtering to the model's height and width, scaled to
    [0, 1] and reshaped to `input_shape`.
    """
    from PIL import Image, UnidentifiedImageError

    if invert not in INVERT_CHOICES:
        raise ConfigError(f"invert must be one of {INVERT_CHOICES}; received {invert!r}.")
    height, width, channels = _image_geometry(input_shape, path)
    try:
        with Image.open(path) as image:
            image = image.convert("RGB" if channels == 3 else "L")
            image = image.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype="float32") / 255.0
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"Cannot read image {path}: {error}. Pass a PNG or JPEG file.") from None
    if invert == "yes" or (invert == "auto" and _border_is_light(pixels)):
        logger.info("Inverting %s: its border is light and the model expects light on dark", path)
        pixels = 1.0 - pixels
    return pixels.reshape(tuple(input_shape))


def read_array(path: str | Path, input_shape: Sequence[int]) -> np.ndarray:
    """Read a `.npy` file as a batch of float32 examples of `input_shape`."""
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise InputError(f"Cannot read {path} as a NumPy .npy file: {error}.") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputError(f"{path} contains {array.dtype} values, but the model needs numbers. Save a numeric array.")
    input_shape = tuple(input_shape)
    size = math.prod(input_shape)
    if array.size == size:
        batch = array.reshape((1, *input_shape))
    elif array.ndim >= 2 and math.prod(array.shape[1:]) == size:
        batch = array.reshape((len(array), *input_shape))
    else:
        raise InputError(
            f"{path} has shape {array.shape}, which does not fit the model input {input_shape}. "
            f"Save one example of {size} values, or a batch of shape (N, {', '.join(map(str, input_shape))})."
        )
    if np.issubdtype(batch.dtype, np.integer):
        batch = batch / 255.0
    return batch.astype("float32")


def predict_inputs(run: LoadedRun, inputs: Sequence[str], *, texts: Sequence[str] = (),
                   invert: str = "auto") -> list[Prediction]:
    """Predict every input file and text with the loaded model, in the given order."""
    model = run.model
    input_shape = tuple(model.input_shape[1:])
    takes_text = _takes_text(model)
    names: list[str] = []
    examples: list[Any] = []
    for item in inputs:
        path = Path(item)
        suffix = path.suffix.lower()
        if not path.is_file():
            raise InputError(f"Input file not found: {path}. Check the path.")
        if suffix in TEXT_SUFFIXES:
            names.append(str(path))
            examples.append(_text_example(path.read_text(encoding="utf-8"), takes_text, model))
        elif takes_text:
            raise InputError(
                f"{model.name} takes text, so {path} must be a .txt file, or pass --text."
            )
        elif suffix in IMAGE_SUFFIXES:
            names.append(str(path))
            examples.append(read_image(path, input_shape, invert=invert))
        elif suffix == ".npy":
            batch = read_array(path, input_shape)
            for index, example in enumerate(batch):
                names.append(f"{path}[{index}]" if len(batch) > 1 else str(path))
                examples.append(example)
        else:
            raise InputError(
                f"Unsupported input {path}: use .png, .jpg or .jpeg images, .npy arrays "
                "or .txt text."
            )
    for text in texts:
        names.append("text:" + text[:30])
        examples.append(_text_example(text, takes_text, model))
    if not examples:
        raise InputError("No inputs given. Pass image, .npy or .txt files, or --text.")

    if takes_text:
        import tensorflow as tf

        # A text model takes one string per example, as shape (batch,) or (batch, 1).
        # Keras rejects NumPy object arrays, so the strings go in as a tf.string tensor.
        strings = np.array(examples, dtype=object).reshape((len(examples), *input_shape))
        batch = tf.constant(strings, dtype=tf.string)
    else:
        batch = np.array(examples, dtype="float32")
    outputs = np.asarray(model.predict(batch, verbose=0))
    if run.task != CLASSIFICATION:
        errors = np.mean((outputs - batch).reshape(len(batch), -1) ** 2, axis=1)
        return [Prediction(name, reconstruction_mse=float(error)) for name, error in zip(names, errors)]

    from modelzoo.evaluate import predicted_classes

    classes, probabilities = predicted_classes(outputs)
    class_names = run.class_names or [str(index) for index in range(max(2, outputs.shape[-1]))]
    predictions = []
    for name, index, probability, row in zip(names, classes, probabilities, outputs):
        if row.shape[-1] == 1:
            every = {class_names[0]: float(1.0 - row[0]), class_names[1]: float(row[0])}
        else:
            every = {class_names[position]: float(value) for position, value in enumerate(row)}
        predictions.append(Prediction(name, class_names[int(index)], int(index),
                                      float(probability), every))
    return predictions


def format_table(predictions: Sequence[Prediction]) -> str:
    """Return the predictions as an aligned text table."""
    if predictions and predictions[0].reconstruction_mse is not None:
        rows = [("INPUT", "RECONSTRUCTION_MSE")]
        rows += [(item.input, f"{item.reconstruction_mse:.6f}") for item in predictions]
    else:
        rows = [("INPUT", "CLASS", "PROBABILITY")]
        rows += [(item.input, str(item.label), f"{item.probability:.4f}") for item in predictions]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `predict` options to `parser`."""
    parser.add_argument("path", metavar="RUN_DIR_OR_MODEL",
                        help="run directory (runs/<model>/<timestamp>/) or .keras file")
    parser.add_argument("inputs", metavar="INPUT", nargs="*",
                        help=".png/.jpg/.jpeg images of any size, .npy arrays or .txt files")
    parser.add_argument("--text", action="append", default=[],
                        help="text to classify, for text models; repeatable")
    parser.add_argument("--invert", choices=INVERT_CHOICES, default="auto",
                        help="invert image brightness: auto inverts images with a light border, "
                        "as MNIST digits are light on dark (default: auto)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--log-level", default="WARNING",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="logging level (default: WARNING)")


def run(args: argparse.Namespace) -> int:
    """Predict as `args` describe and print the result; return the exit status."""
    from modelzoo.cli import configure_logging

    configure_logging(args.log_level)
    if not args.inputs and not args.text:
        raise InputError("No inputs given. Pass image, .npy or .txt files, or --text.")
    run_record = load_run(args.path)
    predictions = predict_inputs(run_record, args.inputs, texts=args.text, invert=args.invert)
    if args.json:
        print(json.dumps([item.to_dict() for item in predictions], indent=2))
    else:
        print(format_table(predictions))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m modelzoo.predict`."""
    from modelzoo.cli import run_guarded

    parser = argparse.ArgumentParser(
        prog="python -m modelzoo.predict",
        description="Classify images, .npy arrays or text with a trained model.",
    )
    add_arguments(parser)
    return run_guarded(run, parser.parse_args(argv))


def _image_geometry(input_shape: Sequence[int], path) -> tuple[int, int, int]:
    shape = tuple(input_shape)
    if shape == (784,):
        return 28, 28, 1
    if len(shape) == 3 and shape[-1] in (1, 3):
        return shape[0], shape[1], shape[2]
    if len(shape) == 2:
        return shape[0], shape[1], 1
    raise InputError(
        f"The model input {shape} is not an image, so {path} cannot be used. "
        "Pass a .npy array of that shape instead."
    )


def _border_is_light(pixels: np.ndarray) -> bool:
    gray = pixels.mean(axis=-1) if pixels.ndim == 3 else pixels
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(border.mean()) > 0.5


def _takes_text(model) -> bool:
    dtype = getattr(model.inputs[0], "dtype", None)
    return str(dtype) in ("string", "tf.string", "<dtype: 'string'>")


def _text_example(text: str, takes_text: bool, model):
    if not takes_text:
        raise InputError(
            f"{model.name} takes numeric input of shape {tuple(model.input_shape[1:])}, not text. "
            "Pass images or .npy arrays, or a model trained on text."
        )
    return text


if __name__ == "__main__":
    sys.exit(main())
