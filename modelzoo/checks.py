"""Checks of training data against a model, run before any training step.

Each check turns a mistake that would otherwise surface as a shape error deep
inside `fit`, a NaN loss or a silently wrong model into an `InputError` that
names the value and the fix:

- `standardize_images`: adds a missing channel axis, transposes channels-first
  batches and scales integer pixels to [0, 1].
- `check_labels`: compares labels with the model's loss and output size.
- `check_split_sizes`: rejects splits too small for the batch size.
- `check_dataset`: runs the shape, range and label checks on a whole
  `tf.data` split, whatever its source.

`check_arrays(model, x, y)` is the entry point for NumPy data that a user
passes to `model.fit` directly.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import numpy as np

from modelzoo.errors import InputError

logger = logging.getLogger(__name__)

SPARSE_LOSSES = ("sparse_categorical_crossentropy", "sparsecategoricalcrossentropy")
CATEGORICAL_LOSSES = ("categorical_crossentropy", "categoricalcrossentropy",
                      "categorical_focal_crossentropy", "categoricalfocalcrossentropy")


def standardize_images(images: np.ndarray, input_shape: Sequence[int], *,
                       name: str = "images") -> np.ndarray:
    """Return `images` shaped `(N, *input_shape)` and, for integer pixels, scaled to [0, 1].

    Accepted layouts, for an `input_shape` of `(H, W, C)`:

    - `(N, H, W, C)`: unchanged.
    - `(N, H, W)` with `C == 1`: the channel axis is added.
    - `(N, C, H, W)` (channels-first): transposed to channels-last, with a log line.

    For a rank-1 `input_shape` of `(D,)`, any `(N, ...)` with `D` values per
    example is flattened. Any other shape raises `InputError`.

    Integer pixels (uint8, or other integer types with values in 0..255) are
    divided by 255. Float pixels are kept as they are.
    """
    images = np.asarray(images)
    expected = tuple(int(size) for size in input_shape)
    received = images.shape
    if images.ndim == 0 or images.shape[0] == 0:
        raise InputError(f"{name} is empty (shape {received}); expected (N, {_dims(expected)}).")
    example = received[1:]
    if example == expected:
        pass
    elif len(expected) == 1 and math.prod(example) == expected[0]:
        images = images.reshape(len(images), expected[0])
    elif len(expected) == 3 and example == expected[:2] and expected[2] == 1:
        images = images[..., np.newaxis]
    elif len(expected) == 3 and example == (expected[2], expected[0], expected[1]):
        logger.info("%s are channels-first %s; transposing to channels-last %s",
                    name, received, (received[0], *expected))
        images = np.transpose(images, (0, 2, 3, 1))
    else:
        hint = ""
        if len(expected) == 3 and len(example) == 3 and example[0] == expected[2]:
            hint = " It looks channels-first with the wrong image size."
        raise InputError(
            f"{name} have shape {received}; the model expects (N, {_dims(expected)}).{hint} "
            "Reshape the data to that shape, or build the model with "
            f"input_shape={example} if that is the intended layout."
        )
    return scale_pixels(images, name=name)


def scale_pixels(images: np.ndarray, *, name: str = "images") -> np.ndarray:
    """Return integer pixels as float32 in [0, 1]; float pixels unchanged."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if np.issubdtype(images.dtype, np.integer):
        low, high = int(images.min()), int(images.max())
        if low < 0 or high > 255:
            raise InputError(
                f"{name} are integers in {low}..{high}, outside the 0..255 pixel range. "
                "Scale them to floats in [0, 1] before training."
            )
        return images.astype(np.float32) / 255.0
    return images


def check_unit_range(values: np.ndarray, *, name: str, reason: str) -> None:
    """Raise `InputError` unless every value is in [0, 1]."""
    low, high = float(np.min(values)), float(np.max(values))
    if low < 0.0 or high > 1.0 or not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(
            f"{name} range over [{low:g}, {high:g}], but {reason} needs values in [0, 1]. "
            "Divide 0..255 pixels by 255, or rescale the data to [0, 1]."
        )


def loss_kind(model) -> str:
    """Return `"sparse"`, `"categorical"` or `"other"` for a compiled model's loss."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, (list, tuple, dict)):
        return "other"
    if isinstance(loss, str):
        name = loss
    elif loss is None:
        return "other"
    else:
        name = getattr(loss, "name", None) or type(loss).__name__
        if not isinstance(name, str):
            name = type(loss).__name__
    key = name.lower().replace(" ", "")
    if key in SPARSE_LOSSES or type(loss).__name__.lower() in SPARSE_LOSSES:
        return "sparse"
    if key in CATEGORICAL_LOSSES or type(loss).__name__.lower() in CATEGORICAL_LOSSES:
        return "categorical"
    return "other"


def output_classes(model) -> int | None:
    """Return the size of the model's last output axis, or None if unknown."""
    shape = getattr(model, "output_shape", None)
    if not isinstance(shape, tuple) or not shape:
        return None
    return shape[-1] if isinstance(shape[-1], int) else None


def check_labels(labels: np.ndarray, model, *, name: str = "labels") -> None:
    """Check classification labels against the model's loss and number of classes.

    Raises:
        InputError: Integer labels out of `0..num_classes-1` (1-based labels
            included), one-hot labels with a sparse loss, integer labels with a
            categorical loss, or non-finite labels.
    """
    kind = loss_kind(model)
    num_classes = output_classes(model)
    if kind == "other" or num_classes is None:
        return
    labels = np.asarray(labels)
    if labels.size == 0:
        raise InputError(f"{name} are empty; expected one label per example.")
    if not np.all(np.isfinite(labels)):
        raise InputError(f"{name} contain NaN or infinite values; remove or fix those examples.")
    loss_name = model.loss if isinstance(model.loss, str) else type(model.loss).__name__
    one_hot_shaped = labels.ndim >= 2 and labels.shape[-1] == num_classes and num_classes > 1

    if kind == "sparse":
        if one_hot_shaped and np.all((labels == 0) | (labels == 1)):
            raise InputError(
                f"{name} have shape {labels.shape} and look one-hot, but the model's loss "
                f"{loss_name!r} expects integer class indices. Compile with "
                "loss='categorical_crossentropy', or convert the labels with "
                "numpy.argmax(labels, axis=-1)."
            )
        if labels.ndim >= 2 and labels.shape[-1] != 1:
            raise InputError(
                f"{name} have shape {labels.shape}; the loss {loss_name!r} expects one "
                "integer class index per example, shape (N,) or (N, 1)."
            )
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise InputError(
                f"{name} contain non-integer values; {loss_name!r} expects integer "
                f"class indices 0..{num_classes - 1}."
            )
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= num_classes:
            hint = ""
            if low >= 1 and high == num_classes:
                hint = (f" They look 1-based (1..{num_classes}); subtract 1 so they "
                        f"run 0..{num_classes - 1}.")
            raise InputError(
                f"{name} range over {low}..{high}, but the model has {num_classes} output "
                f"classes, so labels must be in 0..{num_classes - 1}.{hint} Otherwise build "
                f"the model with num_classes={high + 1} if there are that many classes."
            )
        return

    # Categorical loss: one-hot (or soft) labels with one column per class.
    if not one_hot_shaped:
        raise InputError(
            f"{name} have shape {labels.shape}, but the model's loss {loss_name!r} expects "
            f"one-hot labels of shape (N, {num_classes}). Compile with "
            "loss='sparse_categorical_crossentropy' to use integer labels, or convert them "
            f"with keras.utils.to_categorical(labels, {num_classes})."
        )
    low, high = float(labels.min()), float(labels.max())
    if low < 0.0 or high > 1.0:
        raise InputError(
            f"{name} range over [{low:g}, {high:g}]; one-hot or probability labels must "
            "be in [0, 1]."
        )


def check_split_sizes(*, num_train: int, num_validation: int, num_test: int | None,
                      batch_size: int, validation_fraction: float,
                      dataset: str = "data set") -> None:
    """Reject splits too small to train on, before training starts.

    Raises:
        InputError: No training examples, fewer training examples than one
            batch, a validation fraction that leaves no validation example, or
            an empty test split.
    """
    total = num_train + num_validation
    if total == 0:
        raise InputError(
            f"{dataset} has no training examples: the file or split is empty. "
            "Check the data files and data.train_subset."
        )
    if num_train == 0:
        raise InputError(
            f"validation_fraction={validation_fraction} of {total} examples leaves no "
            "training examples. Lower data.validation_fraction or use more data."
        )
    if num_train < batch_size:
        raise InputError(
            f"{dataset} has {num_train} training examples (of {total}, after holding out "
            f"validation_fraction={validation_fraction}), fewer than one batch of "
            f"batch_size={batch_size}. Lower training.batch_size to at most {num_train}, "
            "or use more data."
        )
    if validation_fraction > 0 and num_validation == 0:
        raise InputError(
            f"validation_fraction={validation_fraction} of {total} examples rounds to 0 "
            "validation examples. Raise data.validation_fraction to at least "
            f"{1 / total:.3g}, or set it to 0 to train without validation."
        )
    if num_test is not None and num_test == 0:
        raise InputError(
            f"{dataset} has an empty test split. Check the test file and data.test_subset."
        )


def check_dataset(dataset, model, *, split: str = "train", unit_range_targets: bool = False,
                  check_targets_as_labels: bool = True) -> int:
    """Check every batch of a `(inputs, targets)` `tf.data` split against `model`.

    Checks the per-example input shape against `model.input_shape`, the
    labels with `check_labels` (classifiers) and, with `unit_range_targets`,
    that targets stay in [0, 1]. It iterates the split once, so it checks data
    from any source, and returns the number of examples.
    """
    expected = tuple(model.input_shape[1:])
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise InputError(
            f"The {split} split must yield (inputs, targets) pairs; it yields {spec}."
        )
    received = tuple(spec[0].shape[1:])
    if len(received) != len(expected) or any(
        want is not None and have is not None and want != have
        for have, want in zip(received, expected)
    ):
        raise InputError(
            f"The {split} split yields inputs of shape (batch, {_dims(received)}); "
            f"the model expects (batch, {_dims(expected)}). Reshape the data or build the "
            f"model with input_shape={received}."
        )

    labels: list[np.ndarray] = []
    count = 0
    low, high = math.inf, -math.inf
    for _, targets in dataset.as_numpy_iterator():
        count += len(targets)
        if unit_range_targets:
            low = min(low, float(np.min(targets)))
            high = max(high, float(np.max(targets)))
        elif check_targets_as_labels:
            labels.append(np.asarray(targets))
    if count == 0:
        raise InputError(f"The {split} split is empty; check the data files and subsets.")
    if unit_range_targets and (low < 0.0 or high > 1.0):
        raise InputError(
            f"The {split} targets range over [{low:g}, {high:g}], but the model's sigmoid "
            "output can only produce values in [0, 1]. Scale the data to [0, 1] "
            "(divide 0..255 pixels by 255)."
        )
    if labels:
        check_labels(np.concatenate(labels), model, name=f"{split} labels")
    return count


def check_arrays(model, x: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
    """Check and standardize NumPy training data for `model`; return `(x, y)`.

    Images are reshaped and scaled with `standardize_images`. For a model
    whose output is the size of its input and ends in a sigmoid (an
    autoencoder), `y` defaults to `x` and must be in [0, 1]; for a
    classifier, `y` is checked with `check_labels`.
    """
    check_keras_object(model, role="model")
    x = standardize_images(x, model.input_shape[1:], name="inputs")
    if y is None:
        y = x
    else:
        y = np.asarray(y)
        if len(y) != len(x):
            raise InputError(
                f"inputs have {len(x)} examples but targets have {len(y)}; pass one "
                "target per input."
            )
    if ends_in_sigmoid(model) and y.shape[1:] == x.shape[1:]:
        check_unit_range(y, name="targets", reason="a sigmoid output")
    else:
        check_labels(y, model, name="labels")
    return x, y


def ends_in_sigmoid(model) -> bool:
    """Return whether the last layer with an activation, searched into sub-models, is a sigmoid.

    Layers without an activation after it (`Reshape`, `Flatten`, `Dropout`)
    are skipped, so an autoencoder that reshapes its output still counts.
    """
    activation = _last_activation(model)
    return getattr(activation, "__name__", "") == "sigmoid"


def _last_activation(layer):
    for inner in reversed(getattr(layer, "layers", None) or []):
        activation = _last_activation(inner)
        if activation is not None:
            return activation
    return getattr(layer, "activation", None)


def check_keras_object(value, *, role: str) -> None:
    """Raise `KerasVersionError` if `value` comes from `tf_keras` (Keras 2).

    Objects from `tf_keras`, which `tf.keras` returns when
    `TF_USE_LEGACY_KERAS=1` is set, cannot be mixed with Keras 3 models.
    """
    from modelzoo.errors import KerasVersionError

    for cls in type(value).__mro__:
        module = cls.__module__ or ""
        if module == "tf_keras" or module.startswith("tf_keras."):
            raise KerasVersionError(
                f"The {role} {type(value).__module__}.{type(value).__qualname__} is a "
                f"tf_keras (Keras 2) object; modelzoo needs Keras 3 (keras>={REQUIRED_KERAS}). "
                "Create it with `import keras` instead of `tf.keras` or `tf_keras`, and "
                "unset TF_USE_LEGACY_KERAS."
            )


def check_legacy_keras_env() -> None:
    """Raise `KerasVersionError` if `TF_USE_LEGACY_KERAS` selects Keras 2."""
    import os

    from modelzoo.errors import KerasVersionError

    value = os.environ.get("TF_USE_LEGACY_KERAS", "")
    if value.strip().lower() in ("1", "true", "yes"):
        raise KerasVersionError(
            f"TF_USE_LEGACY_KERAS={value} is set, which makes tf.keras return tf_keras "
            f"(Keras 2); modelzoo needs Keras 3 (keras>={REQUIRED_KERAS}). Unset it: "
            "`unset TF_USE_LEGACY_KERAS`."
        )


REQUIRED_KERAS = "3.15"


def _dims(shape) -> str:
    return ", ".join("None" if size is None else str(size) for size in shape)
