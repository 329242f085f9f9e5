"""Shared tf.data plumbing for sequence data sets: splits, padding and pipelines.

Every sequence loader produces NumPy arrays (`x` of shape `(N, T, F)` float32
or `(N, T)` int32 token ids, `y` int32 class indices) and hands them to
`splits_from_arrays`, which applies the subsets, draws the validation split
and builds the batched `tf.data` pipelines.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from modelzoo.errors import ConfigError, DataFormatError

logger = logging.getLogger(__name__)


def pad_sequences(
    sequences: Sequence[np.ndarray],
    *,
    length: int | None = None,
    pad_value: float = 0.0,
    source: str = "x",
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad variable-length `(T_i, F)` sequences into one `(N, T, F)` array.

    Args:
        sequences: One float array of shape `(T_i, F)` per example.
        length: Length to pad or truncate to; `None` uses the longest.
            Longer sequences keep their first `length` steps.
        pad_value: Value of every feature of a padded step. A model masks
            these steps with `Masking(mask_value=pad_value)`.
        source: Name of the data in error messages.

    Returns:
        `(padded, lengths)`: the float32 array and each example's real length
        after truncation.

    Raises:
        DataFormatError: Some sequences have no steps at all; the message
            gives their count and first row numbers.
    """
    lengths = reject_empty_sequences(sequences, source=source)
    target = int(length) if length is not None else int(lengths.max())
    num_features = sequences[0].shape[1]
    padded = np.full((len(sequences), target, num_features), pad_value, dtype=np.float32)
    truncated = int(np.sum(lengths > target))
    for row, sequence in enumerate(sequences):
        steps = min(len(sequence), target)
        padded[row, :steps] = sequence[:steps]
    if truncated:
        logger.info("%s: truncated %d sequences longer than %d steps", source, truncated, target)
    real = np.minimum(lengths, target)
    collisions = _real_steps_equal_to_pad(padded, real, pad_value)
    if collisions:
        logger.warning(
            "%s: %d real steps have every feature equal to the pad value %r and will be masked "
            "as padding; choose a pad value that the data never takes (data.pad_value).",
            source, collisions, pad_value,
        )
    return padded, real


def reject_empty_sequences(sequences: Sequence[np.ndarray], *, source: str) -> np.ndarray:
    """Return the length of each sequence; raise if any has no real step.

    Raises:
        DataFormatError: The message gives the count of such sequences and
            their first row numbers (0-based).
    """
    lengths = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        rows = ", ".join(str(row) for row in empty[:5].tolist())
        raise DataFormatError(
            f"{source}: {len(empty)} of {len(lengths)} sequences are entirely padding "
            f"(no real steps), for example rows {rows} (0-based). Remove those rows."
        )
    return lengths


def _real_steps_equal_to_pad(padded: np.ndarray, lengths: np.ndarray, pad_value: float) -> int:
    is_pad_step = np.all(padded == pad_value, axis=-1)
    inside = np.arange(padded.shape[1])[None, :] < lengths[:, None]
    return int(np.sum(is_pad_step & inside))


def make_sequence_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    shuffle_buffer: int | None = None,
    cache: bool = True,
):
    """Return a batched, prefetched `tf.data.Dataset` of `(sequence, label)` pairs.

    Batches are gathered from the in-memory arrays (see
    `modelzoo.data.batched_array_pipeline`). `cache` is accepted for
    compatibility and changes nothing, because the arrays already live in
    memory.
    """
    import tensorflow as tf

    from modelzoo.data import batched_array_pipeline

    dataset = batched_array_pipeline(
        x, y.astype(np.int32), batch_size=batch_size, shuffle=shuffle, seed=seed,
        shuffle_buffer=shuffle_buffer,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def check_input_shape(name: str, data_shape: tuple, model_shape: Sequence | None) -> None:
    """Raise a `ConfigError` when the model's input shape cannot take the data."""
    if model_shape is None:
        return
    model_shape = tuple(model_shape)
    fits = len(model_shape) == len(data_shape) and all(
        expected is None or expected == actual for expected, actual in zip(model_shape, data_shape)
    )
    if not fits:
        suggestion = list(data_shape)
        raise ConfigError(
            f"Dataset {name!r} yields examples of shape {tuple(data_shape)}, but the model "
            f"expects {model_shape}. Set model.args.input_shape to {suggestion} (a None "
            "length accepts any length)."
        )


def splits_from_arrays(
    *,
    name: str,
    source: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    class_names: Sequence[str],
    batch_size: int,
    validation_fraction: float,
    split_seed: int,
    seed: int,
    train_subset: int | None,
    test_subset: int | None,
    shuffle_buffer: int | None,
    cache: bool,
    input_shape: Sequence | None,
    label_map: dict | None = None,
    extra: dict[str, Any] | None = None,
):
    """Subset, split and batch sequence arrays into `DatasetSplits`."""
    from modelzoo.data import DatasetInfo, DatasetSplits, split_indices

    if train_subset is not None:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    if test_subset is not None:
        x_test, y_test = x_test[:test_subset], y_test[:test_subset]
    check_input_shape(name, x_train.shape[1:], input_shape)
    train_index, validation_index = split_indices(len(x_train), validation_fraction, split_seed)

    def make(x, y, shuffle):
        return make_sequence_pipeline(
            x, y, batch_size=batch_size, shuffle=shuffle, seed=seed,
            shuffle_buffer=shuffle_buffer, cache=cache,
        )

    train = make(x_train[train_index], y_train[train_index], True)
    validation = (
        make(x_train[validation_index], y_train[validation_index], False)
        if len(validation_index) else None
    )
    test = make(x_test, y_test, False)
    info = DatasetInfo(
        name=name,
        source=source,
        num_train=len(train_index),
        num_validation=len(validation_index),
        num_test=len(x_test),
        input_shape=tuple(int(size) for size in x_train.shape[1:]),
        num_classes=len(class_names),
        class_names=tuple(class_names),
        validation_fraction=validation_fraction,
        label_map=label_map,
        extra=dict(extra or {}),
    )
    logger.info(
        "Dataset %s: %d train, %d validation, %d test examples, input shape %s, %d classes "
        "(source: %s)",
        name, info.num_train, info.num_validation, info.num_test, info.input_shape,
        info.num_classes, source,
    )
    return DatasetSplits(train, validation, test, info)
