"""Data sets as `tf.data.Dataset` splits plus a `DatasetInfo`.

`load_dataset` returns `(train, validation, test, info)`. Every split yields
`(inputs, targets)` batches: images as float32 in [0, 1] with a channel axis
and integer labels, or the images themselves as targets for autoencoders.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, NamedTuple, Sequence

import numpy as np

from modelzoo.checks import check_split_sizes
from modelzoo.data.mnist import IMAGE_DATASETS, load_image_arrays
from modelzoo.data.noise import check_noise, corrupt_inputs
from modelzoo.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class DatasetInfo:
    """Sizes, shapes and origin of a loaded data set.

    Attributes:
        name: Data set name.
        source: Where the arrays were read from.
        num_train: Training examples after the validation split.
        num_validation: Validation examples, taken from the training split.
        num_test: Test examples.
        input_shape: Shape of one input example as the model receives it.
        num_classes: Number of label classes.
        class_names: Name of each class, index = label.
        validation_fraction: Fraction of the training split held out.
        label_map: Original label (as text) to class index, for data sets
            whose files use other labels, such as UCR's `-1`/`1`. `None` when
            the labels are already `0..n-1`.
        extra: Family-specific details, such as the UCR files read, the
            padding of user sequences or the IMDB text vectorizer settings.
        vocabulary: Token of each id for text data sets, else `None`. Left
            out of `to_dict`; the trainer writes it to `vocabulary.txt`.
    """

    name: str
    source: str
    num_train: int
    num_validation: int
    num_test: int
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    validation_fraction: float
    label_map: dict[str, int] | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    vocabulary: list[str] | None = dataclasses.field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the info as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["input_shape"] = list(self.input_shape)
        values["class_names"] = list(self.class_names)
        vocabulary = values.pop("vocabulary")
        if vocabulary is not None:
            values["vocabulary_size"] = len(vocabulary)
        return values


class DatasetSplits(NamedTuple):
    """The three `tf.data.Dataset` splits and their `DatasetInfo`."""

    train: Any
    validation: Any
    test: Any
    info: DatasetInfo


def list_datasets() -> list[str]:
    """Return the names `load_dataset` accepts; `ucr/`, `npz:` and `csv:` take a suffix."""
    from modelzoo.data.datasets import SEQUENCE_DATASETS

    return sorted(IMAGE_DATASETS) + sorted(SEQUENCE_DATASETS)


def load_dataset(
    name: str = "mnist",
    *,
    data_dir=None,
    source: str = "auto",
    download: bool = True,
    batch_size: int = 128,
    validation_fraction: float = 0.1,
    split_seed: int = 0,
    seed: int = 42,
    train_subset: int | None = None,
    test_subset: int | None = None,
    shuffle_buffer: int | None = None,
    cache: bool = True,
    input_shape: Sequence[int] | None = None,
    targets: str = "labels",
    noise: str | None = None,
    noise_level: float = 0.0,
    options: dict[str, Any] | None = None,
    verify_checksums: bool = True,
) -> DatasetSplits:
    """Load a data set and return batched `tf.data` splits.

    Args:
        name: `"mnist"` or `"fashion_mnist"`, or a sequence data set:
            `"ucr/<Name>"`, `"sequential_mnist"`, `"imdb"`, `"npz:<path>"` or
            `"csv:<path>"` (see `modelzoo.data.datasets`).
        data_dir: Root data folder; `None` falls back to `$MODELZOO_DATA_DIR`.
            See `modelzoo.data.mnist` for the layout and the other sources.
        source: `"auto"`, `"local"`, `"keras"`, `"system"` or `"tfds"`.
        download: Allow a TFDS download when no local copy exists.
        batch_size: Examples per batch in every split.
        validation_fraction: Fraction of the training split held out for
            validation, in [0, 1). The split is a fixed permutation of
            `split_seed`, so it is the same on every run.
        split_seed: Seed of the validation split.
        seed: Seed of the per-epoch shuffle of the training split.
        train_subset: Keep only the first this many training examples.
        test_subset: Keep only the first this many test examples.
        shuffle_buffer: Shuffle buffer in examples; `None` shuffles fully.
        cache: Cache decoded examples in memory after the first pass.
        input_shape: Reshape each image to this shape, such as `(784,)` for a
            dense autoencoder; `None` gives `(28, 28, 1)`.
        targets: `"labels"` for classifiers, `"inputs"` for autoencoders.
        noise: `None`, `"gaussian"` or `"masking"`: corrupt the inputs, never
            the targets, of every split for a denoising autoencoder; needs
            `targets="inputs"`. See `modelzoo.data.noise.corrupt_inputs`.
        noise_level: Standard deviation of gaussian noise, or the fraction
            of values masked.
        options: Settings of the sequence data sets, such as `znormalize`,
            `ucr_mirror`, `sequence_steps`, `vocab_size`, `sequence_length` and
            `pad_value`; see `modelzoo.data.datasets.load_sequence_dataset`.
        verify_checksums: Check public files against their shipped SHA-256
            digests on first read (see `modelzoo.data.checksums`).

    Returns:
        `DatasetSplits(train, validation, test, info)`; `validation` is `None`
        when `validation_fraction` is 0.

    Raises:
        InputError: A split is empty or has fewer training examples than
            `batch_size` (see `modelzoo.checks.check_split_sizes`).
    """
    from modelzoo.data.datasets import is_sequence_dataset, load_sequence_dataset

    if is_sequence_dataset(name):
        if noise is not None:
            raise ConfigError(
                f"data.noise={noise!r} applies to the image data sets only; dataset {name!r} "
                "is a sequence data set. Set data.noise to null."
            )
        if targets != "labels":
            raise ConfigError(
                f"Dataset {name!r} yields labelled sequences; targets={targets!r} is only "
                "available for the image data sets."
            )
        return load_sequence_dataset(
            name, data_dir=data_dir, source=source, download=download, batch_size=batch_size,
            validation_fraction=validation_fraction, split_seed=split_seed, seed=seed,
            train_subset=train_subset, test_subset=test_subset, shuffle_buffer=shuffle_buffer,
            cache=cache, input_shape=input_shape, verify_checksums=verify_checksums,
            **(options or {}),
        )
    if name not in IMAGE_DATASETS:
        import difflib

        close = difflib.get_close_matches(name, list_datasets(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(list_datasets())}."
        )
    if targets not in ("labels", "inputs"):
        raise ConfigError(f"targets must be 'labels' or 'inputs'; received {targets!r}.")
    check_noise(noise, noise_level, targets)

    arrays = load_image_arrays(name, data_dir=data_dir, source=source, download=download,
                               verify_checksums=verify_checksums)
    x_train, y_train = arrays.x_train, arrays.y_train
    x_test, y_test = arrays.x_test, arrays.y_test
    if train_subset is not None:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    if test_subset is not None:
        x_test, y_test = x_test[:test_subset], y_test[:test_subset]

    train_index, validation_index = split_indices(len(x_train), validation_fraction, split_seed)
    check_split_sizes(
        num_train=len(train_index), num_validation=len(validation_index), num_test=len(x_test),
        batch_size=batch_size, validation_fraction=validation_fraction, dataset=name,
    )
    input_shape = tuple(input_shape) if input_shape is not None else (28, 28, 1)
    if math.prod(input_shape) != 28 * 28:
        raise ConfigError(
            f"input_shape {input_shape} does not hold a 28x28 image "
            f"({math.prod(input_shape)} values instead of 784)."
        )
    make = lambda x, y, shuffle: make_image_pipeline(  # noqa: E731
        x, y, batch_size=batch_size, shuffle=shuffle, seed=seed, shuffle_buffer=shuffle_buffer,
        cache=cache, input_shape=input_shape, targets=targets, noise=noise,
        noise_level=noise_level,
    )
    train = make(x_train[train_index], y_train[train_index], True)
    validation = (
        make(x_train[validation_index], y_train[validation_index], False)
        if len(validation_index) else None
    )
    test = make(x_test, y_test, False)

    info = DatasetInfo(
        name=name,
        source=arrays.source,
        num_train=len(train_index),
        num_validation=len(validation_index),
        num_test=len(x_test),
        input_shape=input_shape,
        num_classes=len(IMAGE_DATASETS[name].class_names),
        class_names=IMAGE_DATASETS[name].class_names,
        validation_fraction=validation_fraction,
    )
    logger.info(
        "Dataset %s: %d train, %d validation, %d test examples, input shape %s (source: %s)",
        name, info.num_train, info.num_validation, info.num_test, input_shape, info.source,
    )
    return DatasetSplits(train, validation, test, info)


def split_indices(count: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split `range(count)` into sorted training and validation indices.

    The validation part is the first `round(count * fraction)` positions of
    a permutation drawn with `seed`, so the split depends only on `count`,
    `fraction` and `seed`, and the two parts never overlap.
    """
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(
            f"validation_fraction must be in [0, 1); received {fraction!r}."
        )
    permutation = np.random.default_rng(seed).permutation(count)
    num_validation = int(round(count * fraction))
    validation = np.sort(permutation[:num_validation])
    train = np.sort(permutation[num_validation:])
    return train, validation


def make_image_pipeline(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    shuffle_buffer: int | None = None,
    cache: bool = True,
    input_shape: Sequence[int] = (28, 28, 1),
    targets: str = "labels",
    noise: str | None = None,
    noise_level: float = 0.0,
):
    """Return a batched, prefetched `tf.data.Dataset` of scaled images.

    The images are reshaped to `input_shape` once, in NumPy. uint8 pixels
    (from every source) stay uint8 in memory, a quarter of the float32 size,
    and each gathered batch is cast to float32 and divided by 255 in one
    vectorized step, which gives the same values as scaling in NumPy. Other
    dtypes are scaled in NumPy before the pipeline is built (integers divided
    by 255, floats only cast). See `batched_array_pipeline`.

    With `targets="inputs"`, each batch is `(images, images)`: one tensor
    used twice, not a copy. With `noise`, the inputs are corrupted after
    batching; the training split (`shuffle=True`) gets new noise on each
    pass and other splits the same noise on every pass.

    `cache` is accepted for compatibility and changes nothing, because the
    decoded arrays already live in memory.
    """
    import tensorflow as tf

    input_shape = tuple(input_shape)
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.reshape((len(images), *input_shape))
        divisor = 255.0
    else:
        images = scale_images(images, input_shape)
        divisor = None
    dataset = batched_array_pipeline(
        images, labels.astype(np.int32), batch_size=batch_size, shuffle=shuffle, seed=seed,
        shuffle_buffer=shuffle_buffer, divisor=divisor, targets_are_inputs=targets == "inputs",
    )
    if noise is not None:
        check_noise(noise, noise_level, targets)
        dataset = corrupt_inputs(dataset, noise=noise, noise_level=noise_level, seed=seed,
                                 fresh=shuffle)
    return dataset.prefetch(tf.data.AUTOTUNE)


def scale_images(images: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """Return `images` as float32 of shape `(N, *input_shape)`, integers divided by 255."""
    images = np.asarray(images)
    scaled = images.astype(np.float32)
    if np.issubdtype(images.dtype, np.integer):
        scaled /= 255.0
    return scaled.reshape((len(images), *tuple(input_shape)))


def batched_array_pipeline(
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    shuffle_buffer: int | None = None,
    divisor: float | None = None,
    targets_are_inputs: bool = False,
):
    """Return a `tf.data.Dataset` of `(x, y)` batches gathered from in-memory arrays.

    The elements of the pipeline are batches of indices, never single
    examples, so its cost per epoch grows with the number of batches:

    - full shuffle (`shuffle_buffer` None): each pass draws one permutation
      of all indices with `tf.random.experimental.stateless_shuffle`, from a
      seed that a seeded `Dataset.random` stream renews on every pass;
    - `shuffle_buffer` B: `range(N)` through `shuffle(B)`, the same orders
      as a buffer of B examples, at a cost per index;
    - no shuffle: consecutive slices.

    Each batch is then one `tf.gather` from `x` and one from `y`; with
    `divisor`, the `x` batch is cast to float32 and divided by it. With
    `targets_are_inputs`, each element is `(x_batch, x_batch)`, one tensor
    used twice, and `y` may be None. The last batch may be smaller than
    `batch_size`. Not prefetched; the caller adds `prefetch`.
    """
    import tensorflow as tf

    if y is None and not targets_are_inputs:
        raise ValueError("batched_array_pipeline received y=None; pass the targets as y, or "
                         "targets_are_inputs=True for (x, x) batches")
    count = len(x)
    features = tf.constant(x)
    targets = None if targets_are_inputs else tf.constant(y)
    num_batches = -(-count // batch_size)
    batch_lengths = tf.constant(
        [batch_size] * (count // batch_size) + ([count % batch_size] if count % batch_size else []),
        dtype=tf.int64,
    )

    def batch_positions(order):
        # A ragged split of `order` into rows of `batch_lengths` yields each
        # batch's indices without a `map` over the batch numbers. The lengths
        # sum to `count` by construction, so the split skips its validation
        # ops, which cost about 25 ms each time an epoch's iterator starts.
        rows = tf.RaggedTensor.from_row_lengths(order, batch_lengths, validate=False)
        return tf.data.Dataset.from_tensor_slices(rows)

    if shuffle and shuffle_buffer is None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
        orders = seeds.map(lambda draw: tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([draw, tf.constant(seed, tf.int64)])))
        # flat_map hides the number of batches, which Keras needs to show
        # progress and to avoid an end-of-data check after every step.
        indices = orders.flat_map(batch_positions).apply(
            tf.data.experimental.assert_cardinality(num_batches))
    elif shuffle:
        indices = tf.data.Dataset.range(count).shuffle(
            shuffle_buffer, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    else:
        indices = batch_positions(tf.range(count, dtype=tf.int64))

    def gather(index):
        inputs = tf.gather(features, index)
        if divisor is not None:
            inputs = tf.cast(inputs, tf.float32) / divisor
        if targets_are_inputs:
            return inputs, inputs
        return inputs, tf.gather(targets, index)

    dataset = indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return without_default_rewrites(dataset)


def without_default_rewrites(dataset):
    """Turn off tf.data's default graph rewrites for `dataset` and return it.

    The rewrites run each time an iterator is created, that is at the start
    of every epoch. They find nothing to improve in a pipeline that already
    batches before one parallel map, as the in-memory pipelines here do.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return dataset.with_options(options)


def split_dataset(dataset, validation_fraction: float, seed: int, *, count: int | None = None):
    """Split any finite, unbatched `tf.data.Dataset` into `(train, validation)`.

    Each example's position is looked up in the same fixed permutation as
    `split_indices` uses, so the split is deterministic, the two parts never
    overlap, and together they contain every example once. A data set whose
    cardinality is unknown (a generator, a filtered file) is counted with one
    pass unless `count` is given. `validation` is `None` when the fraction is 0.
    """
    import tensorflow as tf

    if count is None:
        count = int(dataset.cardinality())
        if count == tf.data.INFINITE_CARDINALITY:
            raise ConfigError(
                "validation_fraction needs a finite data set; this one repeats forever. "
                "Split before calling repeat()."
            )
        if count < 0:
            count = int(dataset.reduce(np.int64(0), lambda total, _: total + 1))
    _, validation_index = split_indices(count, validation_fraction, seed)
    if not len(validation_index):
        return dataset, None
    is_validation = np.zeros(count, dtype=bool)
    is_validation[validation_index] = True
    table = tf.constant(is_validation)

    def select(wanted: bool):
        return (
            dataset.enumerate()
            .filter(lambda index, _: tf.equal(table[index], wanted))
            .map(lambda _, element: element)
        )

    return select(False), select(True)
